"""One user's changes reach the vendor in the order they were written, whatever retries,
workers and stale writers do (docs/architecture.md, "Delivery state";
:mod:`scimbridge.delivery.ordering`).

An entry holds the whole user, so the newest entry of a user wins: once an entry is
claimed, no older one is ever claimed or sent, and ``outbox retry`` queues again only
a user's newest entry. The cases run a bridge in front of Aria's strict emulator (whose
accounts are enabled or disabled) and assert what the emulator holds at the end, on
SQLite and on PostgreSQL, where claims and retries run in transactions of their own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import select, update

from scimbridge.delivery.claiming import claim_due
from scimbridge.delivery.state import Retried, retry_failed
from scimbridge.store.delivery_tables import outbox
from scimbridge.testing.contract import create_user, patch, set_active
from scimbridge.testing.live import LiveBridge, start_live
from scimbridge.vendors.base import DeliveryItem, Outcome

IMPORT = "/api/auth/sources/"
"""Aria's import call, which creates users (and enables them again)."""
GIVE_UP_SECONDS = 60.0
"""``delivery.give_up_after_seconds``, scaled down from three days: an entry the vendor
stays unavailable to for a minute of the test's clock is parked as failed."""


@pytest.fixture
def live(tmp_path: Any, database_url: str) -> Iterator[LiveBridge]:
    """A bridge in front of Aria's emulator, on each database the store runs on."""
    running, stop = start_live(
        tmp_path, "aria", database_url, delivery={"give_up_after_seconds": GIVE_UP_SECONDS}
    )
    yield running
    stop()


def account(live: LiveBridge, name: str) -> dict[str, Any]:
    """Aria's one account of ``<name>@example.com``."""
    [found] = [user for user in live.emulator.users() if user["username"] == f"{name}@example.com"]
    return found


def entries(live: LiveBridge) -> list[tuple[int, str]]:
    """Every outbox entry, oldest first: its number and its state."""
    with live.bridge.database.transaction() as session:
        return [
            tuple(row)
            for row in session.execute(select(outbox.c.seq, outbox.c.state).order_by(outbox.c.seq))
        ]


def retry(live: LiveBridge, *seqs: int) -> Retried:
    """``scimbridge outbox retry`` of the numbered entries (all failed ones without any),
    in a transaction of its own, as another process runs it."""
    database = live.bridge.database
    with database.transaction() as session:
        return retry_failed(session, database.now(), live.vendor, list(seqs))


def park_a_create_the_vendor_applied(live: LiveBridge, name: str) -> dict[str, Any]:
    """Create the user; its import lands at the vendor, but the answer never arrives, twice,
    a minute apart: the entry is parked as failed (``give_up_after_seconds``), while Aria
    holds the account, enabled."""
    live.emulator.fault(after="disconnect", path=IMPORT, times=2)
    user = create_user(live, name)
    live.worker.run_once()
    live.clock.advance(GIVE_UP_SECONDS + 1)
    live.worker.run_once()
    assert [state for _, state in entries(live)] == ["failed"]
    assert account(live, name)["enabled"] is True
    return user


def while_in_flight(live: LiveBridge, step: Callable[[], None]) -> None:
    """Run one round of the worker, doing ``step`` while the batch it claimed is with the
    vendor: claimed and not yet settled."""
    client = live.worker.client(live.bridge.config.targets[0])
    send = client.deliver

    def step_then_send(items: list[DeliveryItem]) -> list[Outcome]:
        step()
        return send(items)

    client.deliver = step_then_send
    try:
        assert live.worker.run_once() == 1
    finally:
        client.deliver = send


def test_a_retry_racing_the_users_deactivation_in_flight_leaves_the_account_disabled(live):
    """The reproduction of issue 22: a parked create is re-queued while the user's newer
    deactivation is with the vendor. Before, the vendor got import, disable, import, and
    kept an enabled account that SCIM said was inactive."""
    ada = park_a_create_the_vendor_applied(live, "ada")
    [(create, _)] = entries(live)
    set_active(live, ada["id"], False)
    [(deactivation, _)] = [entry for entry in entries(live) if entry[0] != create]
    retried: list[Retried] = []
    while_in_flight(live, lambda: retried.append(retry(live, create)))
    live.drain()

    assert account(live, "ada")["enabled"] is False
    [answer] = retried
    assert answer.queued == []
    assert answer.refused == {
        create: f"superseded by #{deactivation}, a newer change of the same user"
    }


def test_a_retry_after_the_users_newer_change_was_delivered_sends_nothing_and_names_it(live):
    ada = park_a_create_the_vendor_applied(live, "ada")
    [(create, _)] = entries(live)
    set_active(live, ada["id"], False)
    live.drain()
    [_, (deactivation, state)] = entries(live)
    assert state == "delivered"
    sent = len(live.emulator.requests())

    retried = retry(live, create)
    live.drain()

    assert live.emulator.requests()[sent:] == []
    assert account(live, "ada")["enabled"] is False
    assert retried.refused == {
        create: f"superseded by #{deactivation}, a newer change of the same user"
    }


def test_a_retry_while_the_users_newer_change_waits_out_a_backoff_never_sends_the_older(live):
    """The deactivation was tried, and waits to be tried again (the vendor answered 503):
    not in flight, but claimed once. The parked create is never sent after it: before, the
    claim took it, the one entry of the user due, and imported the user again."""
    ada = park_a_create_the_vendor_applied(live, "ada")
    [(create, _)] = entries(live)
    imports = len(live.emulator.requests(IMPORT))
    live.emulator.fault(status=503, path="/api/auth/users")
    set_active(live, ada["id"], False)
    live.worker.run_once()
    [_, (deactivation, state)] = entries(live)
    assert state == "pending"

    retried = retry(live, create)
    live.drain()

    assert len(live.emulator.requests(IMPORT)) == imports
    assert account(live, "ada")["enabled"] is False
    assert retried.refused == {
        create: f"superseded by #{deactivation}, a newer change of the same user"
    }


def test_a_claim_never_takes_an_entry_older_than_one_claimed_before(live):
    """However an older entry came to be pending again (here an UPDATE, as a bridge of an
    earlier release re-queueing it would leave it), a claim neither returns nor sends it."""
    ada = create_user(live, "ada")
    live.drain()
    set_active(live, ada["id"], False)
    live.drain()
    [(create, _), (deactivation, _)] = entries(live)
    database = live.bridge.database
    with database.transaction() as session:
        session.execute(
            update(outbox).where(outbox.c.seq == create).values(state="pending", done_at=None)
        )

    target = live.bridge.config.targets[0]
    batch = claim_due(database, target, 10, False, "stale-check", live.clock())
    live.drain()

    assert batch.entries == []
    assert account(live, "ada")["enabled"] is False
    assert entries(live) == [(create, "superseded"), (deactivation, "delivered")]


def test_a_retry_queues_the_users_newest_failed_entry_and_supersedes_the_older(live):
    """Two changes of one user parked: retrying them all sends the newest only, once."""
    ada = park_a_create_the_vendor_applied(live, "ada")
    live.emulator.fault(after="disconnect", path="/api/auth/users", times=2)
    patch(
        live, f"/Users/{ada['id']}", {"op": "replace", "path": "name.givenName", "value": "Augusta"}
    )
    live.worker.run_once()
    live.clock.advance(GIVE_UP_SECONDS + 1)
    live.worker.run_once()
    [(create, _), (rename, _)] = entries(live)
    assert [state for _, state in entries(live)] == ["failed", "failed"]

    retried = retry(live)
    live.drain()

    assert retried.queued == [rename]
    assert retried.refused == {create: f"superseded by #{rename}, a newer change of the same user"}
    assert account(live, "ada")["firstName"] == "Augusta"
    assert entries(live) == [(create, "superseded"), (rename, "delivered")]
