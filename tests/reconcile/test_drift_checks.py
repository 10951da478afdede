"""The scheduled drift check: run by the worker between deliveries, kept, resumed after an outage.

Against CloudShell's emulator, whose listing pages hold 250 users: 260 accounts take two.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from scimbridge.cli import drift_line
from scimbridge.config import BridgeConfig, Reconcile
from scimbridge.delivery.worker import Worker
from scimbridge.observability.health import delivery_status
from scimbridge.observability.metrics import BridgeMetrics
from scimbridge.reconcile.checks import drift_states
from scimbridge.testing import LiveBridge, start_live
from scimbridge.testing.contract import create_user, set_active

INTERVAL = 3600
LISTING = "/api/v1/users"


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveBridge]:
    """A bridge whose own worker (``live.drain()``) runs no check: the tests start them."""
    live, stop = start_live(tmp_path, "cloudshell")
    yield live
    stop()


def scheduled(live: LiveBridge) -> BridgeConfig:
    """The live bridge's configuration with a check every hour, a page a round."""
    config = live.bridge.config
    reconcile = Reconcile(interval_seconds=INTERVAL, pages_per_round=1)
    target = config.targets[0].model_copy(update={"reconcile": reconcile})
    return config.model_copy(update={"targets": [target]})


@pytest.fixture
def checker(live: LiveBridge) -> Worker:
    """A worker of the live bridge that checks drift when it has nothing to deliver."""
    return Worker(
        scheduled(live),
        live.bridge.database,
        live.bridge.mappings,
        clock=live.clock,
        directories=live.bridge.directories,
    )


def listings(live: LiveBridge) -> list[dict[str, object]]:
    """The listing's GETs (not those of one user by id), each with its answer's status."""
    return [entry for entry in live.emulator.requests(LISTING) if entry["path"].endswith(LISTING)]


def checked(live: LiveBridge, checker: Worker, rounds: int = 10) -> None:
    """Idle rounds of ``checker`` until the target's check completed."""
    for _ in range(rounds):
        checker.run_once()
        if drift_states(live.bridge.database, ["cloudshell"])["cloudshell"].completed_at:
            return
    raise AssertionError("the drift check never completed")


def hand_made(live: LiveBridge, count: int) -> None:
    for number in range(count):
        live.emulator.admin_create(Username=f"hand{number:03d}", Email=f"h{number}@example.org")


def test_without_an_interval_no_check_reads_the_vendor(live: LiveBridge) -> None:
    create_user(live, "ann")
    live.drain()
    live.worker.run_once()
    assert listings(live) == []


def test_a_complete_check_keeps_its_counts_and_when_it_completed(
    live: LiveBridge, checker: Worker
) -> None:
    ann = create_user(live, "ann")
    create_user(live, "bob")
    live.drain()
    set_active(live, ann["id"], False)
    live.drain()
    live.emulator.admin_change("ann", IsActive=True)
    checked(live, checker)
    state = drift_states(live.bridge.database, ["cloudshell"])["cloudshell"]
    assert state.counts["active_but_deprovisioned"] == 1
    assert state.counts["in_step"] == 1
    assert state.drifting() == 1 and not state.under_way


def test_the_metric_counts_the_last_checks_findings_per_kind(
    live: LiveBridge, checker: Worker
) -> None:
    create_user(live, "ann")
    live.drain()
    hand_made(live, 2)
    checked(live, checker)
    exposition = BridgeMetrics(scheduled(live), live.bridge.database).exposition()[0].decode()
    assert 'scimbridge_drift_accounts{kind="orphan",target="cloudshell"} 2.0' in exposition
    assert 'scimbridge_drift_accounts{kind="in_step",target="cloudshell"} 1.0' in exposition
    assert "scimbridge_drift_check_completed_timestamp_seconds{target" in exposition


def test_a_check_reads_a_page_a_round_and_resumes_at_its_page_after_an_outage(
    live: LiveBridge, checker: Worker
) -> None:
    hand_made(live, 260)
    checker.run_once()  # page 1
    live.emulator.fault(status=503, times=1, path=LISTING)
    checker.run_once()  # page 2: unavailable, the check pauses
    assert drift_states(live.bridge.database, ["cloudshell"])["cloudshell"].under_way
    live.clock.advance(60)
    checked(live, checker)
    statuses = [entry["status"] for entry in listings(live)]
    assert statuses == [200, 503, 200], "the first page was read once, the second again"
    cursors = [entry["query"].get("paginationProperties.cursor") for entry in listings(live)]
    assert cursors[0] is None and cursors[1] == cursors[2] is not None
    state = drift_states(live.bridge.database, ["cloudshell"])["cloudshell"]
    assert state.counts["orphan"] == 260


def test_a_check_is_not_started_again_before_its_interval(
    live: LiveBridge, checker: Worker
) -> None:
    create_user(live, "ann")
    live.drain()
    checked(live, checker)
    read = len(listings(live))
    checker.run_once()
    assert len(listings(live)) == read
    live.clock.advance(INTERVAL)
    checker.run_once()
    assert len(listings(live)) == read + 1


def test_status_says_what_the_last_check_found_and_when(live: LiveBridge, checker: Worker) -> None:
    create_user(live, "ann")
    live.drain()
    hand_made(live, 1)
    (before,) = delivery_status(live.bridge.database, scheduled(live).targets)
    assert before.as_json()["drift"] == {
        "checked_at": None,
        "drifting": 0,
        "counts": {},
        "under_way": False,
    }
    checked(live, checker)
    (after,) = delivery_status(live.bridge.database, scheduled(live).targets)
    drift = after.as_json()["drift"]
    assert drift["drifting"] == 1 and drift["counts"]["orphan_active"] == 1
    assert drift["checked_at"] is not None
    assert drift_line(after.drift).startswith(
        "drift: 1 user(s) or account(s) drifting at the check"
    )
