"""Quali CloudShell: external (AD/LDAP) users imported through the Admin REST API.

Contract: seed ``cloudshell-import-external-users.md``; vendor-research.md §5
(QualiSystems/cloudshell-help ``cs-admin-rest-api`` pages).

- Token: ``PUT {base}/Api/Auth/Login`` ``{Username, Password, Domain}`` answers the
  token as a quoted JSON string, sent as ``Authorization: Basic <token>``
  (``credentials.token_scheme``: one doc page says Bearer).
- IMPORT: ``POST {base}/api/v1/integrations/IdentityManagement/users`` with one
  ``UserName`` a call (max_batch 1: the API imports one user or one group per
  call), ``AllowUpdate: true`` once CloudShell has the user (design.md); 200
  ``{"Users": [...], "Errors": [...]}``: the user's ``Id`` is the vendor id, and a
  user absent from ``Users`` failed with the ``Errors`` text. An imported user
  found inactive is re-activated (an IMPORT includes re-activation).
- A group record (``GroupName``, the mapping's ``group_record``) imports every
  member; its outcome lists the imported ids.
- DISABLE: ``PUT {base}/api/v1/users/{id}`` with the full user (read first, so no
  field is wiped) and ``IsActive: false``; REMOVE: ``DELETE {base}/api/v1/users/{id}``.
"""

from __future__ import annotations

from typing import Any

from scimbridge.vendors.base import Action, DeliveryItem, Outcome
from scimbridge.vendors.http import (
    TokenLoginClient,
    compact,
    failed,
    json_object,
    json_of,
    nothing_to_deprovision,
    succeeded,
)

IMPORT_USERS = "/api/v1/integrations/IdentityManagement/users"
EDITABLE_FIELDS = (
    "Username",
    "Email",
    "IsActive",
    "IsAdmin",
    "GroupIds",
    "TimeZoneInfoId",
    "MaxReservationDuration",
    "MaxConcurrentReservations",
    "MaxScheduledSandboxes",
    "MaxOwnedBlueprints",
    "MaxSavedSandboxes",
)
"""The body of "edit user" (research §5); ``Password`` is left out for directory users (ASSUMPTION)."""


def error_messages(errors: Any) -> str:
    """``Errors[]`` items are not documented: strings or ``{"Message": ...}`` objects (ASSUMPTION)."""
    if not isinstance(errors, list) or not errors:
        return "no error given"
    return "; ".join(
        str(error.get("Message", error)) if isinstance(error, dict) else str(error)
        for error in errors
    )


class CloudShellClient(TokenLoginClient):
    vendor = "cloudshell"
    max_batch = 1
    default_token_scheme = "Basic"

    def login(self) -> str:
        credentials = {
            "Username": self.target.secret("username"),
            "Password": self.target.secret("password"),
            "Domain": self.target.secret("domain") or "Global",
        }
        token = json_of(self.login_call("PUT", "/Api/Auth/Login", json=credentials))
        return token if isinstance(token, str) else ""

    def deliver_batch(self, items: list[DeliveryItem]) -> list[Outcome]:
        return [self.per_item(item, lambda item=item: self.deliver_one(item)) for item in items]

    def deliver_one(self, item: DeliveryItem) -> Outcome:
        if item.action is Action.IMPORT:
            return self.import_user(item)
        if not item.vendor_id:
            return nothing_to_deprovision(item)
        if item.action is Action.DISABLE:
            return self.set_active(item, item.vendor_id, active=False)
        self.call_unless_gone("DELETE", f"/api/v1/users/{item.vendor_id}")
        return succeeded(item, item.vendor_id)

    def import_user(self, item: DeliveryItem) -> Outcome:
        request = compact(item.record)
        if not item.first_import:
            request["AllowUpdate"] = True
        answer = json_object(self.call("POST", IMPORT_USERS, json=request, expect=(200, 202)))
        if "GroupName" in request:
            return self.group_outcome(item, answer)
        user = self.imported(answer.get("Users"), str(request.get("UserName", "")))
        if user is None:
            return failed(
                item,
                f"cloudshell: the import refused the user: {error_messages(answer.get('Errors'))}",
            )
        vendor_id = str(user["Id"])
        if user.get("IsActive") is False:
            return self.set_active(item, vendor_id, active=True)
        return succeeded(item, vendor_id, Sid=user.get("Sid"))

    @staticmethod
    def group_outcome(item: DeliveryItem, answer: dict[str, Any]) -> Outcome:
        """A group import (the mapping's ``group_record``) names no one user: it succeeded
        when it imported anyone or reported no error, and lists who and what went wrong."""
        ids = [
            str(user["Id"])
            for user in answer.get("Users") or []
            if isinstance(user, dict) and "Id" in user
        ]
        errors = answer.get("Errors")
        if errors and not ids:
            return failed(item, f"cloudshell: the group import failed: {error_messages(errors)}")
        details: dict[str, Any] = {"userIds": ids}
        if errors:
            details["errors"] = error_messages(errors)
        return succeeded(item, None, **details)

    @staticmethod
    def imported(users: Any, name: str) -> dict[str, Any] | None:
        """The imported user of that name (the directory may spell it in another case)."""
        candidates = [user for user in users or [] if isinstance(user, dict) and "Id" in user]
        named = [
            user for user in candidates if str(user.get("Username", "")).lower() == name.lower()
        ]
        if named:
            return named[0]
        return candidates[0] if len(candidates) == 1 else None

    def set_active(self, item: DeliveryItem, vendor_id: str, active: bool) -> Outcome:
        path = f"/api/v1/users/{vendor_id}"
        current = self.call_unless_gone("GET", path)
        if current is None:
            return failed(item, f"cloudshell: user {vendor_id} no longer exists")
        user = json_object(current)
        edited = {field: user.get(field) for field in EDITABLE_FIELDS if field in user}
        self.call("PUT", path, json={**edited, "IsActive": active}, expect=(200, 204))
        return succeeded(item, vendor_id, Sid=user.get("Sid"))
