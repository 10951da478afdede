"""Pausing a user: its writes are kept and held back from the vendor, except a deprovisioning."""

from __future__ import annotations

from outbox_doubles import AUTH, USER_SCHEMA, create_group, delivery_state, patch, states

from scimbridge.delivery.state import DELIVERY_STATE, delivery_counts, list_entries
from scimbridge.vendors.base import Action

PAUSED = {"schemas": [USER_SCHEMA, DELIVERY_STATE], DELIVERY_STATE: {"paused": True}}


def pause(client, user_id, paused=True):
    return patch(
        client, user_id, {"op": "replace", "path": f"{DELIVERY_STATE}:paused", "value": paused}
    )


def test_a_user_created_paused_is_held_not_delivered(client, create, drain, vendor, bridge):
    created = create("ada", **PAUSED)
    drain()
    assert vendor.delivered() == []
    assert states(bridge) == ["held"]
    assert delivery_state(client, created["id"]) == {"status": "held"}


def test_unpausing_delivers_the_latest_version_once(client, create, drain, vendor, bridge):
    created = create("ada", **PAUSED)
    patch(client, created["id"], {"op": "replace", "path": "name.givenName", "value": "Augusta"})
    pause(client, created["id"], False)
    drain()
    [item] = vendor.delivered()
    assert item.record["name"] == "Augusta Tester"
    assert states(bridge) == ["superseded", "superseded", "delivered"]


def test_removing_the_extension_unpauses(client, create, drain, vendor):
    created = create("ada", **PAUSED)
    patch(client, created["id"], {"op": "remove", "path": DELIVERY_STATE})
    drain()
    assert len(vendor.delivered()) == 1


def test_a_write_accepted_before_the_pause_is_still_delivered(
    client, create, drain, vendor, bridge
):
    created = create("ada")
    pause(client, created["id"])
    drain()
    assert len(vendor.delivered()) == 1
    assert states(bridge) == ["delivered", "held"]
    assert delivery_state(client, created["id"])["status"] == "held"


def test_deactivating_a_paused_user_is_delivered(client, create, drain, vendor):
    created = create("ada")
    drain()
    pause(client, created["id"])
    patch(client, created["id"], {"op": "replace", "value": {"active": False}})
    drain()
    assert [item.action for item in vendor.delivered()] == [Action.IMPORT, Action.DISABLE]


def test_deleting_a_paused_user_is_delivered(client, create, drain, vendor, bridge):
    created = create("ada")
    drain()
    pause(client, created["id"])
    assert client.delete(f"/scim/v2/chat/Users/{created['id']}", headers=AUTH).status_code == 204
    drain()
    assert len(vendor.delivered()) == 2
    assert states(bridge) == ["delivered", "superseded", "delivered"]


def test_a_group_change_of_a_paused_user_is_held(client, create, drain, vendor, bridge):
    ada = create("ada", **PAUSED)
    create_group(client, "Chat Admins", ada["id"])
    drain()
    assert vendor.delivered() == []
    assert states(bridge) == ["superseded", "held"]


def test_held_entries_are_counted_and_listed(create, bridge):
    create("ada", **PAUSED)
    with bridge.database.transaction():
        assert delivery_counts(bridge.database.session) == {"chat": {"held": 1}}
        [entry] = list_entries(bridge.database.session)
    assert (entry["state"], entry["user_name"]) == ("held", "ada")
