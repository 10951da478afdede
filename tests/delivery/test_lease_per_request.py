"""A lease is checked before every vendor request and renewed while one is in flight (issue 22, item 3).

Renewed only while a client slept, a lease ran out under a slow vendor call or a long
batch of back-to-back calls (Aria's deprovisions: a GET and a PUT per user): another
worker then claimed the user's newer entry and delivered it, and the first worker's
older write landed after it. Nor did a worker asked to stop honour it inside such a
batch. Played against Aria's emulator, scaled down (a lease of 2 s, a call of 6 s), on
each database the store runs on.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import select

from scimbridge.delivery.worker import Worker
from scimbridge.store.delivery_tables import outbox
from scimbridge.testing.live import LiveBridge, scim_user, start_live

LEASE = 2
SLOW_CALL = 3 * LEASE
IMPORT = "/api/auth/sources/"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


@pytest.fixture
def aria(tmp_path: Any, database_url: str) -> Iterator[LiveBridge]:
    """A live bridge in front of Aria, whose vendor calls may take longer than the lease."""
    live, stop = start_live(
        tmp_path,
        "aria",
        database_url,
        delivery={"lease_seconds": LEASE, "timeout_seconds": SLOW_CALL + 4},
    )
    yield live
    stop()


def created(live: LiveBridge, *names: str) -> list[str]:
    """Create and deliver these users; their SCIM ids."""
    ids = []
    for name in names:
        response = live.scim("POST", "/Users", scim_user(name))
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    live.drain()
    return ids


def patch(live: LiveBridge, scim_id: str, path: str, value: Any) -> None:
    body = {"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": path, "value": value}]}
    response = live.scim("PATCH", f"/Users/{scim_id}", body)
    assert response.status_code == 200, response.text


def in_thread(run: Callable[[], Any]) -> threading.Thread:
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def wait_until(condition: Callable[[], bool], seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "gave up waiting"
        time.sleep(0.01)


def entries(live: LiveBridge) -> list[Any]:
    with live.bridge.database.transaction() as session:
        return list(session.execute(select(outbox).order_by(outbox.c.seq)))


def aria_user(live: LiveBridge, name: str) -> dict[str, Any]:
    return next(user for user in live.emulator.users() if user["username"] == f"{name}@example.com")


def test_a_newer_entry_written_during_a_slow_vendor_call_wins_at_the_vendor(aria):
    [ada] = created(aria, "ada")
    patch(aria, ada, "name.givenName", "Older")
    aria.emulator.fault(delay=SLOW_CALL, path=IMPORT)
    first = in_thread(aria.worker.run_once)
    wait_until(lambda: entries(aria)[-1].claimed_by is not None)
    patch(aria, ada, "name.givenName", "Newer")
    second = Worker(
        aria.bridge.config, aria.bridge.database, aria.bridge.mappings, clock=aria.clock
    )
    while first.is_alive():
        second.run_once()  # the worker that would take the user's newer entry over
        time.sleep(0.1)
    aria.drain()
    assert aria_user(aria, "ada")["firstName"] == "Newer"


@pytest.fixture
def stopped_mid_batch(aria: LiveBridge) -> LiveBridge:
    """Three Aria users deactivated in one batch (a GET and a PUT each), the worker asked
    to stop once the first user's PUT was answered, while the second user's GET is slow."""
    ids = created(aria, "ada", "bob", "cy")
    for scim_id in ids:
        patch(aria, scim_id, "active", False)
    aria.emulator.fault(delay=LEASE, path=f"/api/auth/users/{aria_user(aria, 'bob')['id']}")
    delivering = in_thread(aria.worker.run_once)
    wait_until(lambda: any(call["method"] == "PUT" for call in aria.emulator.requests()))
    aria.worker.stopping.set()
    delivering.join()
    return aria


def test_a_worker_stopped_mid_batch_sends_the_vendor_nothing_more(stopped_mid_batch):
    live = stopped_mid_batch
    assert [call["method"] for call in live.emulator.requests() if call["method"] == "PUT"] == [
        "PUT"
    ]
    assert [aria_user(live, name)["enabled"] for name in ("ada", "bob", "cy")] == [
        False,
        True,
        True,
    ]


def test_a_worker_stopped_mid_batch_gives_the_batch_back_uncounted(stopped_mid_batch):
    deactivations = entries(stopped_mid_batch)[-3:]
    assert [
        (entry.state, entry.attempts, entry.claimed_by, entry.claimed_until)
        for entry in deactivations
    ] == [("pending", 0, None, None)] * 3
