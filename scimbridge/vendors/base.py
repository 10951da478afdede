"""What every vendor client offers the delivery worker, and what it hands back.

The worker knows nothing about any vendor: it gives a client a list of
:class:`DeliveryItem` (records the mapping already produced) and gets one
:class:`Outcome` per item. Everything vendor-specific — tokens, batch limits,
async jobs, which endpoint creates and which one updates — lives in the client.
Transient trouble that affects the whole call (429, 5xx, timeouts, a token that
cannot be renewed right now) is raised as :class:`VendorUnavailable` so that
the worker retries the whole batch later; a request the vendor will never accept
is reported per item with ``retryable=False``.
"""

from __future__ import annotations

import logging
import time
import unicodedata
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, Protocol

import requests

from scimbridge.config import Delivery, Target
from scimbridge.mapping.context import Action
from scimbridge.observability.calls import CallObserver, NotObserved
from scimbridge.vendors.heartbeat import Heartbeat
from scimbridge.vendors.settings import Settings

log = logging.getLogger(__name__)

KEEP_ALIVE_SECONDS = 1.0
"""How often a client keeps the worker's lease alive while it waits (:meth:`VendorClient.wait`)
or while a request is in flight (:meth:`VendorClient.renewing`). A lease is renewed once a
third of it has passed, so a lease of a few seconds or more (300 s by default) is renewed
well before it runs out under a live worker."""


@dataclass(frozen=True)
class DeliveryItem:
    """One user change to deliver."""

    key: str
    """The bridge's stable identity of the user (survives DELETE and re-provisioning)."""
    action: Action
    record: dict[str, Any]
    """The vendor record the mapping produced (already validated against the vendor's shape)."""
    vendor_id: str | None = None
    """The vendor's own identity of this user, when a previous delivery learnt it."""
    first_import: bool = True
    """False once the vendor has accepted this user at least once."""
    previous: dict[str, Any] | None = None
    """The record the vendor last accepted for this user, if any: where the vendor identity
    lives when it is a record field (Confide's email), and what a deprovision sends when the
    user's current SCIM attributes no longer map."""
    managed: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)
    """Per list field driven by group membership (Rocket.Chat ``roles``, Aria ``roleNames``…),
    every value the mapping manages. The record's list holds the values granted now; a
    client whose vendor keeps values of its own in that field removes only the managed
    values no longer granted and leaves the vendor's own alone (:func:`merge_managed`)."""


@dataclass(frozen=True)
class Outcome:
    """What happened to one item."""

    key: str
    ok: bool
    vendor_id: str | None = None
    error: str | None = None
    retryable: bool = False
    retry_after: float | None = None
    """For a retryable failure: the wait the vendor asked for (a 429 in mid-batch)."""
    details: dict[str, Any] = field(default_factory=dict)
    """Vendor references worth keeping, such as a taskId or a jobId."""


ReadBack = Literal["list", "lookup", "none"]
"""How a client reads back what the vendor holds (reconcile, docs/operations-reconcile.md):
``list`` pages through every account, ``lookup`` finds accounts by their account keys,
``none``: the vendor documents no read endpoint, and reconcile can only re-send."""


@dataclass(frozen=True)
class VendorAccount:
    """One account as the vendor holds it, read back for reconcile."""

    vendor_id: str
    """The vendor's own id of the account: what :attr:`Outcome.vendor_id` gives for it."""
    record: dict[str, Any]
    """The account in the vendor's record shape (the fields of the import record, named and
    formed as the mapping produces them). A field the vendor does not show is absent, and is
    never compared; one it shows empty is present, as None or an empty list."""
    active: bool
    """False when the account is deprovisioned as the mapping's ``disable`` leaves it."""


@dataclass(frozen=True)
class AccountPage:
    """One page of :meth:`VendorClient.accounts`."""

    accounts: list[VendorAccount]
    next_cursor: str | None
    """Where the next page starts (give it back to :meth:`VendorClient.accounts`); None: this
    was the last page."""
    total: int | None = None
    """How many accounts the listing holds in all, when the vendor says (a progress bar)."""


class VendorError(Exception):
    """A vendor call failed as a whole."""


class VendorUnavailable(VendorError):
    """Retry later: 429, 5xx, a timeout, a refused connection, or a token the vendor will not issue now."""

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class CredentialsRefused(VendorError):
    """The vendor refuses the bridge's own credentials: a 401 or 403 to its login or token
    request, or a 401 that persists with credentials just renewed. Nothing is wrong with the
    users and waiting does not cure it, so it is neither :class:`VendorUnavailable` nor a
    refusal of an item: the worker holds the target's entries, uncounted and never parked,
    in the state ``credentials refused`` until a login succeeds
    (:mod:`~scimbridge.delivery.recovery`). A 403 on one user's write stays that user's
    refusal (:class:`~scimbridge.vendors.http.VendorRejected`)."""


class Interrupted(Exception):
    """The worker will not settle the batch in hand: it is stopping (SIGTERM), or its lease
    on the batch ran out and another worker may have taken the entries over.

    Raised from :attr:`VendorClient.keep_alive` before every vendor request and while a
    client waits, and once a request returns when the lease was lost while it was in flight
    (:meth:`VendorClient.renewing`); clients let it through, and the worker gives the batch
    back without recording an outcome.
    """


def still_wanted() -> None:
    """The :attr:`VendorClient.keep_alive` of a client used on its own: nothing to renew."""


def honoured_wait(seconds: float, delivery: Delivery) -> float:
    """The part of a wait a vendor names (``Retry-After``, RFC 9110 §10.2.3; a rate limit's
    reset) that the bridge honours: at most the target's ``delivery.give_up_after_seconds``.

    An entry that waited that long is parked at its next failure anyway, so a longer wait
    changes nothing but the risk: ``Retry-After: 999999999999`` is a moment past the last
    date a ``datetime`` holds, and one vendor answer must never stop an entry from being
    rescheduled. The one rule for every wait a vendor names: what a client reads from an
    answer (:meth:`~scimbridge.vendors.http.HttpVendorClient.vendor_wait`, which also
    blocks its pacer) and the rescheduled attempt (:func:`~scimbridge.delivery.backoff.retry_delay`).
    """
    return min(max(seconds, 0.0), delivery.give_up_after_seconds)


class BatchLease(Protocol):
    """The worker's claim on the batch a client delivers (:class:`~scimbridge.delivery.claiming.Lease`)."""

    def keep_alive(self) -> None:
        """Renew the claim when due.

        :raises Interrupted: the worker is stopping, or lost the claim: nothing more may be sent.
        """

    def renew(self) -> None:
        """Renew the claim when due, stopping or not (a request in flight keeps its claim).

        :raises Interrupted: the claim was lost.
        """


class BridgeUsers(Protocol):
    """The bridge's users, for messages that name them (which account is whose is decided
    before a client is called: :mod:`scimbridge.delivery.identity`)."""

    def describe(self, stable_id: str) -> str | None:
        """The bridge user of ``stable_id`` as an admin finds it (userName, externalId, SCIM
        id), or None when no user of the target has it."""


class NoBridgeUsers:
    """The bridge users of a client used on its own (tests, ``mapping preview``): none."""

    def describe(self, stable_id: str) -> str | None:
        return None


def merge_managed(
    current: list[Any], granted: list[Any], managed: tuple[Any, ...], key: Any = None
) -> list[Any]:
    """The vendor's list with the managed values replaced by the granted ones.

    Values the vendor holds that the mapping does not manage (a Rocket.Chat role granted in
    Rocket.Chat) are kept, in their order; managed values not granted any more are removed;
    granted values are added once. ``key`` gives the identity of a value (Aria's
    ``role-permissions`` are objects identified by their ``roleName``).
    """
    identity = key or (lambda value: value)
    managed_keys = {identity(value) for value in managed} | {identity(value) for value in granted}
    kept = [value for value in current if identity(value) not in managed_keys]
    added: list[Any] = []
    for value in granted:
        if identity(value) not in {identity(seen) for seen in added}:
            added.append(value)
    return kept + added


class VendorClient(ABC):
    """A client of one vendor tenant, built from a configured target.

    Subclasses read alike: class attributes state the vendor's facts, then
    ``authenticate``, then ``deliver``. A client is used by one worker thread
    at a time.
    """

    vendor: ClassVar[str]
    max_batch: ClassVar[int]
    """The most users the vendor accepts in one import request."""
    unique_fields: ClassVar[frozenset[str]] = frozenset()
    """Record fields whose values the vendor keeps unique and :meth:`holders` can look up:
    the fields a mapping may fill with ``first_available`` (docs/mapping.md)."""
    account_keys: ClassVar[frozenset[str]] = frozenset()
    """Record fields the vendor keeps unique and finds accounts by (an email, a user name;
    a list field's every value): the worker reserves their values for one user of the bridge
    before anything is sent (:mod:`scimbridge.delivery.identity`), so two people never get
    one account. A vendor with none keys its accounts by the bridge's own ids alone."""
    renames_accounts: ClassVar[bool] = False
    """Whether the vendor changes an account's keys in place when it is sent a record with
    new ones and the account's vendor id; a mapping's ``on_identity_change: move`` needs it."""
    read_back: ClassVar[ReadBack] = "none"
    """Which of :meth:`accounts` (``list``) or :meth:`look_up` (``lookup``) the client
    implements; ``none`` for a vendor that documents no way to read its accounts."""
    claim_size: ClassVar[int | None] = None
    """How many users the worker claims and hands one :meth:`deliver` call; None: :attr:`max_batch`.
    Larger where the vendor takes one user a request (CloudShell) or where a client overlaps
    its requests (several ACC imports submitted back to back, then confirmed together):
    claiming, mapping and settling then cost one database transaction for many requests."""
    one_batch_at_a_time: ClassVar[bool] = False
    """True where the vendor runs one import at a time per tenant (Rocket.Chat's
    ``import.new`` aborts a running one): workers then never overlap on the target."""
    settings: ClassVar[Settings] = Settings()
    """Every key of ``credentials`` and ``options`` the client reads (:mod:`.settings`): the
    configuration is refused for any other key, a missing required one or a wrong type, and
    the keys declared ``secret`` are redacted everywhere."""

    def __init__(self, target: Target, http: requests.Session | None = None):
        self.target = target
        self.http = http or requests.Session()
        self.timeout = target.delivery.timeout_seconds
        self.bridge_users: BridgeUsers = NoBridgeUsers()
        """Set by the worker: who the bridge's users are, for messages that name them."""
        self.calls: CallObserver = NotObserved()
        """Set by the worker: told the status and duration of every vendor call (the metrics)."""
        self.keep_alive: Callable[[], None] = still_wanted
        """Set by the worker for a batch (:meth:`holding`): called before every vendor request
        and while the client waits on the vendor (an asynchronous job's status, a rate-limit
        window). It renews the worker's lease on the batch, and raises :class:`Interrupted`
        when the batch must be abandoned: nothing more is sent."""
        self.renew: Callable[[], None] = still_wanted
        """Set by the worker for a batch (:meth:`holding`): renews the lease while a request is
        in flight (:meth:`renewing`), and raises :class:`Interrupted` only when it was lost."""
        self.heartbeat = Heartbeat(self.vendor, KEEP_ALIVE_SECONDS, Interrupted)

    @contextmanager
    def holding(self, lease: BatchLease) -> Iterator[None]:
        """Deliver one batch under the worker's ``lease``; outside it (a session token released
        at shutdown) the client answers to no lease."""
        self.keep_alive, self.renew = lease.keep_alive, lease.renew
        try:
            yield
        finally:
            self.keep_alive = self.renew = still_wanted

    def wait(self, seconds: float) -> None:
        """Sleep ``seconds``, calling :attr:`keep_alive` every :data:`KEEP_ALIVE_SECONDS`, so
        that a long wait neither outlives the worker's lease nor holds up a stopping worker.

        :raises Interrupted: from :attr:`keep_alive`.
        """
        deadline = time.monotonic() + seconds
        while True:
            self.keep_alive()
            left = deadline - time.monotonic()
            if left <= 0:
                return
            time.sleep(min(left, KEEP_ALIVE_SECONDS))

    @contextmanager
    def renewing(self) -> Iterator[None]:
        """Renew the worker's lease (:attr:`renew`) every :data:`KEEP_ALIVE_SECONDS` from the
        client's daemon thread (:mod:`.heartbeat`) while the block runs: one vendor request,
        which may take ``delivery.timeout_seconds``, longer than the lease. Without it another
        worker could claim the user's newer entry meanwhile and deliver it before this
        request's older write lands (docs/architecture.md, "Transient vs permanent"). A worker asked to stop
        keeps renewing until its request returns; the next :attr:`keep_alive` stops it.

        The thread never raises: a renewal the database refuses is logged and tried again.

        :raises Interrupted: once the block is done, when the lease was lost meanwhile (in
            place of whatever the block raised): the answer must not be settled.
        """
        with self.heartbeat.during(self.renew):
            yield

    @abstractmethod
    def authenticate(self) -> None:
        """Obtain (or renew) the credentials the vendor API needs.

        :raises VendorUnavailable: when the token endpoint is unreachable or refuses for now.
        """

    @abstractmethod
    def deliver(self, items: list[DeliveryItem]) -> list[Outcome]:
        """Deliver the items (at most :attr:`max_batch` of them) and return one outcome per item.

        Renews the token once on a 401 and retries the call.

        :raises VendorUnavailable: when the whole call must be retried later.
        """

    def account_key(self, field: str, value: str) -> str:
        """``value`` of the account key ``field`` as the vendor compares it: NFC, lower case
        (every built-in vendor keeps emails and user names unique case-insensitively)."""
        return unicodedata.normalize("NFC", value).lower()

    def holders(self, field: str, values: list[str]) -> dict[str, str | None]:
        """Per value, an id of the account whose ``field`` (one of :attr:`unique_fields`)
        holds it, or None when no account does: the worker lets a user take a value nobody
        else holds (a mapping's ``first_available``). A value held under the user's own
        vendor id is the user's; a user the vendor was sent keeps the value it was sent
        without asking (:mod:`scimbridge.delivery.choosing`), so a vendor that names its
        accounts in other terms than the bridge's vendor id (Rocket.Chat) may give those.

        :raises VendorUnavailable: when the vendor cannot answer now.
        """
        raise NotImplementedError(f"{self.vendor} looks up no record field")

    def accounts(self, cursor: str | None = None) -> AccountPage:
        """One page of every account the vendor holds, from ``cursor`` (None: the first page),
        paced by the client's rate limits, with :attr:`keep_alive` called before each request.

        :raises VendorUnavailable: when the vendor cannot answer now; the read resumes at
            ``cursor``.
        """
        raise NotImplementedError(f"{self.vendor} lists no accounts (read_back {self.read_back})")

    def look_up(self, field: str, values: list[str]) -> list[VendorAccount]:
        """The accounts whose account key ``field`` holds one of ``values`` (a ``lookup``
        client; a ``list`` client need not implement it).

        :raises VendorUnavailable: when the vendor cannot answer now.
        """
        raise NotImplementedError(
            f"{self.vendor} looks up no accounts (read_back {self.read_back})"
        )

    def grants_access(self, record: dict[str, Any]) -> bool:
        """Whether an account holding ``record`` is active at the vendor: reconcile reports a
        disabled account of a user only when the record the mapping makes would not leave it
        disabled. True unless the vendor has no active flag of its own and a record can grant
        nothing (an ACC member whose every product is at ``none``)."""
        return True

    def excluded(self, account: VendorAccount) -> str | None:
        """Why a vendor account is none of the bridge's business, or None: the bridge's own
        service account, a system account of the vendor. Reconcile lists such an account as
        excluded and never reports it as an orphan."""
        return None

    def run_ended(self) -> None:
        """The worker's loop found nothing due for the target: a delivery run ended. A client
        that keeps what it knows of the vendor's directory across the run's batches drops it
        here, so the next run reads the vendor afresh. Nothing is kept here."""
        return None

    def share(self, clients: int) -> None:
        """This client is one of ``clients`` that call the tenant side by side (the target's
        ``delivery.concurrency``): an HTTP client then keeps to its share of each rate
        limit. A client without rate limits has nothing to share."""
        return None

    def option(self, name: str) -> Any:
        """The target's ``options.<name>``, or the default :attr:`settings` declares for it.

        :raises KeyError: when the client does not declare the option.
        """
        default = self.settings.default("options", name)
        return self.target.options.get(name, default)

    def redact(self, text: str) -> str:
        """``text`` without any secret the client holds (none here; HTTP clients hold some)."""
        return text

    def close(self) -> None:
        """Release what the client holds (a vendor session token, the HTTP pool, the lease's
        heartbeat thread)."""
        self.heartbeat.close()
        self.http.close()


__all__ = [
    "KEEP_ALIVE_SECONDS",
    "AccountPage",
    "Action",
    "BatchLease",
    "BridgeUsers",
    "CredentialsRefused",
    "DeliveryItem",
    "Interrupted",
    "NoBridgeUsers",
    "Outcome",
    "ReadBack",
    "VendorAccount",
    "VendorClient",
    "VendorError",
    "VendorUnavailable",
    "honoured_wait",
    "merge_managed",
    "still_wanted",
]
