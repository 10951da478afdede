"""What ``outbox list`` reads: each entry names the change it carries, when it was tried,
and the vendor id its delivery reached, even after the user's vendor id changed."""

from __future__ import annotations

from outbox_doubles import AUTH, create_group, patch

from scimbridge.delivery.state import list_entries, retry_failed
from scimbridge.vendors.base import Outcome


def listed(bridge, **options):
    with bridge.database.transaction(writing=False):
        return list_entries(bridge.database.session, states=("pending", "delivered"), **options)


def changes(bridge, **options):
    return [entry["change"] for entry in listed(bridge, **options)]


def test_a_creation_is_listed_as_create(bridge, create):
    create("ada")
    assert changes(bridge) == ["create"]


def test_an_attribute_change_is_listed_as_update(bridge, client, create, drain):
    created = create("ada")
    drain()
    patch(client, created["id"], {"op": "replace", "path": "title", "value": "Countess"})
    assert changes(bridge) == ["create", "update"]


def test_deactivation_and_reactivation_are_named_apart_from_updates(bridge, client, create, drain):
    created = create("ada")
    drain()
    patch(client, created["id"], {"op": "replace", "value": {"active": False, "title": "Former"}})
    drain()
    patch(client, created["id"], {"op": "replace", "value": {"active": True}})
    assert changes(bridge) == ["create", "deactivate", "reactivate"]


def test_a_deletion_is_listed_as_delete(bridge, client, create, drain):
    created = create("ada")
    drain()
    assert client.delete(f"/scim/v2/chat/Users/{created['id']}", headers=AUTH).status_code == 204
    assert changes(bridge) == ["create", "delete"]


def test_a_membership_change_is_listed_as_group(bridge, client, create, drain):
    created = create("ada")
    drain()
    create_group(client, "Chat Admins", created["id"])
    assert changes(bridge) == ["create", "group"]


def test_a_user_created_again_after_deletion_is_listed_as_create(bridge, client, create, drain):
    created = create("ada")
    drain()
    client.delete(f"/scim/v2/chat/Users/{created['id']}", headers=AUTH)
    drain()
    create("ada")
    assert changes(bridge) == ["create", "delete", "create"]


def test_entries_are_found_by_scim_id_user_name_or_external_id(bridge, create):
    ada = create("ada", externalId="00u-ada")
    create("grace")
    for key in (ada["id"], "ADA", "00u-ada"):
        assert [entry["user_name"] for entry in listed(bridge, user=key)] == ["ada"]


def test_a_delivered_entry_keeps_the_vendor_id_it_reached(bridge, client, create, drain, vendor):
    created = create("ada")
    drain()
    [item] = vendor.delivered()
    vendor.vendor_ids[item.key] = "second-account"
    patch(client, created["id"], {"op": "replace", "path": "title", "value": "Countess"})
    first_id = "v1"
    assert [entry["vendor_id"] for entry in listed(bridge)] == [first_id, first_id]
    drain()
    assert [entry["vendor_id"] for entry in listed(bridge)] == [first_id, "second-account"]


def test_an_entry_records_when_it_was_last_tried(bridge, create, worker, vendor, clock):
    create("ada")
    [entry] = listed(bridge)
    assert entry["last_attempt_at"] is None
    vendor.script.append(lambda items: [Outcome(key=i.key, ok=False, error="no") for i in items])
    worker.run_once()
    [entry] = listed(bridge)
    assert entry["last_attempt_at"] is not None
    assert entry["next_attempt_at"] > entry["last_attempt_at"]


def test_retry_explains_each_numbered_entry_it_leaves(bridge, create, drain):
    create("ada")
    drain()
    create("grace")
    delivered, pending = (entry["seq"] for entry in listed(bridge))
    with bridge.database.transaction():
        retried = retry_failed(
            bridge.database.session, bridge.database.now(), "chat", [delivered, pending, 999]
        )
    assert retried.queued == []
    assert retried.refused == {
        delivered: "it was delivered: the vendor has it",
        pending: "it is pending: queued already",
        999: "no such entry",
    }
