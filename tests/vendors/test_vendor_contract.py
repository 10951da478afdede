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

    def is_deprovisioned(self, account: dict[str, Any] | None) -> bool:
        return account is None


class TestAria(VendorContract):
    vendor = "aria"
    account_field = "username"
    account_id_field = "id"
    import_path = "/api/auth/sources/"
    sharing_attributes = None
    """Aria's account key is the username, which the default mapping takes from the userName,
    unique among SCIM users: no two people can share it."""

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

    def account_name(self, name: str) -> str:
        return name

    def is_deprovisioned(self, account: dict[str, Any] | None) -> bool:
        return account is not None and account["IsActive"] is False
