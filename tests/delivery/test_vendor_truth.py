"""Vendor truth: what each vendor holds is what the IdP says, for the right person.

The cases particular to some vendors: what groups grant and revoke, ACC's new project
user, a takeover allowed, an email change, a deactivation the mapping cannot map. What
every vendor must do (the same person recreated, a reused name, timed-out and repeated
imports) is the vendor contract, run per vendor in tests/vendors/test_vendor_contract.py.
Every case runs a bridge served on loopback in front of the vendor's strict emulator and
asserts the vendor's final state, read from the emulator, never the bridge's own
bookkeeping alone. The cases where the store decides (who is "the same person") run on
SQLite and on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from scimbridge_emulators.confide import PERMISSIONS as CONFIDE_PERMISSIONS
from test_end_to_end import PATCH, scim_user

from scimbridge.delivery.state import DELIVERY_STATE
from scimbridge.testing.live import LiveBridge, start_live

GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
STATE = ",".join(f"{DELIVERY_STATE}:{name}" for name in ("status", "vendorId", "lastError"))


@dataclass(frozen=True)
class Account:
    """How one vendor shows a person's account, and what "deprovisioned" means there."""

    name: Callable[[str], str]
    """The vendor's name of the account of SCIM user ``<name>@example.com``."""
    field: str
    """The end-state field holding that name."""
    id: str
    """The end-state field holding the vendor's own id of the account."""
    deprovisioned: Callable[[dict[str, Any] | None], bool]


ACCOUNTS = {
    "confide": Account(
        name=lambda n: f"{n}@example.com",
        field="email",
        id="email",
        deprovisioned=lambda a: a is None or not any(a[p] for p in CONFIDE_PERMISSIONS),
    ),
    "acc": Account(
        name=lambda n: f"{n}@example.com",
        field="email",
        id="id",
        deprovisioned=lambda a: a is None,
    ),
    "aria": Account(
        name=lambda n: f"{n}@example.com",
        field="username",
        id="id",
        deprovisioned=lambda a: a is not None and a["enabled"] is False,
    ),
    "rocketchat": Account(
        name=lambda n: n,
        field="username",
        id="_id",
        deprovisioned=lambda a: a is not None and a["active"] is False,
    ),
    "cloudshell": Account(
        name=lambda n: n,
        field="Username",
        id="Id",
        deprovisioned=lambda a: a is not None and a["IsActive"] is False,
    ),
}


def accounts_of(live: LiveBridge, name: str) -> list[dict[str, Any]]:
    view = ACCOUNTS[live.vendor]
    wanted = view.name(name).lower()
    return [user for user in live.emulator.users() if str(user[view.field]).lower() == wanted]


def account_of(live: LiveBridge, name: str) -> dict[str, Any] | None:
    """The one vendor account of ``name`` (None when there is none; never two)."""
    found = accounts_of(live, name)
    assert len(found) <= 1, f"{live.vendor} holds {len(found)} accounts for {name}: {found}"
    return found[0] if found else None


def create(live: LiveBridge, name: str, **attributes: Any) -> dict[str, Any]:
    response = live.scim("POST", "/Users", {**scim_user(name), **attributes})
    assert response.status_code == 201, response.text
    return response.json()


def patch(live: LiveBridge, path: str, *operations: dict[str, Any]) -> None:
    response = live.scim("PATCH", path, {"schemas": [PATCH], "Operations": list(operations)})
    assert response.status_code in (200, 204), response.text


def create_group(live: LiveBridge, display_name: str, *user_ids: str) -> str:
    body = {
        "schemas": [GROUP],
        "displayName": display_name,
        "members": [{"value": user_id} for user_id in user_ids],
    }
    response = live.scim("POST", "/Groups", body)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def provision(live: LiveBridge, name: str, **attributes: Any) -> dict[str, Any]:
    """Create a user the vendor shows as active. A Confide user holds nothing but
    permissions, so without a group it looks the same as a deprovisioned one: there the
    user joins "Confide Coordinators"."""
    user = create(live, name, **attributes)
    if live.vendor == "confide":
        add_to_group(live, "Confide Coordinators", user["id"])
    return user


def add_to_group(live: LiveBridge, display_name: str, user_id: str) -> None:
    found = live.scim("GET", f'/Groups?filter=displayName eq "{display_name}"').json()
    if not found["totalResults"]:
        create_group(live, display_name, user_id)
        return
    group_id = found["Resources"][0]["id"]
    patch(
        live, f"/Groups/{group_id}", {"op": "add", "path": "members", "value": [{"value": user_id}]}
    )


def delivery(live: LiveBridge, user_id: str) -> dict[str, Any]:
    response = live.scim("GET", f"/Users/{user_id}?attributes={STATE}")
    assert response.status_code == 200, response.text
    return response.json()[DELIVERY_STATE]


# -- Leaving a group revokes what it granted -------------------------------------------------


@dataclass(frozen=True)
class Grant:
    """What the vendor's mapping grants through groups, and a value the vendor grants itself."""

    groups: tuple[str, ...]
    granted: Callable[[dict[str, Any]], bool]
    revoked: Callable[[dict[str, Any]], bool]
    grant_at_vendor: Callable[[Any, dict[str, Any]], None] | None = None
    """Adds to the emulator's account a value the mapping does not manage."""
    kept_at_vendor: Callable[[dict[str, Any]], bool] = lambda account: True


ENGINEER = "b8e84a73-7506-4d3f-b221-93691df2a359"
VENDOR_OWN_ROLE = "9f0e1d2c-3b4a-4596-8877-665544332211"


def role_names(account: dict[str, Any]) -> set[str]:
    return {permission["roleName"] for permission in account.get("role-permissions") or []}


def add_acc_role(emulator: Any, account: dict[str, Any]) -> None:
    emulator.members[account["id"]]["roleIds"].append(VENDOR_OWN_ROLE)


def add_aria_role(emulator: Any, account: dict[str, Any]) -> None:
    emulator.accounts[account["id"]]["role-permissions"].append(
        {"roleName": "PowerUser", "allowAllObjects": True}
    )


def add_rocketchat_role(emulator: Any, account: dict[str, Any]) -> None:
    emulator.accounts[account["_id"]]["roles"].append("livechat-agent")


GRANTS = {
    "confide": Grant(
        groups=("Confide Coordinators",),
        granted=lambda a: a["isShareCoordinator"] and a["canShareLink"],
        revoked=lambda a: not any(a[permission] for permission in CONFIDE_PERMISSIONS),
    ),
    "acc": Grant(
        groups=("ACC Members", "ACC Engineers"),
        granted=lambda a: (
            ENGINEER in a["roleIds"] and all(p["access"] == "member" for p in a["products"])
        ),
        revoked=lambda a: (
            ENGINEER not in a["roleIds"] and all(p["access"] == "none" for p in a["products"])
        ),
        grant_at_vendor=add_acc_role,
        kept_at_vendor=lambda a: VENDOR_OWN_ROLE in a["roleIds"],
    ),
    "aria": Grant(
        groups=("Aria Administrators",),
        granted=lambda a: "Administrator" in role_names(a),
        revoked=lambda a: "Administrator" not in role_names(a),
        grant_at_vendor=add_aria_role,
        kept_at_vendor=lambda a: "PowerUser" in role_names(a),
    ),
    "rocketchat": Grant(
        groups=("Chat Admins",),
        granted=lambda a: "admin" in a["roles"],
        revoked=lambda a: "admin" not in a["roles"],
        grant_at_vendor=add_rocketchat_role,
        kept_at_vendor=lambda a: "livechat-agent" in a["roles"],
    ),
}
"""CloudShell maps no group: it takes group membership from its own directory (docs/mapping.md)."""


def granted_then_revoked(live: LiveBridge, revoke: Callable[[str, list[str]], None]) -> None:
    """Grant through groups, add a value at the vendor, update the profile, then revoke."""
    grant = GRANTS[live.vendor]
    ada = create(live, "ada")
    group_ids = [create_group(live, name, ada["id"]) for name in grant.groups]
    live.drain()
    assert grant.granted(account_of(live, "ada"))
    if grant.grant_at_vendor is not None:
        with live.emulator.emulator.lock:
            grant.grant_at_vendor(live.emulator.emulator, account_of(live, "ada"))
    patch(live, f"/Users/{ada['id']}", {"op": "replace", "path": "displayName", "value": "Ada L"})
    live.drain()
    assert grant.granted(account_of(live, "ada"))
    assert grant.kept_at_vendor(account_of(live, "ada")), "a profile update clobbered it"
    revoke(ada["id"], group_ids)
    live.drain()
    account = account_of(live, "ada")
    assert grant.revoked(account)
    assert grant.kept_at_vendor(account)


@pytest.mark.parametrize("live", list(GRANTS), indirect=True)
def test_leaving_the_group_revokes_what_it_granted_and_keeps_the_vendors_own(live):
    def leave(user_id: str, group_ids: list[str]) -> None:
        for group_id in group_ids:
            patch(
                live,
                f"/Groups/{group_id}",
                {"op": "remove", "path": f'members[value eq "{user_id}"]'},
            )

    granted_then_revoked(live, leave)


@pytest.mark.parametrize("live", list(GRANTS), indirect=True)
def test_deleting_the_group_revokes_what_it_granted_and_keeps_the_vendors_own(live):
    def delete(user_id: str, group_ids: list[str]) -> None:
        for group_id in group_ids:
            assert live.scim("DELETE", f"/Groups/{group_id}").status_code == 204

    granted_then_revoked(live, delete)


# -- The same person, and never another ----------------------------------------------------


def reused_user_name(live: LiveBridge) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """john (okta-OLD) provisioned and deleted, then another john (okta-NEW) created; returns
    the new SCIM user and the former account as it was after the deletion."""
    old = provision(live, "john", externalId="okta-OLD")
    live.drain()
    assert live.scim("DELETE", f"/Users/{old['id']}").status_code == 204
    live.drain()
    former = account_of(live, "john")
    assert ACCOUNTS[live.vendor].deprovisioned(former)
    new = provision(live, "john", externalId="okta-NEW-PERSON")
    live.drain()
    return new, former


@pytest.mark.parametrize("live_on", ["acc"], indirect=True)
def test_acc_gives_a_new_person_with_a_reused_email_a_new_project_user(live_on):
    live = live_on
    old = create(live, "john", externalId="okta-OLD")
    live.drain()
    former_id = account_of(live, "john")["id"]
    assert live.scim("DELETE", f"/Users/{old['id']}").status_code == 204
    live.drain()
    new = create(live, "john", externalId="okta-NEW-PERSON")
    live.drain()
    assert account_of(live, "john")["id"] != former_id
    assert delivery(live, new["id"])["status"] == "delivered"


@pytest.mark.parametrize("vendor", ["aria", "cloudshell"])
def test_allow_takeover_lets_a_new_person_take_over_the_former_account(tmp_path, vendor):
    live, stop = start_live(tmp_path, vendor, delivery={"allow_takeover": True})
    try:
        new, former = reused_user_name(live)
        account = account_of(live, "john")
        assert account[ACCOUNTS[vendor].id] == former[ACCOUNTS[vendor].id]
        assert not ACCOUNTS[vendor].deprovisioned(account)
        assert delivery(live, new["id"])["status"] == "delivered"
    finally:
        stop()


# -- Identity and deprovisioning that the mapping cannot stop --------------------------------


@pytest.mark.parametrize("live", ["confide"], indirect=True)
def test_confide_an_email_change_revokes_the_old_address_and_imports_the_new(live):
    ada = create(live, "ada")
    create_group(live, "Confide Coordinators", ada["id"])
    live.drain()
    new_address = [{"value": "ada.new@example.com", "type": "work", "primary": True}]
    patch(live, f"/Users/{ada['id']}", {"op": "replace", "path": "emails", "value": new_address})
    live.drain()
    assert GRANTS["confide"].revoked(account_of(live, "ada"))
    assert GRANTS["confide"].granted(account_of(live, "ada.new"))
    assert delivery(live, ada["id"])["vendorId"] == "ada.new@example.com"


UNMAPPABLE = {
    "confide": {"emails": []},
    "acc": {"emails": []},
    "rocketchat": {"emails": []},
    "aria": {"userName": "ada lovelace@example.com"},
}
"""A deactivating PUT each vendor's mapping cannot turn into a record (a missing email, an
Aria user name with a space); CloudShell maps every userName."""


@pytest.mark.parametrize("live", list(UNMAPPABLE), indirect=True)
def test_a_deactivation_the_mapping_cannot_map_is_accepted_and_deprovisions(live):
    ada = create(live, "ada")
    live.drain()
    replacement = {**scim_user("ada"), **UNMAPPABLE[live.vendor], "active": False}
    response = live.scim("PUT", f"/Users/{ada['id']}", replacement)
    assert response.status_code == 200, response.text
    live.drain()
    assert ACCOUNTS[live.vendor].deprovisioned(account_of(live, "ada"))
    assert delivery(live, ada["id"])["status"] == "delivered"
