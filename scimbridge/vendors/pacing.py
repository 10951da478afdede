"""A vendor's documented rate limits, and the pacer that keeps a client within them.

Two of the five vendors document limits (docs/vendors.md, "Common to all vendors"): ACC counts, per client
id, 100 writes and 600 GETs a minute on ``construction/admin`` and answers 429 with
``Retry-After`` (Autodesk's admin rate-limits page,
https://aps.autodesk.com/en/docs/acc/v1/overview/rate-limits/admin-rate-limits/, and the APS
blog "Rate Limiting"); Rocket.Chat counts every route per
client, 10 calls a minute by default, refused calls included, and answers 429 with
``X-RateLimit-Reset`` in epoch milliseconds and no ``Retry-After`` (Rocket.Chat's
source: ``ApiClass.ts``, ``apps/meteor/server/settings/rate.ts``). A client that only learns its limit from 429s spends a refused call
per window, and on Rocket.Chat the refused call counts too. So each client declares
its limits (:class:`RateLimit`), a target may adjust them (:func:`configured_limits`),
and before every call the client asks its :class:`Pacer` how long to wait.

The pacer keeps, per bucket, a rolling log of the client's calls, so that no span of
``seconds`` ever holds more than ``calls`` of them. That satisfies the vendor however
it counts: a fixed window (Rocket.Chat's Meteor limiter) cannot hold more calls than
the rolling span that covers it. It also learns from the vendor's answers: a 429's
reset, or an answer saying no call remains, blocks the bucket until the reset,
whatever the log says (Rocket.Chat counts per client IP, which other clients may share).

A wait of at most :data:`SHORT_WAIT_SECONDS` is waited in place; a longer one is
raised as :class:`~scimbridge.vendors.base.VendorUnavailable` without calling the
vendor, so the batch keeps what it applied and the rest is rescheduled after the wait
(one worker serves every target: a minute's wait in place would hold up the others).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from scimbridge.vendors.base import VendorUnavailable

SHORT_WAIT_SECONDS = 2.0
"""The longest wait a call takes in place (keeping the worker's lease alive); beyond it
the call is postponed."""
MARGIN_SECONDS = 0.05
MARGIN_FRACTION = 0.01
"""The safety margin added to every window and every reset: 0.05 s plus 1 % of the
window (0.65 s on a minute). A call is logged when its answer arrives, the latest moment
the vendor can have counted it, so transit never makes the next window start early;
what is left is the two clocks: a reset is a moment on the vendor's clock (Rocket.Chat's
epoch milliseconds, rounded up) or whole seconds (``Retry-After``), and a vendor's timer
may tick a little apart from ours."""
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
"""The methods ACC counts as writes."""


@dataclass(frozen=True)
class RateLimit:
    """One documented limit: at most ``calls`` calls in any ``seconds`` of the requests it covers."""

    name: str
    """The key a target's ``options.rate_limits`` adjusts it by."""
    calls: int
    seconds: float
    methods: frozenset[str] = frozenset()
    """The HTTP methods it counts; empty: every method."""
    path_prefix: str = ""
    """The paths it counts (relative to the base URL); empty: every path."""
    per_route: bool = False
    """True: each method and path counts apart (Rocket.Chat); False: one count for all."""

    def __post_init__(self) -> None:
        if self.calls < 1 or self.seconds <= 0:
            raise ValueError(f"rate limit {self.name} needs at least one call in a positive window")

    def covers(self, method: str, path: str) -> bool:
        return (not self.methods or method in self.methods) and path.startswith(self.path_prefix)

    def bucket(self, method: str, path: str) -> str:
        """The count this request draws on."""
        return f"{self.name} {method} {path}" if self.per_route else self.name

    @property
    def margin(self) -> float:
        return MARGIN_SECONDS + MARGIN_FRACTION * self.seconds

    def describe(self) -> str:
        scope = "per route" if self.per_route else "shared"
        return f"{self.name}: {self.calls} calls per {self.seconds:g} s, {scope}"


def configured_limits(
    target: str, declared: Iterable[RateLimit], option: Any
) -> tuple[RateLimit, ...]:
    """The declared limits as a target's ``options.rate_limits`` adjusts them.

    The option maps a declared limit's name to ``{calls, seconds}`` (either or both: a
    Rocket.Chat admin sets ``API_Enable_Rate_Limiter_Limit_Calls_Default`` and
    ``…_Time_Default`` apart) or to ``false`` (the account is exempt, as Rocket.Chat's
    ``api-bypass-rate-limit`` makes it: the client no longer paces that limit).

    :raises ValueError: naming the target and the option, for anything else.
    """
    limits = {limit.name: limit for limit in declared}
    if option is None:
        return tuple(limits.values())
    where = f"target {target}: options.rate_limits"
    names = ", ".join(limits) or "none: this vendor documents no rate limit"
    if not isinstance(option, Mapping):
        raise ValueError(f"{where} must map a rate limit's name ({names}) to {{calls, seconds}}")
    for name, value in option.items():
        if name not in limits:
            raise ValueError(f"{where}.{name}: unknown rate limit; known: {names}")
        if value is False:
            del limits[name]
        else:
            limits[name] = adjusted(limits[name], value, f"{where}.{name}")
    return tuple(limits.values())


def adjusted(limit: RateLimit, value: Any, where: str) -> RateLimit:
    if not isinstance(value, Mapping) or not value or set(value) - {"calls", "seconds"}:
        raise ValueError(f"{where} must be false or a mapping of calls and/or seconds")
    calls, seconds = value.get("calls", limit.calls), value.get("seconds", limit.seconds)
    if isinstance(calls, bool) or not isinstance(calls, int) or calls < 1:
        raise ValueError(f"{where}.calls must be a whole number of at least 1")
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds <= 0:
        raise ValueError(f"{where}.seconds must be a positive number")
    return replace(limit, calls=calls, seconds=float(seconds))


class Pacer:
    """Keeps one client's calls within its rate limits (a client is used by one thread)."""

    def __init__(
        self,
        limits: Iterable[RateLimit],
        owner: str,
        clock: Callable[[], float] = time.monotonic,
    ):
        """:param owner: the vendor, for messages.
        :param clock: seconds on a clock that never goes back."""
        self.limits = tuple(limits)
        self.owner = owner
        self.clock = clock
        self._calls: dict[str, deque[float]] = {}
        """Per bucket, when the latest calls were answered (only the last ``calls`` matter)."""
        self._blocked: dict[str, float] = {}
        """Per bucket, when the vendor said calls may resume."""

    def longest_window(self) -> float:
        """The longest window of the limits, margin included: no call that only its rate
        limits hold back waits longer (a 429's reset may)."""
        return max((limit.seconds + limit.margin for limit in self.limits), default=0.0)

    def divided(self, shares: int) -> Pacer:
        """A pacer for one of ``shares`` clients of the same tenant: each limit's calls
        divided among them (at least one each; a limit of fewer calls than shares is then
        exceeded, which ``delivery.concurrency`` documents)."""
        if shares <= 1:
            return self
        limits = [replace(limit, calls=max(1, limit.calls // shares)) for limit in self.limits]
        return Pacer(limits, self.owner, self.clock)

    def buckets(self, method: str, path: str) -> list[tuple[RateLimit, str]]:
        return [
            (limit, limit.bucket(method, path))
            for limit in self.limits
            if limit.covers(method, path)
        ]

    def admit(
        self,
        method: str,
        path: str,
        wait: Callable[[float], None],
        longest_wait: float = SHORT_WAIT_SECONDS,
    ) -> None:
        """Return once the call may go: at once, or after ``wait`` (a short wait).

        :raises VendorUnavailable: without calling the vendor, when the call would have to
            wait longer than ``longest_wait``; ``retry_after`` is that wait.
        :raises Interrupted: from ``wait`` (the worker's lease or shutdown).
        """
        seconds, why = self.delay(method, path)
        if seconds <= 0:
            return
        if seconds > longest_wait:
            raise VendorUnavailable(
                f"{self.owner}: {method} {path} must wait {seconds:.1f} s for the rate limit "
                f"({why})",
                retry_after=seconds,
            )
        wait(seconds)

    def delay(self, method: str, path: str) -> tuple[float, str]:
        """How long the call must wait, and which limit makes it wait."""
        now = self.clock()
        longest, why = 0.0, ""
        for limit, key in self.buckets(method, path):
            free, reason = self._free_at(limit, key, self._calls.get(key, ()), now)
            if free - now > longest:
                longest, why = free - now, reason
        return longest, why

    def fits(
        self, method: str, path: str, calls: int, longest_wait: float = SHORT_WAIT_SECONDS
    ) -> bool:
        """Whether ``calls`` more such calls can go now, one after the other, none waiting
        longer than ``longest_wait``: a client plans a sequence it cannot finish otherwise
        (a listing postponed half-way starts over, and would never end)."""
        moment = self.clock()
        buckets = self.buckets(method, path)
        logs = {key: list(self._calls.get(key, ())) for _, key in buckets}
        for _ in range(calls):
            frees = (self._free_at(limit, key, logs[key], moment)[0] for limit, key in buckets)
            free = max(frees, default=moment)
            if free - moment > longest_wait:
                return False
            moment = free
            for log in logs.values():
                log.append(moment)
        return True

    def sent(self, method: str, path: str) -> None:
        """Log a call that reached the vendor (or may have: a timeout), answered now."""
        now = self.clock()
        for limit, key in self.buckets(method, path):
            self._calls.setdefault(key, deque(maxlen=limit.calls)).append(now)

    def block(self, method: str, path: str, seconds: float | None) -> None:
        """The vendor refused the call (429) or said none remains: no call before ``seconds``
        from now; without a reset, one whole window (the rolling log's own promise).

        :param seconds: the reset as the client honours it, capped at the target's
            ``delivery.give_up_after_seconds`` (``HttpVendorClient.vendor_wait``): a vendor's
            far-off reset never blocks a limit for longer than an entry waits for it.
        """
        now = self.clock()
        for limit, key in self.buckets(method, path):
            until = now + (limit.seconds if seconds is None else seconds) + limit.margin
            self._blocked[key] = max(self._blocked.get(key, until), until)

    def _free_at(
        self, limit: RateLimit, key: str, log: Sequence[float], now: float
    ) -> tuple[float, str]:
        """When one more call of this bucket fits: the vendor's reset, and the oldest of the
        last ``calls`` calls a whole window (and the margin) ago."""
        free, why = now, ""
        blocked = self._blocked.get(key, now)
        if blocked > free:
            free, why = blocked, f"{limit.name}: the vendor's reset"
        if len(log) >= limit.calls:
            window = log[-limit.calls] + limit.seconds + limit.margin
            if window > free:
                free, why = window, limit.describe()
        return free, why
