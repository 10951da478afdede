"""Rocket.Chat's directory kept for a delivery run (issue 24) never hands an account to the
wrong person: a user name and email somebody else took after the client read the directory
end in a conflict, whatever the directory still says (docs/vendors/rocketchat.md, "The run's
directory")."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from scimbridge.store.delivery_tables import links
from scimbridge.testing.live import LiveBridge, start_live
from scimbridge.testing.vendor_facts import create_user, delivery_state


@pytest.fixture
def chat(tmp_path: Any, database_url: str) -> Iterator[LiveBridge]:
    """A refusal is final at its first attempt: the conflict settles in the run it met."""
    live, stop = start_live(tmp_path, "rocketchat", database_url, delivery={"max_attempts": 1})
    yield live
    stop()


def vendor_id_of(live: LiveBridge, scim_id: str) -> str | None:
    with live.bridge.database.transaction() as session:
        return session.execute(
            select(links.c.vendor_id).where(links.c.scim_id == scim_id)
        ).scalar_one()


def test_a_name_taken_after_the_directory_was_read_ends_in_a_conflict(chat):
    ann = create_user(chat, "ann")
    assert chat.worker.run_once() == 1  # the run's first batch: the client reads the directory
    assert delivery_state(chat, ann["id"])["status"] == "delivered"
    listings = chat.emulator.request_counts()["GET /api/v1/users.list"]
    stranger = chat.emulator.admin_create(
        username="bob",
        name="Bob Somebody Else",
        emails=[{"address": "bob@example.com", "verified": True}],
    )
    bob = create_user(chat, "bob")

    assert chat.worker.run_once() == 1  # the same run: nothing ended it

    assert chat.emulator.request_counts()["GET /api/v1/users.list"] == listings
    state = delivery_state(chat, bob["id"])
    assert state["status"] == "failed"
    assert (
        "the user name bob is taken by a Rocket.Chat user the bridge does not manage "
        f"(_id {stranger['_id']})"
    ) in state["lastError"]
    [held] = [user for user in chat.emulator.users() if user["_id"] == stranger["_id"]]
    assert held == stranger
    assert vendor_id_of(chat, bob["id"]) is None
    assert sorted(user["username"] for user in chat.emulator.users()) == ["ann", "bob"]
