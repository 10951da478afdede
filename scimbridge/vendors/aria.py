"""VMware Aria Operations (VCF Operations): users imported from an auth source, via the Suite API.

Contract: seed ``aria-operations-import-users.txt``; the VCF Operations OpenAPI
(``vendor-specs/aria``: ``acquireToken``, ``releaseToken``, ``importUsers``,
``modifyUser``, ``deleteUser``); vendor-research.md §3.

- Token: ``POST {base}/api/auth/token/acquire`` ``{username, password, authSource}``,
  sent as ``Authorization: OpsToken <token>`` (``credentials.token_scheme``:
  ``vRealizeOpsToken`` on 8.x); released by :meth:`close`. ``Accept:
  application/json`` always, or the API answers XML.
- IMPORT: ``POST {base}/api/auth/sources/{options.auth_source_id}/users``
  ``{"users": [...]}``, synchronous, 201 with the users and the ids Aria gave
  them (the vendor id; matched back by username). "When a user is being
  re-imported, make sure to populate the id field" (seed): the stored vendor id
  is put in the record when the mapping did not.
- DISABLE: ``PUT {base}/api/auth/users`` with the full user, its id and
  ``enabled: false`` (the documented "modify user"; the import also takes
  ``enabled``, but a PUT cannot create a user by mistake). REMOVE:
  ``DELETE {base}/api/auth/users/{id}`` (204).
- Batch size: not documented; 100. Aria refuses a whole import for one bad user
  (research ASSUMPTION), so a refused batch is bisected to isolate it.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import replace
from typing import Any

import requests

from scimbridge.config import Target
from scimbridge.vendors.base import Action, DeliveryItem, Outcome, VendorError, VendorUnavailable
from scimbridge.vendors.http import (
    PAYLOAD_REJECTIONS,
    Isolated,
    TokenLoginClient,
    compact,
    failed,
    json_object,
    nothing_to_deprovision,
    send_isolating,
    succeeded,
)

JSON = {"Accept": "application/json"}
STALE_ID_REJECTIONS = frozenset({*PAYLOAD_REJECTIONS, 404})
"""An import answers 404 for an ``id`` Aria no longer has: the payload's fault, to isolate."""


def as_new(item: DeliveryItem) -> DeliveryItem:
    """The item without the vendor id Aria no longer knows, to import the user afresh."""
    return replace(item, vendor_id=None, record={**item.record, "id": None})


class AriaClient(TokenLoginClient):
    vendor = "aria"
    max_batch = 100
    default_token_scheme = "OpsToken"

    def __init__(self, target: Target, http: requests.Session | None = None):
        super().__init__(target, http)
        source = target.options.get("auth_source_id")
        if not source:
            raise ValueError(f"target {target.name}: options.auth_source_id is required for aria")
        self.auth_source_id = str(source)

    def login(self) -> str:
        credentials = {
            "username": self.target.secret("username"),
            "password": self.target.secret("password"),
            "authSource": self.target.secret("auth_source"),
        }
        answer = json_object(
            self.login_call(
                "POST", "/api/auth/token/acquire", json=compact(credentials), headers=JSON
            )
        )
        return str(answer.get("token") or "")

    def auth_headers(self) -> dict[str, str]:
        return {**super().auth_headers(), **JSON}

    def close(self) -> None:
        """Release the token (``POST /api/auth/token/release``) so it does not linger 6 h."""
        if self.token:
            with suppress(VendorError):  # the token expires by itself; closing must not fail
                self.call(
                    "POST", "/api/auth/token/release", public=True, headers=self.auth_headers()
                )
            self.token = None
        super().close()

    # -- delivery --------------------------------------------------------------------------------

    def deliver_batch(self, items: list[DeliveryItem]) -> list[Outcome]:
        outcomes, to_import = self.settle_or_defer(items, self.deprovision)
        outcomes.update(self.import_users(to_import))
        return [outcomes[item.key] for item in items]

    @staticmethod
    def user(item: DeliveryItem) -> dict[str, Any]:
        """The record as Aria takes it: with the stored id on a re-import, without any id before."""
        return compact({**item.record, "id": item.record.get("id") or item.vendor_id})

    def import_users(self, items: list[DeliveryItem]) -> dict[str, Outcome]:
        """Import the users; one whose stored id Aria no longer knows (deleted there since)
        is imported again as a new user."""
        if not items:
            return {}
        sent = send_isolating(items, self.post_import, STALE_ID_REJECTIONS)
        stale = {
            item.key: as_new(item)
            for item, rejection in sent.rejected
            if rejection.status == 404 and "id" in self.user(item)
        }
        if stale:
            again = send_isolating(list(stale.values()), self.post_import)
            still_rejected = [(i, r) for i, r in sent.rejected if i.key not in stale]
            sent = Isolated(sent.accepted + again.accepted, still_rejected + again.rejected)
        outcomes = {item.key: failed(item, str(rejection)) for item, rejection in sent.rejected}
        for batch, imported in sent.accepted:
            outcomes.update(self.matched(batch, imported))
        return outcomes

    @staticmethod
    def matched(items: list[DeliveryItem], imported: list[Any]) -> dict[str, Outcome]:
        """Each item's outcome, its id read from the 201 user-list by username."""
        ids = {
            str(user.get("username", "")).lower(): user.get("id")
            for user in imported
            if isinstance(user, dict)
        }
        outcomes = {}
        for item in items:
            vendor_id = ids.get(str(item.record.get("username", "")).lower())
            outcomes[item.key] = (
                succeeded(item, str(vendor_id))
                if vendor_id
                else failed(item, "aria: the import answer does not list this user")
            )
        return outcomes

    def post_import(self, items: list[DeliveryItem]) -> list[Any]:
        answer = json_object(
            self.call(
                "POST",
                f"/api/auth/sources/{self.auth_source_id}/users",
                json={"users": [self.user(item) for item in items]},
                expect=(200, 201),
            )
        )
        users = answer.get("users")
        if not isinstance(users, list):
            raise VendorUnavailable("aria: the import answer holds no user list")
        return users

    def deprovision(self, item: DeliveryItem) -> Outcome | None:
        """Disable or remove the user; None for an IMPORT, which goes to the batch import."""
        if item.action is Action.IMPORT:
            return None
        if not item.vendor_id:
            return nothing_to_deprovision(item)
        if item.action is Action.DISABLE:
            disabled = {**self.user(item), "enabled": False}
            self.call("PUT", "/api/auth/users", json=disabled)
            return succeeded(item, item.vendor_id)
        self.call_unless_gone("DELETE", f"/api/auth/users/{item.vendor_id}", expect=(200, 204))
        return succeeded(item, item.vendor_id)
