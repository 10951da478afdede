"""The pieces of state every emulator shares: issued tokens, queued faults, rate-limit
counters, the request log.

They are plain, thread-safe-by-their-owner objects: the emulator serialises
requests on one lock (see :mod:`scimbridge_emulators.base`), and the test
controls take the same lock.
"""

from __future__ import annotations

import enum
import hmac
import secrets
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

SECRET_KEYS = frozenset({"password", "client_secret", "auth_token", "token"})
"""Keys whose values the request log never keeps (compared case-insensitively)."""


def same_secret(given: str | None, expected: str | None) -> bool:
    """Compare two secrets in constant time; a missing value never matches."""
    if not given or not expected:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


class TokenStatus(enum.Enum):
    VALID = "valid"
    EXPIRED = "expired"
    UNKNOWN = "unknown"


@dataclass
class Token:
    value: str
    scopes: frozenset[str]
    expires_at: float
    """On the :func:`time.monotonic` clock; ``-inf`` once expired on demand."""


class TokenStore:
    """Tokens the emulator issued, each with an expiry.

    ``sliding`` extends a token's life on every successful use, as Aria
    Operations does ("set to 6 hours from the last call", VCF Operations API).
    """

    def __init__(self, ttl_seconds: float | None, sliding: bool = False):
        """:param ttl_seconds: None where the vendor issues no tokens (a static key)."""
        self._ttl_seconds = ttl_seconds
        self.sliding = sliding
        self._tokens: list[Token] = []

    @property
    def ttl_seconds(self) -> float:
        """How long a token lives.

        :raises ValueError: for an emulator whose vendor issues no tokens.
        """
        if self._ttl_seconds is None:
            raise ValueError("this emulator issues no tokens: it sets no token_ttl_seconds")
        return self._ttl_seconds

    def issue(self, scopes: frozenset[str] = frozenset(), value: str | None = None) -> Token:
        token = Token(
            value=value or secrets.token_urlsafe(24),
            scopes=scopes,
            expires_at=time.monotonic() + self.ttl_seconds,
        )
        self._tokens.append(token)
        return token

    def find(self, value: str | None) -> Token | None:
        if not value:
            return None
        return next((token for token in self._tokens if same_secret(value, token.value)), None)

    def check(self, value: str | None) -> tuple[TokenStatus, Token | None]:
        token = self.find(value)
        if token is None:
            return TokenStatus.UNKNOWN, None
        now = time.monotonic()
        if token.expires_at <= now:
            return TokenStatus.EXPIRED, token
        if self.sliding:
            token.expires_at = now + self.ttl_seconds
        return TokenStatus.VALID, token

    def revoke(self, value: str) -> None:
        self._tokens = [token for token in self._tokens if not same_secret(value, token.value)]

    def expire_all(self) -> None:
        for token in self._tokens:
            token.expires_at = float("-inf")

    def clear(self) -> None:
        self._tokens.clear()


AFTER_MODES = ("timeout", "disconnect")
"""What a fault may do once the request was served: hold the answer back, or drop it."""


@dataclass
class Fault:
    """A misbehaviour to play on the next ``times`` requests whose path contains ``path``
    and, when ``method`` is given, whose method is ``method`` (a create and a listing may
    share a path: ``method="POST"`` aims at the create only).

    ``status`` answers with that status in the vendor's error shape (with the
    vendor's rate-limit headers for 429). ``delay`` alone sleeps first; without
    a status the request is then served normally, so a client that timed out
    meets a vendor that did the work anyway, which is what makes blind retries
    of import POSTs dangerous.

    ``after`` plays the other half of that story, where the vendor is fast but
    the answer never arrives: the request is served (the write applied), then
    ``"timeout"`` holds the answer back ``delay`` seconds before sending it, and
    ``"disconnect"`` closes the connection without a byte of answer (after
    ``delay`` seconds, if one is given).
    """

    status: int | None = None
    retry_after: float | None = None
    delay: float | None = None
    times: int = 1
    path: str | None = None
    after: str | None = None
    method: str | None = None

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method.upper() != method.upper():
            return False
        return self.path is None or self.path in path

    def check(self) -> None:
        """:raises ValueError: for a fault that cannot be played as asked."""
        if self.times < 1:
            raise ValueError("a fault must play at least once")
        if self.after is None:
            if self.status is None and self.delay is None:
                raise ValueError("a fault needs a status, a delay or both")
            return
        if self.after not in AFTER_MODES:
            raise ValueError(f"after must be one of {', '.join(AFTER_MODES)}")
        if self.status is not None:
            raise ValueError("after serves the request, so it cannot answer a status too")
        if self.after == "timeout" and self.delay is None:
            raise ValueError('after="timeout" needs the delay to hold the answer back')


class FaultQueue:
    def __init__(self) -> None:
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> None:
        fault.check()
        self._faults.append(fault)

    def take(self, method: str, path: str) -> Fault | None:
        """The first queued fault for this request, counted as played once."""
        for fault in self._faults:
            if fault.matches(method, path):
                fault.times -= 1
                if fault.times == 0:
                    self._faults.remove(fault)
                return fault
        return None

    def clear(self) -> None:
        self._faults.clear()


@dataclass(frozen=True)
class Quota:
    """A vendor's documented rate limit for one kind of call."""

    calls: int
    seconds: float
    sliding: bool = False
    """False: fixed windows, the count starting over when a window ends. True: any
    span of ``seconds`` holds at most ``calls`` calls (a rolling log)."""

    def __post_init__(self) -> None:
        if self.calls < 1 or self.seconds <= 0:
            raise ValueError("a rate limit needs at least one call in a positive time window")


@dataclass(frozen=True)
class QuotaCheck:
    """The limiter's verdict on one call, with what the vendor's headers report."""

    allowed: bool
    limit: int
    remaining: int
    wait_seconds: float
    """Until the window frees: when the next call would be allowed."""


class RateLimiter:
    """Counts calls per key against a :class:`Quota`.

    Every call counts, a refused one included: Meteor's ``RateLimiter``, behind
    Rocket.Chat's REST limiter, increments before it checks, and where a vendor
    is silent that is the less convenient reading (a client that retries early
    only digs deeper).
    """

    def __init__(self) -> None:
        self._calls: dict[str, list[float]] = {}
        """Per key, the times (``time.monotonic``) of the calls that still count;
        for a fixed window the first one is when the window opened."""

    def hit(self, key: str, quota: Quota) -> QuotaCheck:
        now = time.monotonic()
        calls = self._current(key, quota, now)
        calls.append(now)
        allowed = len(calls) <= quota.calls
        return QuotaCheck(
            allowed=allowed,
            limit=quota.calls,
            remaining=max(quota.calls - len(calls), 0),
            wait_seconds=self._wait(calls, quota, now, allowed),
        )

    def _current(self, key: str, quota: Quota, now: float) -> list[float]:
        calls = self._calls.setdefault(key, [])
        if quota.sliding:
            calls[:] = [at for at in calls if at > now - quota.seconds]
        elif calls and calls[0] <= now - quota.seconds:
            calls.clear()
        return calls

    @staticmethod
    def _wait(calls: list[float], quota: Quota, now: float, allowed: bool) -> float:
        """A fixed window frees when it ends; a rolling log when enough calls age out
        that one more fits (the oldest one, for a call that was allowed)."""
        if not quota.sliding:
            return calls[0] + quota.seconds - now
        freeing = 0 if allowed else len(calls) - quota.calls
        return calls[freeing] + quota.seconds - now

    def clear(self) -> None:
        self._calls.clear()


def redact(document: Any) -> Any:
    """A copy of a JSON document with secret values replaced, for the request log."""
    if isinstance(document, dict):
        return {
            key: "***" if str(key).lower() in SECRET_KEYS else redact(value)
            for key, value in document.items()
        }
    if isinstance(document, list):
        return [redact(item) for item in document]
    return document


RATE_LIMIT_HEADERS = (
    "Retry-After",
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
)
"""The answer headers the request log keeps: what the vendor told the client about its limit."""


@dataclass
class LoggedRequest:
    method: str
    path: str
    endpoint: str
    """The route that served it, e.g. ``POST /api/v1/import.run``; ``unrouted`` for a 404."""
    query: dict[str, str]
    json: Any
    at: float = field(default_factory=time.time)
    """When it arrived (epoch seconds, the clock of ``X-RateLimit-Reset``), before any lock."""
    status: int | None = None
    limit_headers: dict[str, str] = field(default_factory=dict)
    """The answer's :data:`RATE_LIMIT_HEADERS` (a 429's reset), so tests can check a client
    waited it out."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "path": self.path,
            "endpoint": self.endpoint,
            "query": self.query,
            "json": self.json,
            "at": self.at,
            "status": self.status,
            "limit_headers": self.limit_headers,
        }


@dataclass
class RequestLog:
    entries: list[LoggedRequest] = field(default_factory=list)

    def record(self, entry: LoggedRequest) -> None:
        self.entries.append(entry)

    def matching(self, path_contains: str | None = None) -> list[dict[str, Any]]:
        return [
            entry.as_dict()
            for entry in self.entries
            if path_contains is None or path_contains in entry.path
        ]

    def counts(self) -> Counter[str]:
        """How many requests each endpoint received (the test of "1,000 users in 5 requests")."""
        return Counter(entry.endpoint for entry in self.entries)

    def clear(self) -> None:
        self.entries.clear()
