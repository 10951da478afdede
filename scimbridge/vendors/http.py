"""What every vendor client does the same way over HTTP.

One place decides how a vendor's answer is read, so that the five clients only
state what differs (their paths, bodies and tokens):

- every call carries a timeout and the client's auth headers, and goes only to the
  URL it names: a 3xx is a refusal naming the host it points to, never followed, so
  no credential header reaches another host and no other host's answer is read;
- before every call the worker's lease on the batch is checked (a stopping worker, or
  one that lost its lease, sends nothing more), and renewed while the call is in flight;
- a 401 renews the credentials once and repeats the call once; a 401 to that call, or a
  401 or 403 to the login itself, refuses the bridge's own credentials
  (:class:`~scimbridge.vendors.base.CredentialsRefused`);
- every call is paced to the vendor's documented rate limits (:mod:`.pacing`):
  a short wait is waited, a longer one postpones the call without sending it;
- a 429, a 5xx, a timeout or a refused connection raises
  :class:`~scimbridge.vendors.base.VendorUnavailable`, with the wait the vendor
  asked for (``Retry-After``, RFC 9110 §10.2.3, or a vendor's own header), capped at
  ``delivery.give_up_after_seconds`` (:func:`~scimbridge.vendors.base.honoured_wait`);
  a 429's reset also holds back the next calls the same limit counts;
- any other 4xx raises :class:`VendorRejected`, which the clients turn into a
  per-item failure that will not be retried;
- no message built here ever holds a credential or a token (:meth:`HttpVendorClient.redact`).
"""

from __future__ import annotations

import base64
import logging
import time
from abc import abstractmethod
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from functools import partial
from typing import Any, ClassVar, Generic, TypeVar
from urllib.parse import urljoin, urlsplit

import requests

from scimbridge.config import Target
from scimbridge.vendors.base import (
    CredentialsRefused,
    DeliveryItem,
    Interrupted,
    Outcome,
    VendorClient,
    VendorError,
    VendorUnavailable,
    honoured_wait,
)
from scimbridge.vendors.pacing import SHORT_WAIT_SECONDS, Pacer, RateLimit, configured_limits
from scimbridge.vendors.settings import Setting, Settings

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

ERROR_TEXT_KEYS = ("error", "message", "developerMessage", "Message", "errorMessage", "detail")
"""Where the five vendors put their error text (Confide and Rocket.Chat ``error``, Aria
``message``, APS ``developerMessage``, ASP.NET/CloudShell ``Message``)."""
MAX_ERROR_TEXT = 300
CREDENTIAL_REFUSALS = frozenset({401, 403})
"""Statuses of a login or token request that refuse the bridge's own credentials
(:class:`~scimbridge.vendors.base.CredentialsRefused`): RFC 9110 §15.5.2 and §15.5.4."""
PAYLOAD_REJECTIONS = frozenset({400, 409, 422})
"""Statuses that blame the payload, so one bad user may be the cause: worth isolating."""


class VendorRejected(VendorError):
    """The vendor refused a request for good (a 4xx other than 401 and 429)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def retry_after_seconds(response: requests.Response, now: datetime | None = None) -> float | None:
    """The wait ``Retry-After`` asks for: delay-seconds or an HTTP-date (RFC 9110 §10.2.3)."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    if value.isascii() and value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - (now or datetime.now(UTC))).total_seconds())


def redirect_refused(response: requests.Response, request: str, setting: str) -> str:
    """Why a 3xx answer to ``request`` is refused, naming the host its ``Location`` points to.

    Only the host and port are named: a Location's path and query may carry a token. A
    vendor API documents no redirect; following one would send the credential headers
    requests keeps on another host (Rocket.Chat's ``X-Auth-Token``, ACC's ``User-Id``) and
    read that host's answer as the vendor's, so the configured ``setting`` is to be fixed.
    """
    location = response.headers.get("Location", "").strip()
    target = "a redirect without a Location"
    if location:
        parts = urlsplit(urljoin(response.url, location))
        host = parts.hostname or "?"
        host = f"[{host}]" if ":" in host else host
        try:
            port = parts.port
        except ValueError:
            port = None
        target = f"a redirect to {host}:{port}" if port else f"a redirect to {host}"
    return (
        f"{request} answered HTTP {response.status_code}, {target}; "
        f"vendor calls never follow redirects (check the target's {setting})"
    )


def exhausted(response: requests.Response) -> bool:
    """Whether the vendor says no call remains before its limit resets (Rocket.Chat's
    ``X-RateLimit-Remaining: 0``, sent with every counted answer)."""
    return response.headers.get("X-RateLimit-Remaining", "").strip() == "0"


def error_text(response: requests.Response, keys: Sequence[str] = ERROR_TEXT_KEYS) -> str:
    """The vendor's own words about a failure (the first of ``keys`` its JSON object holds
    as text), or the start of its body."""
    try:
        document = response.json()
    except ValueError:
        document = None
    if isinstance(document, dict):
        for key in keys:
            if isinstance(text := document.get(key), str) and text:
                return text
    if isinstance(document, list) and document:
        return "; ".join(str(entry) for entry in document)[:MAX_ERROR_TEXT]
    return response.text.strip()[:MAX_ERROR_TEXT] or response.reason or "no details"


def json_of(response: requests.Response) -> Any:
    """The JSON body of a successful answer; a vendor answering garbage is unavailable."""
    try:
        return response.json()
    except ValueError:
        raise VendorUnavailable(
            f"HTTP {response.status_code} answer is not JSON as documented"
        ) from None


def json_object(response: requests.Response) -> dict[str, Any]:
    """The JSON object every documented answer but a login's is."""
    document = json_of(response)
    if not isinstance(document, dict):
        raise VendorUnavailable(f"HTTP {response.status_code} answer is not a JSON object")
    return document


POLL_STEPS = 3
"""How many times a poll's wait doubles before it reaches the interval: 1/8, 1/4, 1/2, 1."""


def poll_waits(interval: float) -> Iterator[float]:
    """The waits between an asynchronous job's polls: ``interval`` / 8, / 4, / 2, then
    ``interval`` for good. A poll costs the vendor one read, well within every documented
    limit, where a whole interval sat out per job costs the batch its time."""
    for step in range(POLL_STEPS, 0, -1):
        yield interval / 2**step
    while True:
        yield interval


def chunked(items: Sequence[T], size: int) -> Iterator[list[T]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def succeeded(item: DeliveryItem, vendor_id: str | None, **details: Any) -> Outcome:
    return Outcome(key=item.key, ok=True, vendor_id=vendor_id, details=details)


def failed(
    item: DeliveryItem,
    error: str,
    retryable: bool = False,
    retry_after: float | None = None,
    **details: Any,
) -> Outcome:
    return Outcome(
        key=item.key,
        ok=False,
        vendor_id=item.vendor_id,
        error=error,
        retryable=retryable,
        retry_after=retry_after,
        details=details,
    )


def postponed(item: DeliveryItem, unavailable: VendorUnavailable) -> Outcome:
    """An item not (fully) sent because the vendor is unavailable or asked to wait (a 429,
    in mid-batch too): retried later, uncounted, while items settled before it keep
    their outcomes."""
    return failed(item, str(unavailable), retryable=True, retry_after=unavailable.retry_after)


def nothing_to_deprovision(item: DeliveryItem) -> Outcome:
    """A user the vendor never accepted has nothing to disable or remove there."""
    return succeeded(item, None, skipped="the vendor never had this user")


def compact(record: dict[str, Any]) -> dict[str, Any]:
    """The record without empty values: a vendor reads ``"id": null`` as an id."""
    return {key: value for key, value in record.items() if value is not None}


DIRECTORY_MAX_AGE_SECONDS = 300.0
"""How long what a client read of the vendor's accounts serves a run by default
(``options.directory_max_age_seconds``)."""


class RunDirectory(Generic[T]):
    """What a client knows of the vendor's accounts for one delivery run (ACC's members,
    Rocket.Chat's users): read once, kept current by the client with what it writes and
    confirms, and forgotten when it may be stale. :class:`HttpVendorClient` forgets it
    when it is older than ``options.directory_max_age_seconds`` (others may have written
    since), when a write's answer was not read (:meth:`HttpVendorClient.call`: the vendor
    may have applied it), and when the run ends (:meth:`HttpVendorClient.run_ended`); a
    client forgets it where it learns more (an import reporting conflicts)."""

    def __init__(self, max_age: float):
        self.max_age = max_age
        self._value: T | None = None
        self._read_at = 0.0

    def fresh(self) -> T | None:
        """The directory, unless none was read or it is older than :attr:`max_age`."""
        if self._value is not None and time.monotonic() - self._read_at > self.max_age:
            self._value = None
        return self._value

    def keep(self, value: T, read_at: float) -> T:
        """``value``, read from the vendor at ``read_at`` (:func:`time.monotonic`, taken
        before the read), serves the run from now on."""
        self._value, self._read_at = value, read_at
        return value

    def forget(self) -> None:
        self._value = None


@dataclass
class Isolated(Generic[T, R]):
    """The sub-batches a vendor accepted (with its answers) and the items it refused alone."""

    accepted: list[tuple[list[T], R]] = field(default_factory=list)
    rejected: list[tuple[T, VendorRejected]] = field(default_factory=list)


def send_isolating(
    batch: list[T],
    send: Callable[[list[T]], R],
    payload_rejections: Collection[int] = PAYLOAD_REJECTIONS,
) -> Isolated[T, R]:
    """Send the batch; when the vendor refuses its payload, halve it until the bad items stand alone.

    Confide, ACC, Aria and Rocket.Chat (``import.addUsers``) refuse a whole request
    for one bad user (their import references; Rocket.Chat's "Add Users" notes 1 and 3; for Aria
    an assumption, undocumented): bisecting costs about
    2·log2(n) extra calls per bad user and lets every good user through.
    A refusal that does not blame the payload (403, 404, …) fails the whole batch at once.
    """
    try:
        return Isolated(accepted=[(batch, send(batch))])
    except VendorRejected as rejection:
        if len(batch) == 1 or rejection.status not in payload_rejections:
            return Isolated(rejected=[(item, rejection) for item in batch])
    middle = len(batch) // 2
    first = send_isolating(batch[:middle], send, payload_rejections)
    second = send_isolating(batch[middle:], send, payload_rejections)
    return Isolated(first.accepted + second.accepted, first.rejected + second.rejected)


def polling(interval_seconds: float = 2.0, polls: int = 150) -> Settings:
    """The options of an asynchronous job's status polls, with the vendor's defaults: a
    client whose vendor wants other defaults adds ``polling(…)`` to its flavour's settings."""
    return Settings(
        options=(
            Setting(
                "poll_interval_seconds",
                "Seconds between two status polls of an asynchronous job (the first polls "
                "come sooner: 1/8, 1/4, 1/2 of it).",
                float,
                default=interval_seconds,
                minimum=0,
            ),
            Setting(
                "max_polls",
                "How many status polls before the job is given up for now and retried.",
                int,
                default=polls,
                minimum=0,
            ),
        )
    )


class HttpVendorClient(VendorClient):
    """A vendor client speaking JSON over a ``requests`` session, with the shared rules above.

    Subclasses provide :meth:`authenticate`, :meth:`is_authenticated`,
    :meth:`auth_headers` and :meth:`deliver_batch`.
    """

    settings = polling() + Settings(
        options=(
            Setting(
                "rate_limits",
                "Adjusts the vendor's documented rate limits: a limit's name to "
                "{calls, seconds}, or false where the account is exempt (docs, the vendor's page).",
                dict,
            ),
            Setting(
                "directory_max_age_seconds",
                "How long the vendor's accounts read once serve a delivery run before they are "
                "read again; 0 reads them for every delivery.",
                float,
                default=DIRECTORY_MAX_AGE_SECONDS,
                minimum=0,
            ),
        )
    )
    rate_limits: ClassVar[tuple[RateLimit, ...]] = ()
    """The vendor's documented rate limits; a target adjusts them with ``options.rate_limits``."""
    error_text_keys: ClassVar[tuple[str, ...]] = ERROR_TEXT_KEYS
    """The fields of the vendor's JSON error document that hold its message, tried in order
    (:func:`error_text`): a vendor answering ``{"msg": ...}`` sets ``("msg",)``."""
    account_refusals: ClassVar[frozenset[int]] = frozenset()
    """Statuses with which the vendor refuses any call the bridge's own account may not make,
    never one user's record (ACC's 403 ``ERR_ACCESS_DENIED``: a token without the scope, a
    ``User-Id`` that names no admin): :class:`CredentialsRefused`, so that the target waits
    in ``credentials refused`` rather than failing and parking every user in turn."""

    def __init__(self, target: Target, http: requests.Session | None = None):
        super().__init__(target, http)
        self.pacer = Pacer(
            configured_limits(target.name, self.rate_limits, target.options.get("rate_limits")),
            self.vendor,
        )
        """Keeps the calls within :attr:`rate_limits` (:mod:`.pacing`)."""
        self.longest_wait = SHORT_WAIT_SECONDS
        """The longest wait for a rate limit a call takes in place (:meth:`waiting_in_place`)."""
        self.poll_interval = float(self.option("poll_interval_seconds"))
        """Seconds between two status polls of an asynchronous job (``options.poll_interval_seconds``)."""
        self.max_polls = int(self.option("max_polls"))
        """How many status polls before giving the job up for now (``options.max_polls``)."""
        self.known: RunDirectory[Any] = RunDirectory(
            float(self.option("directory_max_age_seconds"))
        )
        """What the client knows of the vendor's accounts for the run, where it keeps any."""

    @property
    def base_url(self) -> str:
        return self.target.base_url.rstrip("/")

    def url(self, path: str) -> str:
        return self.base_url + path

    def resolve(self, url: str) -> str:
        """A configured URL (a token URL) made absolute: a path resolves against the base URL's host."""
        return urljoin(self.base_url + "/", url)

    # -- what subclasses provide -----------------------------------------------------------------

    @abstractmethod
    def is_authenticated(self) -> bool:
        """Whether the client holds credentials to send (else it authenticates first)."""

    def auth_headers(self) -> dict[str, str]:
        """Headers every authenticated call carries."""
        return {}

    def secrets(self) -> list[str]:
        """Every value no message may show: what :attr:`settings` declares secret (the one
        rule, :meth:`.Target.secrets`) and the tokens held."""
        return self.target.secrets()

    @abstractmethod
    def deliver_batch(self, items: list[DeliveryItem]) -> list[Outcome]:
        """Deliver at most :attr:`max_batch` items."""

    # -- shared behaviour ------------------------------------------------------------------------

    def deliver(self, items: list[DeliveryItem]) -> list[Outcome]:
        """Deliver the items, :attr:`max_batch` at a time (a larger list, up to
        :attr:`claim_size`, is split, not refused). When the vendor becomes unavailable in
        mid-list, the requests answered keep their outcomes and the items left are postponed
        with the wait it asked for (docs/architecture.md, "a 429 in mid-batch keeps what was
        applied").

        :raises VendorUnavailable: when the vendor is unavailable for the first request.
        """
        outcomes: list[Outcome] = []
        for batch in chunked(items, self.max_batch):
            try:
                outcomes += self.deliver_batch(batch)
            except VendorUnavailable as unavailable:
                if not outcomes:
                    raise
                return outcomes + [postponed(item, unavailable) for item in items[len(outcomes) :]]
        return outcomes

    def run_ended(self) -> None:
        """The next run reads the vendor's accounts afresh (:class:`RunDirectory`)."""
        self.known.forget()

    def share(self, clients: int) -> None:
        """Keep to ``1/clients`` of each rate limit, so that the target's clients together
        keep to the whole (:meth:`.pacing.Pacer.divided`)."""
        self.pacer = self.pacer.divided(clients)

    def redact(self, text: str) -> str:
        for secret in self.secrets():
            if len(secret) >= 4:
                text = text.replace(secret, "[redacted]")
        return text

    def call(
        self,
        method: str,
        path: str,
        *,
        expect: Collection[int] = (200,),
        public: bool = False,
        **kwargs: Any,
    ) -> requests.Response:
        """Send one request and return the vendor's answer when its status is in ``expect``.

        :param public: a call that needs no token (a login): sent as is, never renewed.
        :raises VendorUnavailable: 429, 5xx, timeout, refused connection.
        :raises CredentialsRefused: a 401 that survives a fresh token.
        :raises VendorRejected: any other status outside ``expect``.

        A write that raises :class:`VendorUnavailable` or :class:`Interrupted` may have been
        applied (a timeout, a 5xx, a lease lost in flight; also a write the pacer postponed,
        which is not told apart): what the client :attr:`known` of the vendor for the run is forgotten.
        """
        try:
            return self._answered(method, path, expect, public, kwargs)
        except (VendorUnavailable, Interrupted):
            if method != "GET":
                self.known.forget()
            raise

    def written(self, response: requests.Response) -> dict[str, Any]:
        """The JSON object a write was answered with. An answer that is none hides whether
        the vendor applied the write: what the client :attr:`known` of the vendor for the run is forgotten too.

        :raises VendorUnavailable: the answer is no JSON object.
        """
        try:
            return json_object(response)
        except VendorUnavailable:
            self.known.forget()
            raise

    def _answered(
        self,
        method: str,
        path: str,
        expect: Collection[int],
        public: bool,
        kwargs: dict[str, Any],
    ) -> requests.Response:
        if not public and not self.is_authenticated():
            self.authenticate()
        response = self._send(method, path, public, kwargs)
        if response.status_code == 401 and not public:
            log.info("%s: %s %s answered 401; renewing credentials", self.vendor, method, path)
            self.authenticate()
            response = self._send(method, path, public, kwargs)
        if response.status_code in expect:
            return response
        raise self._failure(method, path, response, renewed=not public)

    def call_unless_gone(
        self, method: str, path: str, *, expect: Collection[int] = (200,), **kwargs: Any
    ) -> requests.Response | None:
        """The call, or None when the vendor answers 404: the object is gone already
        (which is what a delete wanted, and what tells an update to re-import)."""
        try:
            return self.call(method, path, expect=expect, **kwargs)
        except VendorRejected as rejection:
            if rejection.status == 404:
                return None
            raise

    def deprovision_carrying(
        self,
        method: str,
        path: str,
        profile: dict[str, Any],
        bare: dict[str, Any],
        *,
        expect: Collection[int] = (200,),
    ) -> requests.Response | None:
        """Send a deprovision that carries the user's newest profile (``profile``); when the
        vendor refuses that body, send the deprovision alone (``bare``) and log why, so the
        attributes a deprovision carries never hold it back (a value the vendor will not take,
        or a role it does not have, which some answer 404 like a missing user). None when
        the vendor no longer has the user (a 404 to the deprovision alone)."""
        try:
            return self.call(method, path, json=profile, expect=expect)
        except VendorRejected as refusal:
            log.warning(
                "%s: %s %s refused the user's new profile (%s); deprovisioning without it",
                self.vendor,
                method,
                path,
                self.redact(str(refusal)),
            )
            return self.call_unless_gone(method, path, json=bare, expect=expect)

    def _send(
        self, method: str, path: str, public: bool, kwargs: dict[str, Any]
    ) -> requests.Response:
        """One request, sent when the rate limits allow (:meth:`learn` from its answer),
        while the worker still holds the batch, to the URL it names and nowhere else.

        :raises Interrupted: before sending, when the worker is stopping or lost its lease
            (:attr:`keep_alive`), or once answered, when the lease was lost while the request
            was in flight (:meth:`renewing`).
        """
        self.pacer.admit(method, path, self.wait, self.longest_wait)
        options = {name: value for name, value in kwargs.items() if name != "headers"}
        headers = {**({} if public else self.auth_headers()), **kwargs.get("headers", {})}
        self.keep_alive()
        started = time.monotonic()
        with self.renewing():
            try:
                response = self.http.request(
                    method,
                    self.url(path),
                    headers=headers,
                    timeout=self.timeout,
                    allow_redirects=False,
                    **options,
                )
            except requests.RequestException as error:
                self.calls.answered(None, time.monotonic() - started)
                self.pacer.sent(method, path)  # a call that timed out may have been served
                raise VendorUnavailable(
                    f"{self.vendor}: {method} {path} failed: {type(error).__name__}"
                ) from None
        seconds = time.monotonic() - started
        self.calls.answered(response.status_code, seconds)
        log.debug("%s %s answered %d in %.3f s", method, path, response.status_code, seconds)
        self.learn(method, path, response)
        return response

    def learn(self, method: str, path: str, response: requests.Response) -> None:
        """What an answer tells the pacer. A call the vendor handled counts, a refused one
        too (Rocket.Chat counts before it checks, its ``ApiClass.ts``); a 503 says the vendor could
        not handle it (RFC 9110 §15.6.4), so an outage's retries do not hold back the calls
        after it. A 429, or an answer saying no call remains, blocks the limit until its reset."""
        if response.status_code != 503:
            self.pacer.sent(method, path)
        if response.status_code == 429 or exhausted(response):
            self.pacer.block(method, path, self.vendor_wait(response))

    def _failure(
        self, method: str, path: str, response: requests.Response, renewed: bool
    ) -> VendorError:
        status = response.status_code
        if 300 <= status < 400:
            refusal = redirect_refused(response, f"{self.vendor}: {method} {path}", "base_url")
            return VendorRejected(status, self.redact(refusal))
        message = self.redact(
            f"{self.vendor}: {method} {path} answered HTTP {status}: "
            f"{error_text(response, self.error_text_keys)}"
        )
        if status == 401 and renewed:
            return CredentialsRefused(f"{message} (even with renewed credentials)")
        if status in self.account_refusals:
            return CredentialsRefused(f"{message} (check the target's credentials)")
        if status == 429 or status >= 500:
            return VendorUnavailable(message, retry_after=self.vendor_wait(response))
        return VendorRejected(status, message)

    def retry_after(self, response: requests.Response) -> float | None:
        """The wait a 429 or 5xx asks for, which is also when a rate limit resets; vendors
        with their own header override this."""
        return retry_after_seconds(response)

    def vendor_wait(self, response: requests.Response) -> float | None:
        """The wait the answer asks for (:meth:`retry_after`), as the client honours it:
        capped at the target's ``delivery.give_up_after_seconds`` (:func:`honoured_wait`),
        both for the entries it postpones and for the calls its pacer holds back."""
        wait = self.retry_after(response)
        return None if wait is None else honoured_wait(wait, self.target.delivery)

    def poll(self, fetch: Callable[[], T], finished: Callable[[T], bool]) -> T | None:
        """Fetch an asynchronous job's state until ``finished`` holds, :attr:`max_polls` times
        at most; None when it never did. The waits start short and double up to
        :attr:`poll_interval` (:func:`poll_waits`): most jobs finish in well under the
        interval, and a batch should not sit out a whole one for each. The waits keep the
        worker's lease alive (:meth:`wait`), and so do a rate limit's (:meth:`waiting_in_place`)."""
        waits = poll_waits(self.poll_interval)
        with self.waiting_in_place():
            for attempt in range(self.max_polls):
                if attempt:
                    self.wait(next(waits))
                answer = fetch()
                if finished(answer):
                    return answer
        return None

    @contextmanager
    def waiting_in_place(self) -> Iterator[None]:
        """Calls made meanwhile finish what is lost when postponed half-way (polling a job the
        vendor runs, checking what it did, a listing of every user): each waits for a rate
        limit in place, up to the time the polls were given (:attr:`poll_interval` times
        :attr:`max_polls`) and at least one window of the rate limits, rather than being
        postponed, since the next round would have to start over, at a higher cost, and might
        never get to the end."""
        before = self.longest_wait
        self.longest_wait = max(
            self.poll_interval * self.max_polls, SHORT_WAIT_SECONDS, self.pacer.longest_window()
        )
        try:
            yield
        finally:
            self.longest_wait = before

    def per_item(self, item: DeliveryItem, deliver: Callable[[], R]) -> R | Outcome:
        """Run one item's calls; a refusal fails that item alone, for good."""
        try:
            return deliver()
        except VendorRejected as rejection:
            return failed(item, str(rejection))

    def settle_or_defer(
        self, items: list[DeliveryItem], settle: Callable[[DeliveryItem], Outcome | None]
    ) -> tuple[dict[str, Outcome], list[DeliveryItem]]:
        """Settle each item one by one (an update, a removal); those ``settle`` answers None
        for are left, in order, for the batch import.

        When the vendor becomes unavailable in mid-batch (a 429 after some updates), the
        items settled so far keep their outcomes and every other item, those left for the
        import included, is postponed with the wait the vendor asked for.
        """
        outcomes: dict[str, Outcome] = {}
        deferred: list[DeliveryItem] = []
        for position, item in enumerate(items):
            try:
                outcome = self.per_item(item, partial(settle, item))
            except VendorUnavailable as unavailable:
                for left in [*deferred, *items[position:]]:
                    outcomes[left.key] = postponed(left, unavailable)
                return outcomes, []
            if outcome is None:
                deferred.append(item)
            else:
                outcomes[item.key] = outcome
        return outcomes, deferred

    @staticmethod
    def import_or_postpone(
        items: list[DeliveryItem],
        deliver: Callable[[list[DeliveryItem]], dict[str, Outcome]],
        settled_before: bool,
    ) -> dict[str, Outcome]:
        """The import's outcomes, after :meth:`settle_or_defer` settled the others.

        When the vendor is unavailable for the import itself, the whole call is retried
        (:class:`VendorUnavailable`), unless items were settled before it: those keep
        their outcomes (docs/architecture.md, "a 429 in mid-batch keeps what was applied") and only
        the items to import wait.
        """
        try:
            return deliver(items)
        except VendorUnavailable as unavailable:
            if not settled_before:
                raise
            return {item.key: postponed(item, unavailable) for item in items}


class TokenLoginClient(HttpVendorClient):
    """A vendor whose login call returns a session token sent as ``Authorization: <scheme> <token>``
    (Aria ``OpsToken``, CloudShell ``Basic``); the scheme is ``credentials.token_scheme``."""

    default_token_scheme: str
    settings = HttpVendorClient.settings + Settings(
        credentials=(
            Setting(
                "token_scheme",
                "The scheme the session token is sent with (Authorization: <scheme> <token>); "
                "default: the vendor's documented one.",
            ),
        )
    )

    def __init__(self, target: Target, http: requests.Session | None = None):
        super().__init__(target, http)
        self.token: str | None = None

    @abstractmethod
    def login(self) -> str:
        """Ask the vendor for a new session token."""

    def authenticate(self) -> None:
        self.token = None
        token = self.login()
        if not token:
            raise VendorUnavailable(f"{self.vendor}: the login answer holds no token")
        self.token = token

    def login_call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """The login request: a 401 or 403 refuses the bridge's credentials
        (:class:`CredentialsRefused`); any other refusal (a redirect, which names the
        setting to check) is a configuration problem to retry later."""
        try:
            return self.call(method, path, public=True, **kwargs)
        except VendorRejected as rejection:
            if rejection.status in CREDENTIAL_REFUSALS:
                raise CredentialsRefused(f"{rejection} (check the target's credentials)") from None
            redirected = 300 <= rejection.status < 400
            hint = "" if redirected else " (check the target's credentials)"
            raise VendorUnavailable(f"{rejection}{hint}") from None

    def is_authenticated(self) -> bool:
        return self.token is not None

    def auth_headers(self) -> dict[str, str]:
        scheme = self.target.secret("token_scheme") or self.default_token_scheme
        return {"Authorization": f"{scheme} {self.token}"}

    def secrets(self) -> list[str]:
        return super().secrets() + ([self.token] if self.token else [])


class StaticCredentialsClient(HttpVendorClient):
    """A vendor that takes the same credential on every call and has no login: an API key
    sent as HTTP Basic (RFC 7617: ``credentials.username`` and ``credentials.api_key`` as the
    password), or in a header of the vendor's naming (:attr:`credential_header`). Nothing is
    fetched, so a refused key shows on the first call (a 401, repeated once)."""

    credential_header: ClassVar[str | None] = None
    """The header that carries ``credentials.api_key`` (``X-Api-Key``); None: HTTP Basic."""
    credential_prefix: ClassVar[str] = ""
    """What precedes the key in :attr:`credential_header` (``"Token "``, ``"Bearer "``)."""
    settings = HttpVendorClient.settings + Settings(
        credentials=(
            Setting("api_key", "The vendor's API key.", required=True, secret=True),
            Setting(
                "username",
                "The user name sent with the key over HTTP Basic (the key is the password).",
            ),
        )
    )

    def authenticate(self) -> None:
        """Nothing to fetch: the key is sent as it is."""

    def is_authenticated(self) -> bool:
        return True

    def auth_headers(self) -> dict[str, str]:
        key = self.target.secret("api_key") or ""
        if self.credential_header is not None:
            return {self.credential_header: self.credential_prefix + key}
        return {"Authorization": f"Basic {self._basic()}"}

    def _basic(self) -> str:
        pair = f"{self.target.secret('username') or ''}:{self.target.secret('api_key') or ''}"
        return base64.b64encode(pair.encode("utf-8")).decode("ascii")

    def secrets(self) -> list[str]:
        """The declared secrets, and the Basic credentials as they travel (base64)."""
        return [*super().secrets(), self._basic()]
