"""The worker's side of ``first_available`` (docs/mapping.md, "Unique values"), against a
scripted vendor: which user name each user gets, and what happens when none is free.

The target maps with the default Rocket.Chat mapping: candidates "<local part>",
"<local part>.<first domain label>", then "<local part>.<6 hex of the bridge's id>".
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from importlib.resources import files
from typing import Any

from outbox_doubles import AUTH, delivery_state, patch
from sqlalchemy import delete, select

from scimbridge.config import default_mapping
from scimbridge.delivery.choosing import Wish, reserve, reserve_all
from scimbridge.mapping import load_mapping
from scimbridge.mapping.shapes import RecordShape
from scimbridge.store.delivery_tables import chosen_values, links


def usernames(vendor: Any) -> list[str]:
    return [item.record["username"] for item in vendor.delivered()]


def test_two_users_in_one_batch_never_get_the_same_value(create, drain, vendor):
    create("john@a.example")
    create("john@b.example")

    drain()

    assert usernames(vendor) == ["john", "john.b"]


def test_a_value_the_vendor_holds_for_another_account_is_skipped(create, drain, vendor):
    vendor.held["john"] = "somebody-else"

    create("john@a.example")
    drain()

    assert usernames(vendor) == ["john.a"]


def test_a_value_the_users_own_account_holds_is_the_users(client, create, drain, vendor, bridge):
    """A user delivered before its mapping chose anything (an older bridge) keeps its name."""
    john = create("john@a.example")
    drain()
    with bridge.database.transaction() as session:
        session.execute(delete(chosen_values))
    patch(client, john["id"], {"op": "replace", "path": "displayName", "value": "J"})

    drain()

    assert usernames(vendor) == ["john", "john"]


def test_a_user_sent_before_its_name_was_chosen_keeps_the_name_the_vendor_has(
    client, create, drain, vendor, bridge
):
    """The vendor names the holder in its own terms (Rocket.Chat's ``_id``), not in the
    bridge's vendor id: the record it was sent decides, not the lookup."""
    john = create("john@a.example")
    drain()
    with bridge.database.transaction() as session:
        session.execute(delete(chosen_values))
    vendor.held["john"] = "the-vendors-own-id-of-john"
    patch(client, john["id"], {"op": "replace", "path": "displayName", "value": "J"})

    drain()

    assert usernames(vendor) == ["john", "john"]


def test_a_user_with_every_candidate_taken_fails_naming_them(client, create, drain, vendor):
    vendor.holders = lambda field, values: dict.fromkeys(values, "somebody-else")

    john = create("john@a.example")
    drain()

    state = delivery_state(client, john["id"])  # a failure: retried up to max_attempts
    assert "every candidate for username is taken" in state["lastError"]
    assert "john, john.a" in state["lastError"]
    assert vendor.delivered() == []


def test_a_candidate_the_record_shape_refuses_is_passed_over_and_named(
    bridge, client, create, drain, vendor
):
    """A vendor whose user names are at most eight characters: the third candidate,
    "john.<6 hex>", is never asked about, and the failure names it."""
    schema = json.loads(files("scimbridge.vendors.records").joinpath("rocketchat.json").read_text())
    schema["properties"]["username"]["maxLength"] = 8
    shape = RecordShape("rocketchat", schema, frozenset({"username"}), renames_accounts=True)
    bridge.mappings["chat"] = load_mapping(str(default_mapping("rocketchat")), lambda _: shape)
    vendor.holders = lambda field, values: dict.fromkeys(values, "somebody-else")

    john = create("john@a.example")
    drain()

    error = delivery_state(client, john["id"])["lastError"]
    assert "taken at rocketchat or by another user of the bridge: john, john.a;" in error
    assert "rocketchat's record shape refuses john." in error


def test_a_vendor_that_cannot_answer_now_is_asked_again_later(client, create, worker, vendor):
    vendor.lookups_unavailable = True
    john = create("john@a.example")

    worker.run_once()

    state = delivery_state(client, john["id"])
    assert state["status"] == "pending"
    assert "503" in state["lastError"]
    vendor.lookups_unavailable = False
    worker.clock.advance(60)
    while worker.run_once():
        pass
    assert usernames(vendor) == ["john"]


def test_a_deprovision_of_a_user_never_sent_sends_nothing(client, create, drain, vendor):
    john = create("john@a.example", active=False)

    drain()

    assert vendor.delivered() == []
    assert delivery_state(client, john["id"])["status"] == "delivered"


def test_a_former_users_value_is_never_given_to_a_new_person(client, create, drain, vendor):
    old = create("john@a.example", externalId="okta-OLD")
    drain()
    assert client.delete(f"/scim/v2/chat/Users/{old['id']}", headers=AUTH).status_code == 204
    drain()
    vendor.held.clear()  # the vendor removed the account; the bridge still remembers

    create("john@a.example", externalId="okta-NEW-PERSON")
    drain()

    assert usernames(vendor)[-1] == "john.a"


def test_the_value_is_stored_for_the_user_before_the_record_goes_out(
    create, worker, vendor, bridge
):
    vendor.script.append(lambda items: [])  # the vendor answers nothing about the batch
    create("john@a.example")

    worker.run_once()

    with bridge.database.transaction() as session:
        rows = session.execute(select(chosen_values.c.field, chosen_values.c.value)).all()
    assert [tuple(row) for row in rows] == [("username", "john")]


RACED_VALUES = [f"name{n}" for n in range(20)]
"""The values four workers race for, each for its own user."""


def race_four_workers(
    bridge, create, race: Callable[[Any, str, threading.Barrier], list[str]]
) -> dict[str, list[str]]:
    """Four users, each with a worker thread running ``race(target, link_id, start)``
    over :data:`RACED_VALUES` (``start`` lines them up); the values each one won, by link."""
    for n in range(4):
        create(f"user{n}@example.com")
    with bridge.database.transaction() as session:
        link_ids = session.execute(select(links.c.id)).scalars().all()
    target = bridge.config.target("chat")
    start = threading.Barrier(len(link_ids))
    with ThreadPoolExecutor(len(link_ids)) as pool:
        won = pool.map(lambda link_id: race(target, link_id, start), link_ids)
        return dict(zip(link_ids, won, strict=True))


def assert_each_value_is_one_users(bridge, won: dict[str, list[str]]) -> None:
    assert sorted(value for wins in won.values() for value in wins) == sorted(RACED_VALUES)
    with bridge.database.transaction() as session:
        held = dict(session.execute(select(chosen_values.c.value, chosen_values.c.link_id)).all())
    assert held == {value: link for link, wins in won.items() for value in wins}


def test_workers_racing_for_one_value_give_it_to_one_user(bridge, create):
    """Four workers choose at the same moment, for four users, each of twenty values: the
    table's key, not the look before the insert, makes each value one user's."""

    def race(target: Any, link_id: str, start: threading.Barrier) -> list[str]:
        won = []
        for value in RACED_VALUES:
            start.wait()
            if reserve(bridge.database, target, link_id, "username", value):
                won.append(value)
        return won

    assert_each_value_is_one_users(bridge, race_four_workers(bridge, create, race))


def test_workers_racing_for_a_batch_of_values_give_each_to_one_user(bridge, create):
    """Four workers reserve the same twenty values at the same moment, each for its user and
    all in one transaction (``reserve_all``, a round of a batch): when the key refuses a
    worker's insert, its wishes are tried one by one, and each value is one user's."""

    def race(target: Any, link_id: str, start: threading.Barrier) -> list[str]:
        start.wait()
        wishes = [Wish(link_id, "username", value) for value in RACED_VALUES]
        return [wish.value for wish in reserve_all(bridge.database, target, wishes)]

    assert_each_value_is_one_users(bridge, race_four_workers(bridge, create, race))
