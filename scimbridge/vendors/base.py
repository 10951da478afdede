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

import enum
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

import requests

from scimbridge.config import Target


class Action(enum.StrEnum):
    """What the vendor must do with a user, as the mapping's deprovision rules decide."""

    IMPORT = "import"
    """Create the user, or update it when it exists (re-activation included)."""
    DISABLE = "disable"
    """Deactivate the user on the vendor side, keeping it."""
    REMOVE = "remove"
    """Remove the user from the vendor (or from the project, for ACC)."""


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


@dataclass(frozen=True)
class Outcome:
    """What happened to one item."""

    key: str
    ok: bool
    vendor_id: str | None = None
    error: str | None = None
    retryable: bool = False
    details: dict[str, Any] = field(default_factory=dict)
    """Vendor references worth keeping, such as a taskId or a jobId."""


class VendorError(Exception):
    """A vendor call failed as a whole."""


class VendorUnavailable(VendorError):
    """Retry later: 429, 5xx, a timeout, a refused connection, or a token the vendor will not issue now."""

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class VendorClient(ABC):
    """A client of one vendor tenant, built from a configured target.

    Subclasses read alike: class attributes state the vendor's facts, then
    ``authenticate``, then ``deliver``. A client is used by one worker thread
    at a time.
    """

    vendor: ClassVar[str]
    max_batch: ClassVar[int]
    """The most users the vendor accepts in one import request."""
    one_batch_at_a_time: ClassVar[bool] = False
    """True where the vendor runs one import at a time per tenant (Rocket.Chat's
    ``import.new`` aborts a running one): workers then never overlap on the target."""

    def __init__(self, target: Target, http: requests.Session | None = None):
        self.target = target
        self.http = http or requests.Session()
        self.timeout = target.delivery.timeout_seconds

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

    def close(self) -> None:
        """Release what the client holds (a vendor session token, the HTTP pool)."""
        self.http.close()
