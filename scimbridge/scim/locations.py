"""Where identity providers reach the bridge: the origin of ``Location`` and ``meta.location``.

RFC 7644 §3.1 answers a creation with the new resource's URI in ``Location``, and
RFC 7643 §3.1 makes ``meta.location`` that URI: behind a reverse proxy that
terminates TLS, the request as the bridge sees it names neither the scheme nor the
host the identity provider called. In order:

1. a request from a peer in ``trusted_proxies`` that carries a ``Forwarded`` header
   (RFC 7239) whose right-most element names ``proto`` or ``host``: that scheme and
   host (:mod:`scimbridge.scim.forwarded`); else one that carries ``X-Forwarded-Proto``
   or ``X-Forwarded-Host``: the forwarded scheme and host. Each is the right-most
   value, the one the trusted proxy appended (values to its left come from further
   away, from anybody); ``X-Forwarded-Prefix`` (which RFC 7239 has no parameter for)
   adds a path prefix to either; a part the proxy does not forward is the request's own;
2. ``public_base_url``;
3. the request's own scheme and ``Host`` header, which the client chooses: start-up
   warns when neither setting is given.

werkzeug's ``ProxyFix`` trusts a number of hops, whoever sends them; here the
forwarded headers count only from the configured addresses.
"""

from __future__ import annotations

import ipaddress
import logging
import re
from collections.abc import Sequence

from flask import Request

from scimbridge.config import BridgeConfig
from scimbridge.scim import forwarded

log = logging.getLogger("scimbridge.scim")

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

FORWARDED_HOST = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$")
"""A host and optional port, nothing that could move the rest of a URL (``/``, ``@``, ``?``)."""

FORWARDED_PREFIX = re.compile(r"^(/[A-Za-z0-9._~!$&'()*+,;=:@%-]+)+/?$")
"""An absolute path of one or more segments."""


class Locations:
    """The origin (scheme, host and path prefix, no trailing slash) a request's locations use."""

    def __init__(self, public_base_url: str | None, trusted_proxies: Sequence[Network]):
        self.public_base_url = public_base_url
        self.trusted_proxies = list(trusted_proxies)

    @classmethod
    def of(cls, config: BridgeConfig) -> Locations:
        return cls(config.public_base_url, config.trusted_proxies)

    def warn_if_host_decides(self) -> None:
        """Warn, once at start-up, that locations follow each request's ``Host`` header."""
        if self.public_base_url is None and not self.trusted_proxies:
            log.warning(
                "neither public_base_url nor trusted_proxies is configured: Location headers "
                "and meta.location follow each request's Host header"
            )

    def origin(self, request: Request) -> str:
        forwarded = self._forwarded_origin(request) if self._from_trusted_proxy(request) else None
        if forwarded is not None:
            return forwarded
        if self.public_base_url is not None:
            return self.public_base_url
        return request.host_url.rstrip("/")

    def _from_trusted_proxy(self, request: Request) -> bool:
        try:
            peer = ipaddress.ip_address(request.remote_addr or "")
        except ValueError:
            return False
        if isinstance(peer, ipaddress.IPv6Address) and peer.ipv4_mapped is not None:
            peer = peer.ipv4_mapped
        return any(peer in network for network in self.trusted_proxies)

    def _forwarded_origin(self, request: Request) -> str | None:
        element = forwarded.last_element(request.headers.getlist("Forwarded")) or {}
        if "proto" in element or "host" in element:
            proto, host = element.get("proto"), element.get("host")
        else:
            proto = _last(request, "X-Forwarded-Proto")
            host = _last(request, "X-Forwarded-Host")
        if proto is None and host is None:
            return None
        proto = proto.lower() if proto and proto.lower() in ("http", "https") else request.scheme
        host = host if host and FORWARDED_HOST.match(host) else request.host
        prefix = _last(request, "X-Forwarded-Prefix") or ""
        prefix = prefix.rstrip("/") if FORWARDED_PREFIX.match(prefix) else ""
        return f"{proto}://{host}{prefix}"


def _last(request: Request, header: str) -> str | None:
    """The right-most value of a header, over every line of it (RFC 9110 §5.3)."""
    values = [
        value.strip()
        for line in request.headers.getlist(header)
        for value in line.split(",")
        if value.strip()
    ]
    return values[-1] if values else None
