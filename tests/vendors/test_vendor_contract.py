"""The five built-in vendors against the vendor contract every plugin must pass.

The facts each subclass states are the vendors' documented behaviour (docs/vendors/):
where the account's name and id live in the vendor's listing, which call creates
users, and what "deprovisioned" means there.
"""

from __future__ import annotations

from typing import Any

from scimbridge_emulators.confide import PERMISSIONS as CONFIDE_PERMISSIONS

from scimbridge.testing import LiveBridge, VendorContract
from scimbridge.testing.contract import join_group

ROCKETCHAT_WINDOW = 2.0
"""Rocket.Chat's rate-limit window (10 calls per route), scaled down from a minute in the
emulator and in the client's pacing alike, so a test waits seconds, not minutes."""


class TestConfide(VendorContract):
    """A Confide user holds nothing but permissions, granted through groups: provisioned,
    they join "Confide Coordinators"; deprovisioned, they hold none."""

    vendor = "confide"
    account_field = "email"
    account_id_field = "email"
    import_path = "/admin/shareSetting/import-users"

    def is_deprovisioned(self, account: dict[str, Any] | None) -> bool:
        return account is None or not any(account[name] for name in CONFIDE_PERMISSIONS)

    def provision(self, live: LiveBridge, name: str, **attributes: Any) -> dict[str, Any]:
        user = super().provision(live, name, **attributes)
        join_group(live, "Confide Coordinators", user["id"])
        return user


class TestAcc(VendorContract):
    """ACC deletes a removed project user: a person provisioned again, or a new person with
    the same email, is a new project user. Its import shows in the listing only after a
    delay (0.5 s by default), shortened here to keep the polling short."""

    vendor = "acc"
    account_field = "email"
    account_id_field = "id"
    import_path = "users:import"
    emulator_options = {"import_delay_seconds": 0.05}
    recreated_keeps_account_id = False
    reused_name_conflicts = False

    mapping_change = (
        '{"Contoso Staff": c32ffb13-83f8-43fb-bddf-3e5c0c2dda24}',
        '{"Contoso Staff": c32ffb13-83f8-43fb-bddf-3e5c0c2dda24, '
        '"Reconcile Testers": 5e1f0c3a-7d2b-4c8e-9f61-0a2b3c4d5e6f}',
        "companyId",
        "5e1f0c3a-7d2b-4c8e-9f61-0a2b3c4d5e6f",
    )
    managed_drift = {"companyId": "7a0c4d2e-1b3f-4e5a-8c6d-9e0f1a2b3c4d"}
    unmanaged_drift = {"roleIds": ["0c9d8e7f-6a5b-4c3d-2e1f-0a9b8c7d6e5f"]}
    orphan_fields = {
        "email": "hand.made@example.org",
        "products": [{"key": "docs", "access": "member"}],
    }

    def is_deprovisioned(self, account: dict[str, Any] | None) -> bool:
        return account is None

    def reenable_by_admin(self, live: LiveBridge, name: str) -> None:
        """ACC removes a deprovisioned member: its admin adds the person to the project again."""
        live.emulator.admin_create(**{**self.orphan_fields, "email": self.account_name(name)})


class TestAria(VendorContract):
    vendor = "aria"
    account_field = "username"
    account_id_field = "id"
    import_path = "/api/auth/sources/"
    sharing_attributes = None
    """Aria's account key is the username, which the default mapping takes from the userName,
    unique among SCIM users: no two people can share it."""
    mapping_change = (
        '{"Aria Administrators": Administrator, "Aria Read Only": ReadOnly}',
        '{"Aria Administrators": Administrator, "Aria Read Only": ReadOnly, '
        '"Reconcile Testers": PowerUser}',
        "roleNames",
        "PowerUser",
    )
    managed_drift = {"firstName": "Mallory"}
    unmanaged_drift = {"roleNames": ["ContentAdmin"]}
    orphan_fields = {"username": "hand.made", "firstName": "Hand", "lastName": "Made"}
    reenabled = {"enabled": True}

    def is_deprovisioned(self, account: dict[str, Any] | None) -> bool:
        return account is not None and account["enabled"] is False


class TestRocketChat(VendorContract):
    """Rocket.Chat's personal access token never expires, and the bridge could not renew it."""

    vendor = "rocketchat"
    account_field = "username"
    account_id_field = "_id"
    import_path = "import.run"  # the call that applies the import (addUsers only stages)
    emulator_options = {"rate_limit_calls": 10, "rate_limit_seconds": ROCKETCHAT_WINDOW}
    target_options = {"rate_limits": {"per_route": {"calls": 10, "seconds": ROCKETCHAT_WINDOW}}}
    expiring_tokens = False
    sharing_attributes = (
        {"userName": "shared@a.example", "externalId": "00u-ann"},
        {"userName": "shared@b.example", "externalId": "00u-bob"},
    )
    """Two people with one email (``emails`` is an account key): their user names differ,
    as first_available chooses them (shared, shared.b)."""
    mapping_change = (
        '{"Chat Admins": admin}',
        '{"Chat Admins": admin, "Reconcile Testers": livechat-agent}',
        "roles",
        "livechat-agent",
    )
    managed_drift = {"name": "Mallory"}
    unmanaged_drift = {"roles": ["livechat-monitor", "user"]}
    orphan_fields = {
        "username": "hand.made",
        "name": "Hand Made",
        "emails": [{"address": "hand.made@example.org", "verified": True}],
    }
    reenabled = {"active": True}

    def account_name(self, name: str) -> str:
        return name

    def renamed(self, old: str, new: str) -> str:
        """The user name chosen at the first delivery is kept for good (first_available)."""
        return old

    def is_deprovisioned(self, account: dict[str, Any] | None) -> bool:
        return account is not None and account["active"] is False


class TestCloudShell(VendorContract):
    vendor = "cloudshell"
    account_field = "Username"
    account_id_field = "Id"
    import_path = "IdentityManagement/users"
    sharing_attributes = (
        {"userName": "shared@a.example", "externalId": "00u-ann"},
        {"userName": "shared@b.example", "externalId": "00u-bob"},
    )
    """Two userNames of one directory account name (the mapping keeps what precedes the @)."""
    managed_drift = {"IsActive": False}
    """CloudShell shows no record field but the user name, which no admin can change; a user
    the IdP has active, disabled by hand, is the drift an admin can make."""
    unmanaged_drift = {"IsAdmin": True}
    orphan_fields = {"Username": "hand.made", "Email": "hand.made@example.org"}
    reenabled = {"IsActive": True}

    def account_name(self, name: str) -> str:
        return name

    def is_deprovisioned(self, account: dict[str, Any] | None) -> bool:
        return account is not None and account["IsActive"] is False
