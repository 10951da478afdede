"""A target's delivery loop that dies is started again, logged and counted; never silently gone."""

from __future__ import annotations

import itertools
import sqlite3
import threading
import time

import pytest
import yaml
from outbox_doubles import ScriptedVendor, config_document

from scimbridge.app import Bridge
from scimbridge.config import parse_config
from scimbridge.delivery import loops
from scimbridge.delivery.loops import TargetLoops
from scimbridge.delivery.worker import Worker
from scimbridge.observability.metrics import DeliveryMetrics
from scimbridge.store import database as database_module
from scimbridge.vendors.pacing import Pacer, RateLimit


@pytest.fixture
def fast_watch(monkeypatch):
    """The watching thread looks every 0.05 s instead of 0.5 s."""
    monkeypatch.setattr(loops, "WATCH_SECONDS", 0.05)


def run_until(worker: Worker, condition, seconds: float = 10.0) -> None:
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop, 0.05), daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + seconds
        while not condition():
            assert time.monotonic() < deadline, "not within 10 s"
            time.sleep(0.02)
    finally:
        stop.set()
        thread.join(timeout=10)


def test_a_loop_that_raises_is_restarted_and_delivers(bridge, create, fast_watch, caplog):
    vendor = ScriptedVendor()
    metrics = DeliveryMetrics(targets=bridge.config.targets)
    worker = Worker(
        bridge.config, bridge.database, bridge.mappings, {"chat": vendor}, metrics=metrics
    )
    deliver_due = worker.deliver_due
    calls = []

    def dies_once(target, slot=0, gather=False):
        calls.append(target.name)
        if len(calls) == 1:
            raise RuntimeError("the database went away")
        return deliver_due(target, slot, gather)

    worker.deliver_due = dies_once
    create("ada")

    run_until(worker, lambda: vendor.delivered())

    assert [item.record["username"] for item in vendor.delivered()] == ["ada"]
    restarts = metrics.registry.get_sample_value(
        "scimbridge_delivery_loop_restarts_total", {"target": "chat", "vendor": "rocketchat"}
    )
    assert restarts == 1
    assert "chat: the delivery loop chat#0 died" in caplog.text
    assert "RuntimeError: the database went away" in caplog.text


def test_a_loop_that_keeps_dying_is_restarted_after_longer_and_longer_pauses(bridge, fast_watch):
    [target] = bridge.config.targets
    restarts: list[float] = []
    stop = threading.Event()

    def always_dies(_target, _slot):
        raise RuntimeError("broken")

    looping = TargetLoops(
        [target], always_dies, stop, 0.05, on_restart=lambda _: restarts.append(time.monotonic())
    )
    thread = threading.Thread(target=looping.run, daemon=True)
    thread.start()
    time.sleep(2.0)
    stop.set()
    thread.join(timeout=5)
    pauses = [later - earlier for earlier, later in itertools.pairwise(restarts)]
    assert 3 <= len(restarts) <= 7  # 0.05, 0.1, 0.2, 0.4, 0.8 s: not a restart every tick
    assert pauses[-1] > 2 * pauses[0]


def test_every_target_and_slot_has_a_loop_of_its_own(bridge):
    [target] = bridge.config.targets
    wide = target.model_copy(
        update={"delivery": target.delivery.model_copy(update={"concurrency": 3})}
    )
    running = {}
    stop = threading.Event()
    looping = TargetLoops(
        [wide],
        lambda _target, slot: 0,
        stop,
        0.05,
        on_running=lambda chosen, count: running.update({chosen.name: count}),
    )
    thread = threading.Thread(target=looping.run, daemon=True)
    thread.start()
    time.sleep(0.2)
    stop.set()
    thread.join(timeout=5)
    assert [slot.name for slot in looping.slots] == ["chat#0", "chat#1", "chat#2"]
    assert running == {"chat": 3}


class MeetingVendor(ScriptedVendor):
    """Delivers only once another client of the same tenant is delivering at the same time."""

    max_batch = 1

    def __init__(self, meeting: threading.Barrier):
        super().__init__()
        self.meeting = meeting

    def deliver(self, items):
        self.meeting.wait(timeout=5)
        return super().deliver(items)


def test_a_target_with_concurrency_2_delivers_two_batches_side_by_side(bridge, create, fast_watch):
    target = bridge.config.targets[0]
    delivery = target.delivery.model_copy(update={"concurrency": 2})
    config = bridge.config.model_copy(
        update={"targets": [target.model_copy(update={"delivery": delivery})]}
    )
    meeting = threading.Barrier(2)
    vendors = {"chat": MeetingVendor(meeting), "chat#1": MeetingVendor(meeting)}
    worker = Worker(config, bridge.database, bridge.mappings, dict(vendors))
    create("ada")
    create("bob")

    run_until(worker, lambda: all(vendor.delivered() for vendor in vendors.values()))

    delivered = sorted(item.record["username"] for v in vendors.values() for item in v.delivered())
    assert delivered == ["ada", "bob"]
    assert not meeting.broken


def test_clients_side_by_side_share_the_vendors_rate_limits():
    pacer = Pacer([RateLimit("writes", calls=100, seconds=60)], "acc")
    assert [limit.calls for limit in pacer.divided(3).limits] == [33]
    assert pacer.divided(1) is pacer


def test_a_database_locked_past_the_busy_timeout_is_an_idle_round(tmp_path, monkeypatch, caplog):
    """SQLite beside a long Bulk request: the claim waits ``busy_timeout`` for the write lock,
    then the round ends with nothing done, and the loop neither dies nor logs a traceback."""
    pragmas = tuple(
        "PRAGMA busy_timeout = 200" if "busy_timeout" in pragma else pragma
        for pragma in database_module.SQLITE_PRAGMAS
    )
    monkeypatch.setattr(database_module, "SQLITE_PRAGMAS", pragmas)
    bridge = Bridge(
        parse_config(yaml.safe_dump(config_document(f"sqlite:///{tmp_path / 'locked.db'}")))
    )
    worker = Worker(bridge.config, bridge.database, bridge.mappings, {"chat": ScriptedVendor()})
    writer = sqlite3.connect(tmp_path / "locked.db", isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    try:
        assert worker._round(bridge.config.targets[0], 0) == 0
    finally:
        writer.execute("ROLLBACK")
        writer.close()
        bridge.database.dispose()
    assert "chat: the database is locked by another writer; trying again" in caplog.text
    assert "Traceback" not in caplog.text
