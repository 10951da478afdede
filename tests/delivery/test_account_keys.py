"""One vendor account, one person (docs/architecture.md, "One account, one person").

The worker reserves each account key value of a record (an email at Confide and ACC, a
user name at Aria, Rocket.Chat and CloudShell) for one user before anything is sent
(:mod:`scimbridge.delivery.identity`); a changed key is an identity change the mapping
settles. Every test asserts what the vendor holds, read from its emulator.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from sqlalchemy import delete, select

from scimbridge.delivery.worker import Worker
from scimbridge.store.delivery_tables import account_keys, links
from scimbridge.testing import LiveBridge
from scimbridge.testing.contract import create_user, delivery_state, join_group, patch, set_active
from scimbridge.testing.live import scim_user

SHARED = "shared@example.com"


def sharing_one_email(live: LiveBridge, *names: str) -> list[dict[str, Any]]:
    """Different people (userName, externalId) whom the IdP gives one work email."""
    emails = [{"value": SHARED, "type": "work", "primary": True}]
    return [create_user(live, name, emails=emails) for name in names]


def accounts_with_email(live: LiveBridge, email: str) -> list[dict[str, Any]]:
    return [user for user in live.emulator.users() if str(user["email"]).lower() == email]


def rename(live: LiveBridge, user: dict[str, Any], name: str) -> None:
    """The IdP renames the person: a new userName and work email."""
    patch(
        live,
        f"/Users/{user['id']}",
        {"op": "replace", "path": "userName", "value": f"{name}@example.com"},
        {"op": "replace", "path": "emails", "value": scim_user(name)["emails"]},
    )


def failed_naming(live: LiveBridge, user: dict[str, Any], holder: str) -> bool:
    state = delivery_state(live, user["id"])
    return state["status"] == "failed" and holder in (state.get("lastError") or "")


# -- two people, one key -----------------------------------------------------------------------


@pytest.mark.parametrize("live_on", ["acc", "confide"], indirect=True)
def test_three_people_with_one_email_in_one_batch_get_one_account_and_two_conflicts(live_on):
    live = live_on
    ann, bob, cat = sharing_one_email(live, "ann", "bob", "cat")
    live.drain()

    [account] = accounts_with_email(live, SHARED)
    assert delivery_state(live, ann["id"])["status"] == "delivered"
    assert (
        str(delivery_state(live, ann["id"])["vendorId"]).lower()
        == str(account["id" if live.vendor == "acc" else "email"]).lower()
    )
    assert failed_naming(live, bob, "ann@example.com")
    assert failed_naming(live, cat, "ann@example.com")


@pytest.mark.parametrize("live_on", ["acc"], indirect=True)
def test_deactivating_a_user_refused_the_shared_email_leaves_the_holders_account(live_on):
    live = live_on
    ann, bob = sharing_one_email(live, "ann", "bob")
    live.drain()
    set_active(live, bob["id"], False)
    live.drain()

    [account] = accounts_with_email(live, SHARED)
    assert str(account["id"]) == delivery_state(live, ann["id"])["vendorId"]


@pytest.mark.parametrize("live_on", ["acc"], indirect=True)
def test_three_people_with_one_email_across_two_workers_get_one_account(live_on):
    """Each worker takes one user a batch, side by side; the import is slow enough that
    both are in flight at once. The reservation, not the vendor, decides."""
    live = live_on
    live.emulator.fault(delay=0.5, path="users:import", times=3)
    people = sharing_one_email(live, "ann", "bob", "cat")
    bridge = live.bridge
    [target] = bridge.config.targets
    one_a_batch = target.model_copy(
        update={"delivery": target.delivery.model_copy(update={"batch_size": 1})}
    )
    config = bridge.config.model_copy(update={"targets": [one_a_batch]})
    workers = [Worker(config, bridge.database, bridge.mappings, clock=live.clock) for _ in range(2)]
    rounds = [threading.Thread(target=worker.run_once) for worker in workers]
    for thread in rounds:
        thread.start()
    for thread in rounds:
        thread.join(30)
    live.drain()

    assert len(accounts_with_email(live, SHARED)) == 1
    states = [delivery_state(live, person["id"])["status"] for person in people]
    assert sorted(states) == ["delivered", "failed", "failed"]


@pytest.mark.parametrize("live_on", ["confide"], indirect=True)
def test_a_new_person_never_gets_the_email_of_a_user_deleted_before_reservations(live_on):
    """A bridge older than the reservations knew a former user only by its link: the worker
    reserves the values the vendor was sent before it delivers anything."""
    live = live_on
    former = create_user(live, "john", externalId="okta-OLD")
    join_group(live, "Confide Coordinators", former["id"])
    live.drain()
    assert live.scim("DELETE", f"/Users/{former['id']}").status_code == 204
    live.drain()
    with live.bridge.database.transaction() as session:
        session.execute(delete(account_keys))
    live.worker = Worker(
        live.bridge.config, live.bridge.database, live.bridge.mappings, clock=live.clock
    )
    before = live.emulator.users()

    newcomer = create_user(live, "john", externalId="okta-NEW-PERSON")
    join_group(live, "Confide Coordinators", newcomer["id"])
    live.drain()

    assert live.emulator.users() == before
    assert failed_naming(live, newcomer, "okta-OLD")


# -- identity changes ----------------------------------------------------------------------------


@pytest.mark.parametrize("live_on", ["acc"], indirect=True)
def test_an_email_change_at_acc_removes_the_old_member_and_imports_the_new(live_on):
    live = live_on
    ada = create_user(live, "ada")
    live.drain()
    rename(live, ada, "ada.new")
    live.drain()

    assert accounts_with_email(live, "ada@example.com") == []
    [member] = accounts_with_email(live, "ada.new@example.com")
    assert delivery_state(live, ada["id"])["vendorId"] == str(member["id"])

    assert live.scim("DELETE", f"/Users/{ada['id']}").status_code == 204
    live.drain()
    assert live.emulator.users() == []


@pytest.mark.parametrize("live_on", ["cloudshell"], indirect=True)
def test_a_user_name_change_at_cloudshell_deactivates_the_old_user(live_on):
    live = live_on
    carl = create_user(live, "carl")
    live.drain()
    rename(live, carl, "carl.new")
    live.drain()

    users = {user["Username"]: user for user in live.emulator.users()}
    assert users["carl"]["IsActive"] is False
    assert users["carl.new"]["IsActive"] is True
    assert delivery_state(live, carl["id"])["vendorId"] == str(users["carl.new"]["Id"])

    set_active(live, carl["id"], False)
    live.drain()
    assert [user["IsActive"] for user in live.emulator.users()] == [False, False]


@pytest.mark.parametrize("live_on", ["confide"], indirect=True)
def test_an_email_change_at_confide_revokes_the_old_address(live_on):
    live = live_on
    ada = create_user(live, "ada")
    join_group(live, "Confide Coordinators", ada["id"])
    live.drain()
    rename(live, ada, "ada.new")
    live.drain()

    users = {user["email"]: user for user in live.emulator.users()}
    assert users["ada@example.com"]["isShareCoordinator"] is False
    assert users["ada.new@example.com"]["isShareCoordinator"] is True


@pytest.mark.parametrize("live_on", ["aria"], indirect=True)
def test_a_user_name_change_at_aria_renames_the_same_account(live_on):
    live = live_on
    ada = create_user(live, "ada")
    live.drain()
    [before] = live.emulator.users()
    rename(live, ada, "ada.new")
    live.drain()

    [after] = live.emulator.users()
    assert after["id"] == before["id"]
    assert after["username"] == "ada.new@example.com"


@pytest.mark.parametrize("live_on", ["acc"], indirect=True)
def test_an_identity_change_takes_a_key_nobody_else_holds(live_on):
    """Moving to an email another user holds is a conflict: the old member stays the
    user's, and the other user's member is untouched."""
    live = live_on
    ada, bea = create_user(live, "ada"), create_user(live, "bea")
    live.drain()
    patch(
        live,
        f"/Users/{ada['id']}",
        {"op": "replace", "path": "emails", "value": scim_user("bea")["emails"]},
    )
    live.drain()

    assert {user["email"] for user in live.emulator.users()} == {
        "ada@example.com",
        "bea@example.com",
    }
    assert failed_naming(live, ada, "bea@example.com")
    assert delivery_state(live, bea["id"])["status"] == "delivered"


def test_a_removed_account_frees_its_key_for_a_new_person(tmp_path):
    """ACC removes a deprovisioned member: a new person with the former email gets a
    member of their own."""
    from scimbridge.testing.live import start_live

    live, stop = start_live(tmp_path, "acc", import_delay_seconds=0.05)
    try:
        former = create_user(live, "john", externalId="okta-OLD")
        live.drain()
        assert live.scim("DELETE", f"/Users/{former['id']}").status_code == 204
        live.drain()
        newcomer = create_user(live, "john", externalId="okta-NEW-PERSON")
        live.drain()
        [member] = live.emulator.users()
        assert delivery_state(live, newcomer["id"])["vendorId"] == str(member["id"])
        with live.bridge.database.transaction() as session:
            holders = session.execute(select(account_keys.c.link_id)).scalars().all()
            newcomer_link = session.execute(
                select(links.c.id).where(links.c.scim_id == newcomer["id"])
            ).scalar_one()
        assert holders == [newcomer_link]
    finally:
        stop()


def test_a_refused_identity_change_fails_and_leaves_the_old_member(tmp_path):
    """A mapping that says ``on_identity_change: refuse``: the change is the admin's to
    settle, and the member stays as it was."""
    from scimbridge.config import default_mapping
    from scimbridge.testing.live import start_live

    text = default_mapping("acc").read_text("utf-8")
    mapping = tmp_path / "acc.yaml"
    mapping.write_text(text.replace("    action: replace\n", "    action: refuse\n"))
    assert "action: refuse" in mapping.read_text()
    live, stop = start_live(tmp_path, "acc", target={"mapping": str(mapping)})
    try:
        ada = create_user(live, "ada")
        live.drain()
        [before] = live.emulator.users()
        rename(live, ada, "ada.new")
        live.drain()
        assert live.emulator.users() == [before]
        state = delivery_state(live, ada["id"])
        assert state["status"] == "failed"
        assert "on_identity_change: refuse" in state["lastError"]
    finally:
        stop()
