"""Test doubles and helpers of the delivery tests: a movable clock, a scripted vendor client,
and the SCIM requests and outbox reads the tests repeat."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from scimbridge.delivery.state import DELIVERY_STATE
from scimbridge.store.delivery_tables import outbox
from scimbridge.vendors.base import DeliveryItem, Outcome, VendorClient, VendorUnavailable

TOKEN = "delivery-test-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/scim+json"}
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"


class ScriptedVendor(VendorClient):
    """A vendor client that records what it is given and fails when the test says so.

    It stands in for the vendor only in the worker's own tests; the vendor
    clients themselves are tested against the emulators.
    """

    vendor = "rocketchat"
    max_batch = 3
    unique_fields = frozenset({"username"})

    def __init__(self) -> None:
        self.batches: list[list[DeliveryItem]] = []
        self.script: list[Callable[[list[DeliveryItem]], list[Outcome]]] = []
        self.ids = itertools.count(1)
        self.vendor_ids: dict[str, str] = {}
        self.held: dict[str, str] = {}
        """Who holds each user name: an account this vendor accepted, or one the test adds."""
        self.lookups_unavailable = False

    def holders(self, field: str, values: list[str]) -> dict[str, str | None]:
        if self.lookups_unavailable:
            raise VendorUnavailable("503 Service Unavailable", retry_after=5)
        return {value: self.held.get(value) for value in values}

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
        if item.record.get("username"):
            self.held.setdefault(str(item.record["username"]), vendor_id)
        return Outcome(key=item.key, ok=True, vendor_id=vendor_id)

    def close(self) -> None:
        """Nothing to release."""

    def delivered(self) -> list[DeliveryItem]:
        return [item for batch in self.batches for item in batch]


def unavailable(retry_after: float | None = None) -> Callable[[list[DeliveryItem]], list[Outcome]]:
    def fail(items: list[DeliveryItem]) -> list[Outcome]:
        raise VendorUnavailable("503 Service Unavailable", retry_after=retry_after)

    return fail


def config_document(database_url: str, **delivery: Any) -> dict[str, Any]:
    return {
        "database": database_url,
        "targets": [
            {
                "name": "chat",
                "vendor": "rocketchat",
                "base_url": "http://127.0.0.1:9",
                "credentials": {"user_id": "u", "auth_token": "t"},
                "inbound": {"bearer_tokens": [TOKEN]},
                "delivery": {"backoff_seconds": 1, "max_backoff_seconds": 8, **delivery},
            }
        ],
    }


def user(name: str, **attributes: Any) -> dict[str, Any]:
    return {
        "schemas": [USER_SCHEMA],
        "userName": name,
        "name": {"givenName": name.title(), "familyName": "Tester"},
        "emails": [{"value": f"{name}@example.com", "type": "work", "primary": True}],
        **attributes,
    }


PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
STATE_ATTRIBUTES = ",".join(
    f"{DELIVERY_STATE}:{name}" for name in ("status", "vendorId", "lastError")
)


def patch(client: Any, user_id: str, *operations: dict[str, Any]) -> dict[str, Any]:
    response = client.patch(
        f"/scim/v2/chat/Users/{user_id}",
        json={"schemas": [PATCH], "Operations": list(operations)},
        headers=AUTH,
    )
    assert response.status_code == 200, response.json
    return response.json


def create_group(client: Any, display_name: str, *member_ids: str) -> dict[str, Any]:
    response = client.post(
        "/scim/v2/chat/Groups",
        json={
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "displayName": display_name,
            "members": [{"value": member_id} for member_id in member_ids],
        },
        headers=AUTH,
    )
    assert response.status_code == 201, response.json
    return response.json


def states(bridge: Any) -> list[str]:
    """The state of every outbox entry, oldest first."""
    with bridge.database.transaction():
        return [
            row.state
            for row in bridge.database.session.execute(select(outbox).order_by(outbox.c.seq))
        ]


def delivery_state(client: Any, user_id: str) -> dict[str, Any] | None:
    """The user's delivery state attributes, asked for as an admin would."""
    url = f"/scim/v2/chat/Users/{user_id}?attributes={STATE_ATTRIBUTES}"
    return client.get(url, headers=AUTH).json.get(DELIVERY_STATE)
