"""The outbox and its worker: nothing lost, nothing reordered, nothing delivered twice in effect."""

from __future__ import annotations

from outbox_doubles import AUTH, create_group, delivery_state, patch, states, unavailable

from scimbridge.delivery.state import DELIVERY_STATE, list_entries, retry_failed
from scimbridge.vendors.base import Action, Outcome


def test_a_created_user_is_delivered_once_as_an_import(create, drain, vendor):
    create("ada")
    drain()
    [item] = vendor.delivered()
    assert item.action is Action.IMPORT
    assert item.record["username"] == "ada"
    assert item.first_import is True


def test_the_user_shows_its_delivery_state_on_request(client, create, drain, vendor):
    created = create("ada")
    assert DELIVERY_STATE not in created
    assert delivery_state(client, created["id"]) == {"status": "pending"}
    drain()
    vendor_id = vendor.vendor_ids[vendor.delivered()[0].key]
    assert delivery_state(client, created["id"]) == {"status": "delivered", "vendorId": vendor_id}


def refuse_every_user(items):
    return [Outcome(key=item.key, ok=False, error="email taken") for item in items]


def refuse_until_parked(bridge, worker, vendor, clock):
    """Let the vendor refuse the user ``max_attempts`` times in a row."""
    for _ in range(bridge.config.target("chat").delivery.max_attempts):
        vendor.script.append(refuse_every_user)
        assert worker.run_once() == 1
        clock.advance(60)


def test_a_refused_delivery_shows_its_error_and_is_tried_again(
    client, create, worker, vendor, clock
):
    created = create("ada")
    vendor.script.append(refuse_every_user)
    worker.run_once()
    assert delivery_state(client, created["id"]) == {
        "status": "pending",
        "lastError": "email taken",
    }
    clock.advance(60)
    worker.run_once()
    assert delivery_state(client, created["id"])["status"] == "delivered"


def test_a_user_refused_max_attempts_times_is_parked_as_failed(
    client, create, worker, vendor, clock, bridge
):
    created = create("ada")
    refuse_until_parked(bridge, worker, vendor, clock)
    assert delivery_state(client, created["id"]) == {"status": "failed", "lastError": "email taken"}
    assert worker.run_once() == 0
    assert states(bridge) == ["failed"]


def test_later_writes_supersede_undelivered_ones(client, create, drain, vendor, bridge):
    created = create("ada")
    patch(client, created["id"], {"op": "replace", "path": "name.givenName", "value": "Augusta"})
    patch(client, created["id"], {"op": "replace", "path": "name.familyName", "value": "King"})
    drain()
    [item] = vendor.delivered()
    assert item.record["name"] == "Augusta King"
    assert states(bridge) == ["superseded", "superseded", "delivered"]


def test_a_user_in_flight_is_not_delivered_again_until_settled(
    client, create, bridge, vendor, clock, new_worker
):
    created = create("ada")
    first = new_worker()
    claimed = first._claim(bridge.config.target("chat"), limit=3).entries
    patch(client, created["id"], {"op": "replace", "path": "name.givenName", "value": "Augusta"})
    second = new_worker()
    assert second.run_once() == 0
    assert [entry.seq for entry in claimed] == [1]


def test_other_users_are_delivered_while_one_is_in_flight(
    create, bridge, vendor, clock, new_worker
):
    create("ada")
    first = new_worker()
    first._claim(bridge.config.target("chat"), limit=1)
    create("bob")
    second = new_worker()
    assert second.run_once() == 1
    assert [item.record["username"] for item in vendor.delivered()] == ["bob"]


def test_a_one_import_at_a_time_vendor_gets_one_batch_at_a_time(
    create, bridge, vendor, clock, new_worker
):
    vendor.one_batch_at_a_time = True
    create("ada")
    first = new_worker()
    first._claim(bridge.config.target("chat"), limit=1)
    create("bob")
    second = new_worker()
    assert second.run_once() == 0
    assert vendor.delivered() == []


def test_an_expired_claim_is_taken_over_by_another_worker(
    create, bridge, vendor, clock, drain, new_worker
):
    create("ada")
    crashed = new_worker()
    crashed._claim(bridge.config.target("chat"), limit=3)
    assert drain() == 0
    clock.advance(bridge.config.target("chat").delivery.lease_seconds + 1)
    drain()
    assert [item.record["username"] for item in vendor.delivered()] == ["ada"]


def test_batches_never_exceed_the_vendor_limit(create, drain, vendor):
    for name in ("a1", "a2", "a3", "a4", "a5", "a6", "a7"):
        create(name)
    drain()
    assert [len(batch) for batch in vendor.batches] == [3, 3, 1]


def test_an_unavailable_vendor_is_retried_after_the_backoff(create, worker, vendor, clock, bridge):
    create("ada")
    vendor.script.append(unavailable())
    assert worker.run_once() == 1
    assert worker.run_once() == 0, "retried before the backoff elapsed"
    clock.advance(8)
    assert worker.run_once() == 1
    assert len(vendor.batches) == 2
    assert states(bridge) == ["delivered"]


def test_the_wait_the_vendor_asks_for_sets_the_next_attempt(create, worker, vendor, clock):
    create("ada")
    vendor.script.append(unavailable(retry_after=120))
    worker.run_once()
    clock.advance(119)
    assert worker.run_once() == 0
    clock.advance(14)
    assert worker.run_once() == 1


def test_a_per_user_refusal_does_not_hold_back_the_others(create, worker, vendor, bridge):
    create("ada")
    create("bob")

    def refuse_ada(items):
        return [
            Outcome(key=item.key, ok=False, error="duplicate email")
            if item.record["username"] == "ada"
            else vendor.accept(item)
            for item in items
        ]

    vendor.script.append(refuse_ada)
    worker.run_once()
    assert states(bridge) == ["pending", "delivered"]


def test_a_later_delivery_settles_the_parked_entries_of_the_same_user(
    client, create, worker, vendor, bridge, clock
):
    created = create("ada")
    refuse_until_parked(bridge, worker, vendor, clock)
    patch(client, created["id"], {"op": "replace", "path": "name.givenName", "value": "Augusta"})
    worker.run_once()
    assert states(bridge) == ["superseded", "delivered"]


def test_a_parked_entry_is_listed_and_can_be_retried(create, worker, vendor, bridge, clock, drain):
    create("ada")
    refuse_until_parked(bridge, worker, vendor, clock)
    with bridge.database.transaction():
        [parked] = list_entries(bridge.database.session, "chat", ("failed",))
    assert (parked["attempts"], parked["failures"]) == (4, 4)
    assert parked["last_error"] == "email taken"
    with bridge.database.transaction():
        retried = retry_failed(bridge.database.session, bridge.database.now(), "chat")
    assert retried.queued == [parked["seq"]]
    drain()
    assert states(bridge) == ["delivered"]


def test_deactivation_follows_the_mapping_deprovision_rule(client, create, drain, vendor):
    created = create("ada")
    drain()
    patch(client, created["id"], {"op": "replace", "value": {"active": False}})
    drain()
    assert vendor.delivered()[-1].action is Action.DISABLE


def test_a_recreated_user_keeps_its_stable_and_vendor_identity(client, create, drain, vendor):
    created = create("ada", externalId="00u-ada")
    drain()
    first = vendor.delivered()[-1]
    assert client.delete(f"/scim/v2/chat/Users/{created['id']}", headers=AUTH).status_code == 204
    drain()
    assert vendor.delivered()[-1].key == first.key
    create("ada", externalId="00u-ada")
    drain()
    again = vendor.delivered()[-1]
    assert again.key == first.key
    assert again.vendor_id == vendor.vendor_ids[first.key]
    assert again.first_import is False
    assert again.action is Action.IMPORT


def test_a_recreated_user_without_external_id_is_found_by_user_name(client, create, drain, vendor):
    created = create("ada")
    drain()
    client.delete(f"/scim/v2/chat/Users/{created['id']}", headers=AUTH)
    drain()
    create("ADA")
    drain()
    keys = {item.key for item in vendor.delivered()}
    assert len(keys) == 1


def test_a_group_change_redelivers_its_members(client, create, drain, vendor):
    ada = create("ada")
    drain()
    create_group(client, "Chat Admins", ada["id"])
    drain()
    assert len(vendor.delivered()) == 2
    assert "admin" in vendor.delivered()[-1].record["roles"]


def test_a_password_sent_by_the_idp_is_stored_nowhere(create, bridge, drain, vendor):
    from scimbridge.store.tables import metadata

    create("ada", password="S3cret-Passw0rd!")
    drain()
    with bridge.database.transaction():
        rows = [
            str(row)
            for table in metadata.sorted_tables
            for row in bridge.database.session.execute(table.select())
        ]
    assert rows
    assert not [row for row in rows if "S3cret-Passw0rd!" in row]
    assert "password" not in vendor.delivered()[0].record


def test_a_user_the_mapping_cannot_map_is_refused_and_not_stored(client, drain, vendor):
    body = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "no-email"}
    response = client.post("/scim/v2/chat/Users", json=body, headers=AUTH)
    assert response.status_code == 400
    assert response.json["scimType"] == "invalidValue"
    assert "email" in response.json["detail"]
    listed = client.get('/scim/v2/chat/Users?filter=userName eq "no-email"', headers=AUTH).json
    assert listed["totalResults"] == 0
    assert drain() == 0
