"""Rocket.Chat (6.3+): the bulk user import, and the user calls it cannot do without.

Contract: seed ``rocketchat-bulk-user-import.md``; vendor-research.md §4
(Rocket.Chat source: ``import.ts``, ``services/import/service.ts``, ``ApiClass.ts``).

- Every call sends ``X-User-Id`` and ``X-Auth-Token`` (a personal access token
  of a user with ``run-import``, ``view-full-other-user-info``,
  ``edit-other-user-info``, ``edit-other-user-active-status``, ``delete-user``).
- Users are first looked up by import id (``users.info?importId=``). The import
  never updates an existing user, so a user Rocket.Chat has is updated with
  ``users.update``, (de)activated with ``users.setActiveStatus`` and removed with
  ``users.delete``.
- The others are imported: ``import.new`` → ``import.addUsers`` → ``import.run``
  → ``import.status`` until done. One bad user fails a whole ``addUsers`` (seed
  note 1 and 3): a refused batch is bisected so the others still go in. The
  import returns no per-user errors, so each user is looked up again after the
  run; one still missing (its email or user name taken) failed. A DISABLE of a
  user Rocket.Chat never had is imported ``deleted``, which creates it deactivated.
- The vendor id is the **import id**, the bridge's stable id (design.md): it
  survives a user deleted and re-created in Rocket.Chat, and ``users.info``
  finds the user by it; the Rocket.Chat ``_id`` goes in the outcome's details.
- A 429 carries no ``Retry-After``: the wait comes from ``X-RateLimit-Reset``
  (epoch milliseconds).
"""

from __future__ import annotations

import time
from typing import Any

import requests

from scimbridge.vendors.base import Action, DeliveryItem, Outcome, VendorUnavailable
from scimbridge.vendors.http import (
    HttpVendorClient,
    VendorRejected,
    compact,
    failed,
    json_object,
    nothing_to_deprovision,
    poll,
    retry_after_seconds,
    send_isolating,
    succeeded,
)

API = "/api/v1"
FINISHED_STATES = frozenset({"done", "error", "canceled"})
UPDATABLE = ("username", "name", "password")
"""Record fields ``users.update`` takes as they are (its ``data`` object, research §4)."""
DEFAULT_ROLES = ("user",)
"""The roles Rocket.Chat gives every new user (seed note 4); ``options.default_roles``."""


def import_id(item: DeliveryItem) -> str:
    ids = item.record.get("importIds") or []
    return str(ids[0]) if ids else item.vendor_id or item.key


class RocketChatClient(HttpVendorClient):
    vendor = "rocketchat"
    max_batch = 100
    one_batch_at_a_time = True
    """Not documented; the run inserts users 50 at a time (UserConverter.ts), so 100 is two rounds."""
    default_poll_interval_seconds = 1.0

    def authenticate(self) -> None:
        """A personal access token needs no login; a 401 means it was revoked or lacks rights."""
        if not (self.target.secret("user_id") and self.target.secret("auth_token")):
            raise VendorUnavailable("rocketchat: credentials user_id and auth_token are required")

    def is_authenticated(self) -> bool:
        return True

    def auth_headers(self) -> dict[str, str]:
        return {
            "X-User-Id": self.target.secret("user_id") or "",
            "X-Auth-Token": self.target.secret("auth_token") or "",
        }

    def retry_after(self, response: requests.Response) -> float | None:
        reset = response.headers.get("X-RateLimit-Reset", "")
        if reset.isdigit():
            return max(0.0, int(reset) / 1000 - time.time())
        return retry_after_seconds(response)

    # -- delivery --------------------------------------------------------------------------------

    def deliver_batch(self, items: list[DeliveryItem]) -> list[Outcome]:
        outcomes, to_import = self.settle_or_defer(items, self.apply_to_existing)
        outcomes.update(self.import_users(to_import))
        return [outcomes[item.key] for item in items]

    def find(self, import_id: str) -> dict[str, Any] | None:
        """The user with this import id; Rocket.Chat answers 400 "User not found." when none."""
        try:
            answer = json_object(
                self.call("GET", f"{API}/users.info", params={"importId": import_id})
            )
        except VendorRejected as rejection:
            if rejection.status in (400, 404):
                return None
            raise
        user = answer.get("user")
        return user if isinstance(user, dict) and user.get("_id") else None

    def apply_to_existing(self, item: DeliveryItem) -> Outcome | None:
        """Update, deactivate or delete the user Rocket.Chat has; None when it must be imported."""
        user = self.find(import_id(item))
        if user is None:
            return nothing_to_deprovision(item) if item.action is Action.REMOVE else None
        user_id = str(user["_id"])
        if item.action is Action.IMPORT:
            self.post("users.update", {"userId": user_id, "data": self.profile(item)})
            if user.get("active") is False:
                self.set_active(user_id, True)
        elif item.action is Action.DISABLE:
            self.set_active(user_id, False)
        else:
            self.post("users.delete", {"userId": user_id})
        return succeeded(item, import_id(item), userId=user_id)

    def profile(self, item: DeliveryItem) -> dict[str, Any]:
        """The ``users.update`` data of a record. Its roles replace the user's, so the
        default roles the import would have added are kept in."""
        emails = item.record.get("emails") or []
        data = {field: item.record.get(field) for field in UPDATABLE}
        if "roles" in item.record:
            default_roles = self.target.options.get("default_roles", DEFAULT_ROLES)
            data["roles"] = sorted({*default_roles, *(item.record["roles"] or [])})
        return compact({**data, "email": emails[0] if emails else None})

    def set_active(self, user_id: str, active: bool) -> None:
        self.post("users.setActiveStatus", {"userId": user_id, "activeStatus": active})

    def post(self, method: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        return json_object(self.call("POST", f"{API}/{method}", json=body))

    # -- import ----------------------------------------------------------------------------------

    @staticmethod
    def import_record(item: DeliveryItem) -> dict[str, Any]:
        record = compact(item.record)
        return record if item.action is Action.IMPORT else {**record, "deleted": True}

    def import_users(self, items: list[DeliveryItem]) -> dict[str, Outcome]:
        if not items:
            return {}
        self.post("import.new")
        sent = send_isolating(
            items,
            lambda batch: self.post(
                "import.addUsers", {"users": [self.import_record(item) for item in batch]}
            ),
        )
        outcomes = {item.key: failed(item, str(rejection)) for item, rejection in sent.rejected}
        staged = [item for batch, _ in sent.accepted for item in batch]
        if staged:
            self.run_import()
            outcomes.update(self.verify(staged))
        return outcomes

    def run_import(self) -> None:
        self.post("import.run")

        final = poll(
            lambda: json_object(self.call("GET", f"{API}/import.status")),
            lambda s: s.get("state") in FINISHED_STATES,
            self.poll_interval,
            self.max_polls,
        )
        if final is None:
            raise VendorUnavailable(
                f"rocketchat: the import operation is still running after {self.max_polls} polls"
            )
        if final["state"] != "done":
            raise VendorUnavailable(f"rocketchat: the import operation ended {final['state']}")

    def verify(self, items: list[DeliveryItem]) -> dict[str, Outcome]:
        """Per-user import errors are not returned: a user not found after the run failed."""
        outcomes = {}
        for item in items:
            user = self.find(import_id(item))
            outcomes[item.key] = (
                succeeded(item, import_id(item), userId=str(user["_id"]))
                if user
                else failed(
                    item,
                    "rocketchat: the import did not create the user "
                    "(its email or username is probably taken)",
                )
            )
        return outcomes
