"""A batch is settled in transactions of ``SETTLE_CHUNK`` entries, so that a large batch
never holds SQLite's write lock past ``busy_timeout``; each entry's settle stands alone."""

from __future__ import annotations

from typing import Any

import pytest

from scimbridge.delivery import worker as worker_module
from scimbridge.delivery.settling import Settlement


def test_a_batch_larger_than_a_chunk_is_settled_whole(worker, vendor, create, monkeypatch):
    monkeypatch.setattr(worker_module, "SETTLE_CHUNK", 2)
    for name in ("ada", "bob", "cy"):
        create(name)

    assert worker.run_once() == 3

    assert worker.run_once() == 0
    assert [len(batch) for batch in vendor.batches] == [3]


def test_a_crash_after_a_chunk_committed_keeps_it_delivered_and_resends_only_the_rest(
    bridge, worker, vendor, create, clock, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(worker_module, "SETTLE_CHUNK", 1)
    delivered = Settlement.delivered
    calls: list[str] = []

    def crashes_at_the_second(self: Settlement, entry: Any, *args: Any, **kwargs: Any) -> bool:
        calls.append(entry.link_id)
        if len(calls) == 2:
            raise RuntimeError("killed while settling")
        return delivered(self, entry, *args, **kwargs)

    monkeypatch.setattr(Settlement, "delivered", crashes_at_the_second)
    for name in ("ada", "bob", "cy"):
        create(name)
    worker.run_once()  # the round fails after ada's chunk committed
    monkeypatch.setattr(Settlement, "delivered", delivered)
    clock.advance(bridge.config.target("chat").delivery.lease_seconds + 1)

    worker.run_once()

    assert [[item.record["username"] for item in batch] for batch in vendor.batches] == [
        ["ada", "bob", "cy"],
        ["bob", "cy"],
    ]
    assert worker.run_once() == 0
