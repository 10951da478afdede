"""End to end, per vendor: SCIM in on loopback, the vendor emulator's end state out.

The lifecycle of issue 4: three users created (one of them through Bulk), one
updated, one deactivated, one deleted and re-created with the same
``externalId``. The emulator must end up holding exactly the expected users,
each once, the re-created one under its original vendor identity.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from scimbridge.testing import scim_user

PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


@dataclass(frozen=True)
class VendorView:
    """How to read one vendor's users: who they are, their vendor id, whether they are active."""

    identity: Callable[[dict[str, Any]], str]
    vendor_id: Callable[[dict[str, Any]], Any]
    active: Callable[[dict[str, Any]], bool]
    given_name: Callable[[dict[str, Any]], str | None]
    keeps_deactivated_users: bool = True


CONFIDE_PERMISSIONS = ("isShareCoordinator", "canConfigureScan", "canShareLink")
VIEWS = {
    "confide": VendorView(
        identity=lambda user: user["email"].split("@")[0],
        vendor_id=lambda user: user["email"],
        active=lambda user: True,
        given_name=lambda user: None,
    ),
    "acc": VendorView(
        identity=lambda user: user["email"].split("@")[0],
        vendor_id=lambda user: user["email"],
        active=lambda user: True,
        given_name=lambda user: None,
        keeps_deactivated_users=False,
    ),
    "aria": VendorView(
        identity=lambda user: user["username"].split("@")[0],
        vendor_id=lambda user: user["id"],
        active=lambda user: user["enabled"],
        given_name=lambda user: user["firstName"],
    ),
    "rocketchat": VendorView(
        identity=lambda user: user["username"].split("@")[0],
        vendor_id=lambda user: (user["_id"], tuple(user["importIds"])),
        active=lambda user: user["active"],
        given_name=lambda user: user["name"].split()[0],
    ),
    "cloudshell": VendorView(
        identity=lambda user: user["Username"],
        vendor_id=lambda user: user["Id"],
        active=lambda user: user["IsActive"],
        given_name=lambda user: None,
    ),
}


def vendor_users(live: Any) -> dict[str, dict[str, Any]]:
    """The emulator's users by identity, asserting that none is there twice."""
    view = VIEWS[live.vendor]
    users = live.emulator.users()
    identities = [view.identity(user) for user in users]
    assert len(identities) == len(set(identities)), f"duplicated vendor users: {identities}"
    return dict(zip(identities, users, strict=True))


def lifecycle(live: Any) -> dict[str, Any]:
    """Run issue 4's lifecycle, draining the outbox after each step; return cy's vendor id before deletion."""
    ada = live.scim("POST", "/Users", scim_user("ada"))
    assert ada.status_code == 201, ada.text
    bulk = live.scim(
        "POST",
        "/Bulk",
        {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
            "Operations": [
                {"method": "POST", "path": "/Users", "bulkId": name, "data": scim_user(name)}
                for name in ("bob", "cy")
            ],
        },
    )
    assert [operation["status"] for operation in bulk.json()["Operations"]] == ["201", "201"]
    bob_id, cy_id = (op["location"].rsplit("/", 1)[1] for op in bulk.json()["Operations"])
    live.drain()
    cy_before = VIEWS[live.vendor].vendor_id(vendor_users(live)["cy"])

    rename = {"op": "replace", "path": "name.givenName", "value": "Augusta"}
    assert live.scim(
        "PATCH", f"/Users/{ada.json()['id']}", {"schemas": [PATCH], "Operations": [rename]}
    ).ok
    deactivate = {"op": "replace", "value": {"active": False}}
    assert live.scim(
        "PATCH", f"/Users/{bob_id}", {"schemas": [PATCH], "Operations": [deactivate]}
    ).ok
    live.drain()
    assert live.scim("DELETE", f"/Users/{cy_id}").status_code == 204
    live.drain()
    assert live.scim("POST", "/Users", scim_user("cy")).status_code == 201
    live.drain()
    return {"cy_before": cy_before}


VENDORS = list(VIEWS)


@pytest.mark.parametrize("live", VENDORS, indirect=True)
def test_the_vendor_ends_with_exactly_the_expected_users(live):
    lifecycle(live)
    expected = {"ada", "bob", "cy"} if VIEWS[live.vendor].keeps_deactivated_users else {"ada", "cy"}
    assert set(vendor_users(live)) == expected


@pytest.mark.parametrize("live", VENDORS, indirect=True)
def test_a_recreated_user_comes_back_as_the_same_vendor_user(live):
    before = lifecycle(live)["cy_before"]
    cy = vendor_users(live)["cy"]
    assert VIEWS[live.vendor].vendor_id(cy) == before
    assert VIEWS[live.vendor].active(cy)


@pytest.mark.parametrize("live", ["aria", "rocketchat", "cloudshell"], indirect=True)
def test_deactivation_and_updates_reach_the_vendor(live):
    lifecycle(live)
    users = vendor_users(live)
    view = VIEWS[live.vendor]
    assert view.active(users["ada"]) and not view.active(users["bob"])
    if view.given_name(users["ada"]) is not None:
        assert view.given_name(users["ada"]) == "Augusta"


@pytest.mark.parametrize("live", ["confide"], indirect=True)
def test_confide_permissions_follow_groups_and_deactivation_withdraws_them(live):
    bob = live.scim("POST", "/Users", scim_user("bob")).json()
    group = {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "displayName": "Confide Coordinators",
        "members": [{"value": bob["id"]}],
    }
    assert live.scim("POST", "/Groups", group).status_code == 201
    live.drain()
    assert vendor_users(live)["bob"]["isShareCoordinator"] is True
    deactivate = {"op": "replace", "value": {"active": False}}
    live.scim("PATCH", f"/Users/{bob['id']}", {"schemas": [PATCH], "Operations": [deactivate]})
    live.drain()
    assert not any(vendor_users(live)["bob"][permission] for permission in CONFIDE_PERMISSIONS)
