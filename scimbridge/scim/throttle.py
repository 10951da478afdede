"""Telling a client address that keeps failing to authenticate to back off (429).

A client that keeps failing (a misconfigured identity provider, a scanner) fills the
logs and should be told to back off. Each target keeps, per client address, the times
of its recent failed authentications; once an address has ``max_failures`` of them
within ``window_seconds``, each further failure from it is answered 429 with
``Retry-After`` (instead of 401, and logged at INFO instead of WARNING) until the oldest
one leaves the window.

- A valid credential is never throttled: the credentials are checked first
  (:meth:`scimbridge.scim.auth.Authenticator.authenticate`), and only a refusal is
  turned into a 429. Okta and Entra ID call from egress addresses every one of their
  tenants shares, so a throttle that refused an address outright would let anybody
  with a free tenant stop another company's provisioning (docs/inbound-auth.md, "The
  failure throttle"). What keeps a static secret from being guessed is its length (16
  characters or more, enforced by :mod:`scimbridge.config`), not this throttle: a guess
  is checked whatever the count.
- Only failures count, and only the failing address's: a success clears nothing, and
  another address's failures never slow anybody else. A request without credentials
  (a probe, a health check) is not a failure, nor is a failure answered 429.
- An IPv6 client is counted by its /64 network: one host usually holds a whole /64,
  and could otherwise take a fresh address for every try.
- Memory is bounded: at most ``max_addresses`` addresses are remembered per target;
  beyond that the one whose last failure is oldest is forgotten first.
- The client address is the peer's, or, when the peer is a trusted proxy, the ``for``
  address of the right-most ``Forwarded`` element (RFC 7239), else the right-most
  ``X-Forwarded-For`` value: the one that proxy appended. Values to its left come
  from further away, from anybody (the same rule as :mod:`scimbridge.scim.locations`).
"""

from __future__ import annotations

import ipaddress
import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Sequence

from scimbridge.scim.forwarded import last_element, node_address

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

MAX_ADDRESSES = 10_000
"""Addresses remembered per target: about 1 MB at 10 failures each."""


def _ip(value: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address((value or "").strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def client_address(
    remote_addr: str | None,
    forwarded_for: Sequence[str],
    trusted_proxies: Sequence[Network],
    forwarded: Sequence[str] = (),
) -> str | None:
    """The address a request comes from, for the failure throttle.

    :param remote_addr: the peer's address (``request.remote_addr``).
    :param forwarded_for: every ``X-Forwarded-For`` line of the request.
    :param trusted_proxies: ``BridgeConfig.trusted_proxies``.
    :param forwarded: every ``Forwarded`` line of the request (RFC 7239).
    """
    peer = _ip(remote_addr)
    if peer is None:
        return remote_addr
    if any(peer in network for network in trusted_proxies):
        element = last_element(forwarded) or {}
        values = [value for line in forwarded_for for value in line.split(",") if value.strip()]
        if "for" in element:
            client = _ip(node_address(element["for"]))
        else:
            client = _ip(values[-1]) if values else None
        if client is not None:
            return str(client)
    return str(peer)


def throttle_key(address: str) -> str:
    """What failures are counted by: the IPv4 address, or the IPv6 address's /64 network."""
    ip = _ip(address)
    if isinstance(ip, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip) if ip is not None else address


class FailureThrottle:
    """Failed authentications per client address over a sliding window; thread-safe."""

    def __init__(
        self,
        max_failures: int,
        window_seconds: float,
        *,
        max_addresses: int = MAX_ADDRESSES,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.max_failures = max_failures
        self.window_seconds = window_seconds
        self.max_addresses = max_addresses
        self._clock = clock
        self._lock = threading.Lock()
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        """Each key's recent failure times, oldest first; the key failed last at the end."""

    def retry_after(self, address: str | None) -> int | None:
        """Whole seconds until the address may try again, or None when it may try now."""
        if address is None or self.max_failures == 0:
            return None
        key = throttle_key(address)
        with self._lock:
            times = self._failures.get(key)
            if times is None or len(times) < self.max_failures:
                return None
            wait = times[0] + self.window_seconds - self._clock()
        return max(1, math.ceil(wait)) if wait > 0 else None

    def failed(self, address: str | None) -> None:
        """Count a failed authentication of the address."""
        if address is None or self.max_failures == 0:
            return
        key = throttle_key(address)
        now = self._clock()
        with self._lock:
            times = self._failures.pop(key, None)
            if times is None:
                times = deque(maxlen=self.max_failures)
            while times and times[0] <= now - self.window_seconds:
                times.popleft()
            times.append(now)
            self._failures[key] = times
            while len(self._failures) > self.max_addresses:
                self._failures.popitem(last=False)
