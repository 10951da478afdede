"""Rocket.Chat: the import operation for new users, the user calls for existing ones."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from scimbridge.vendors.base import Action, DeliveryItem, VendorClient, VendorUnavailable

VENDOR = "rocketchat"


def managed(item: DeliveryItem) -> DeliveryItem:
    """The item as the shipped mapping makes it: ``admin`` is the one role it manages."""
    return replace(item, managed={"roles": ("admin",)})


def grant_in_rocketchat(client: VendorClient, user: dict[str, Any], role: str) -> None:
    """A Rocket.Chat administrator adds a role to the user, outside the bridge."""
    roles = [*user["roles"], role]
    client.call(
        "POST", "/api/v1/users.update", json={"userId": user["_id"], "data": {"roles": roles}}
    )


def test_the_vendor_id_is_the_rocketchat_id_and_the_details_name_the_import_id(harness):
    [outcome] = harness.client().deliver([harness.item(1)])

    assert outcome.vendor_id == harness.user(1)["_id"]
    assert outcome.details["importId"] == "link-1"


def test_an_existing_user_is_updated_not_imported(harness):
    client = harness.client()
    [known] = harness.imported(client, 1)

    [outcome] = client.deliver(
        [harness.item(1, vendor_id=known.vendor_id, first_import=False, name="Renamed User")]
    )

    assert outcome.ok
    assert harness.calls("import.addUsers") == 1
    assert harness.calls("users.update") == 1
    assert harness.user(1)["name"] == "Renamed User"


def test_a_user_with_an_invalid_role_fails_alone(harness):
    client = harness.client()

    outcomes = client.deliver(
        [harness.item(1), harness.item(2, roles=["no-such-role"]), harness.item(3)]
    )

    assert [outcome.ok for outcome in outcomes] == [True, False, True]
    assert "invalid roles" in outcomes[1].error


def test_rocketchat_new_users_are_imported_with_the_granted_roles(harness):
    harness.client().deliver([managed(harness.item(1, roles=["admin"]))])

    assert harness.user(1)["roles"] == ["admin", "user"]  # "user": Rocket.Chat's default


def test_reimporting_a_deactivated_user_reactivates_it(harness):
    client = harness.client()
    [known] = harness.imported(client, 1)
    client.deliver([harness.item(1, Action.DISABLE, known.vendor_id, first_import=False)])

    [outcome] = client.deliver([known])

    assert outcome.ok
    assert harness.user(1)["active"] is True


def test_rocketchat_a_role_granted_in_rocketchat_survives_an_update(harness):
    client = harness.client()
    [known] = harness.imported(client, 1)
    grant_in_rocketchat(client, harness.user(1), "livechat-agent")

    [outcome] = client.deliver(
        [managed(replace(known, record={**known.record, "roles": ["admin"]}))]
    )

    assert outcome.ok
    assert harness.user(1)["roles"] == ["user", "livechat-agent", "admin"]


def test_rocketchat_admin_is_revoked_when_no_longer_granted(harness):
    client = harness.client()
    [outcome] = client.deliver([managed(harness.item(1, roles=["admin"]))])

    client.deliver(
        [managed(harness.item(1, vendor_id=outcome.vendor_id, first_import=False, roles=[]))]
    )

    assert harness.user(1)["roles"] == ["user"]


def test_rocketchat_a_deactivation_keeps_the_users_roles(harness):
    client = harness.client()
    [known] = harness.imported(client, 1)
    grant_in_rocketchat(client, harness.user(1), "livechat-agent")

    [outcome] = client.deliver([managed(replace(known, action=Action.DISABLE))])

    assert outcome.ok
    assert harness.user(1)["active"] is False
    assert harness.user(1)["roles"] == ["user", "livechat-agent"]
    assert harness.calls("users.update") == 1  # the grant above, none by the deactivation


def test_rocketchat_a_removal_deletes_the_user(harness):
    client = harness.client()
    [known] = harness.imported(client, 1)

    [outcome] = client.deliver([replace(known, action=Action.REMOVE)])

    assert outcome.ok
    assert harness.emu.users() == []
    assert harness.calls("users.delete") == 1


def test_rocketchat_a_first_import_delivered_twice_leaves_one_user(harness):
    """The bridge crashed after the import, before it recorded the outcome."""
    client = harness.client()
    item = harness.item(1)

    first, again = client.deliver([item]) + client.deliver([item])

    assert first.ok and again.ok and again.vendor_id == first.vendor_id
    assert [user["username"] for user in harness.emu.users()] == ["user1"]
    assert harness.calls("import.addUsers") == 1
    assert harness.calls("users.update") == 0  # the user holds the record already


def test_rocketchat_a_first_import_repeated_after_a_dropped_connection_leaves_one_user(harness):
    harness.emu.fault(path="import.run", after="disconnect")
    client = harness.client()
    with pytest.raises(VendorUnavailable):
        client.deliver([harness.item(1)])

    [again] = client.deliver([harness.item(1)])

    [user] = harness.emu.users()
    assert again.ok and again.vendor_id == user["_id"]
    assert user["username"] == "user1"
    assert harness.calls("import.addUsers") == 1


def test_rocketchat_a_timed_out_import_then_a_deactivation_deactivates_the_user(harness):
    harness.emu.fault(path="import.run", after="timeout", delay=1.0)
    client = harness.client(delivery={"timeout_seconds": 0.5})
    with pytest.raises(VendorUnavailable, match="Timeout"):
        client.deliver([harness.item(1)])

    [outcome] = client.deliver([harness.item(1, Action.DISABLE)])

    [user] = harness.emu.users()
    assert outcome.ok and outcome.vendor_id == user["_id"]
    assert user["username"] == "user1" and user["active"] is False


def test_rocketchat_a_taken_username_names_its_holder(harness, bridge_user):
    client = harness.client()
    client.deliver([harness.item(9, username="user1")])
    client.bridge_users = bridge_user("link-9")

    [outcome] = client.deliver([harness.item(1)])

    assert not outcome.ok and not outcome.retryable
    assert outcome.error == (
        f"rocketchat: the user name user1 is taken by another user of the bridge "
        f"({bridge_user.description})"
    )
    assert [user["importIds"] for user in harness.emu.users()] == [["link-9"]]


def test_rocketchat_a_username_taken_outside_the_bridge_names_the_rocketchat_user(harness):
    client = harness.client()
    client.deliver([harness.item(9, username="user1", importIds=["hr-system-9"])])
    holder = harness.user(1)["_id"]

    [outcome] = client.deliver([harness.item(1)])

    assert not outcome.ok and not outcome.retryable
    assert outcome.error == (
        "rocketchat: the user name user1 is taken by a Rocket.Chat user the bridge "
        f"does not manage (_id {holder})"
    )


def test_rocketchat_a_refused_lookup_fails_the_users_with_the_vendors_words(harness):
    """A 403 (the token lacks ``view-full-other-user-info``) is not "User not found.": a
    deactivation is never reported done, and nobody is imported on its strength."""
    client = harness.client()
    [known] = harness.imported(client, 1)
    harness.emu.fault(status=403, path="users.info")

    [outcome] = client.deliver([replace(known, action=Action.DISABLE)])

    assert not outcome.ok and "403" in outcome.error
    assert harness.user(1)["active"] is True


def test_two_thousand_new_users_go_in_one_import_operation(harness):
    """One ``addUsers`` of every user (``max_batch``), one run, one listing on each side."""
    outcomes = harness.client().deliver([harness.item(n) for n in range(1, 2001)])

    assert all(outcome.ok for outcome in outcomes)
    assert len(harness.emu.users()) == 2000
    [staged] = harness.sent("import.addUsers")
    assert len(staged["json"]["users"]) == 2000
    assert (harness.calls("import.new"), harness.calls("import.run")) == (1, 1)
    assert harness.calls("users.list", "GET") == 2
    assert harness.calls("users.info", "GET") == 0
