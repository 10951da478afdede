"""Test doubles of the delivery tests: a movable clock and a scripted vendor client."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from scimbridge.vendors.base import DeliveryItem, Outcome, VendorClient, VendorUnavailable

TOKEN = "delivery-test-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/scim+json"}
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"


class Clock:
    """Real time plus an offset the tests move forward, so backoff never means waiting."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)


class ScriptedVendor(VendorClient):
    """A vendor client that records what it is given and fails when the test says so.

    It stands in for the vendor only in the worker's own tests; the vendor
    clients themselves are tested against the emulators.
    """

    vendor = "rocketchat"
    max_batch = 3

    def __init__(self) -> None:
        self.batches: list[list[DeliveryItem]] = []
        self.script: list[Callable[[list[DeliveryItem]], list[Outcome]]] = []
        self.ids = itertools.count(1)
        self.vendor_ids: dict[str, str] = {}

    def authenticate(self) -> None:
        """Nothing to do: it has no credentials."""

    def deliver(self, items: list[DeliveryItem]) -> list[Outcome]:
        assert len(items) <= self.max_batch
        self.batches.append(items)
        if self.script:
            return self.script.pop(0)(items)
        return [self.accept(item) for item in items]

    def accept(self, item: DeliveryItem) -> Outcome:
        vendor_id = self.vendor_ids.setdefault(item.key, item.vendor_id or f"v{next(self.ids)}")
        return Outcome(key=item.key, ok=True, vendor_id=vendor_id)

    def close(self) -> None:
        """Nothing to release."""

    def delivered(self) -> list[DeliveryItem]:
        return [item for batch in self.batches for item in batch]


def unavailable(retry_after: float | None = None) -> Callable[[list[DeliveryItem]], list[Outcome]]:
    def fail(items: list[DeliveryItem]) -> list[Outcome]:
        raise VendorUnavailable("503 Service Unavailable", retry_after=retry_after)

    return fail


def user(name: str, **attributes: Any) -> dict[str, Any]:
    return {
        "schemas": [USER_SCHEMA],
        "userName": name,
        "name": {"givenName": name.title(), "familyName": "Tester"},
        "emails": [{"value": f"{name}@example.com", "type": "work", "primary": True}],
        **attributes,
    }
