"""A delivery worker process that dies, or dawdles, exactly where a test asks it to.

Run as ``python worker_with_faults.py CONFIG [--kill-at STEP] [--claim-pause SECONDS]``:

- ``--kill-at before_call``: SIGKILL just before the first batch goes to the vendor;
- ``--kill-at after_call``: SIGKILL once the vendor has applied the first batch, before
  the worker records anything;
- ``--kill-at before_commit``: SIGKILL with the first batch's outcomes written to the
  database but not committed;
- ``--claim-pause S``: hold every claim's transaction open S seconds after its update,
  the window in which another worker's snapshot cannot see the claim yet;
- ``--call-pause S``: wait up to S seconds (at random) between a claim and its vendor
  call, as a worker slowed down by its host would, so that two workers holding one
  user's changes at once would deliver them out of order.

Without ``--kill-at`` it delivers until SIGTERM, as ``scimbridge worker`` does.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import threading
import time
from typing import Any

from scimbridge.app import Bridge
from scimbridge.config import Target, load_config
from scimbridge.delivery.worker import Worker
from scimbridge.vendors.base import DeliveryItem, Outcome, VendorClient

STEPS = ("before_call", "after_call", "before_commit")


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


class FaultyWorker(Worker):
    def __init__(
        self, *args: Any, kill_at: str | None, claim_pause: float, call_pause: float, **kwargs: Any
    ):
        super().__init__(*args, **kwargs)
        self.kill_at = kill_at
        self.claim_pause = claim_pause
        self.call_pause = call_pause

    def client(self, target: Target, slot: int = 0) -> VendorClient:
        client = super().client(target, slot)
        if "deliver" not in vars(client):
            deliver = client.deliver

            def deliver_with_faults(items: list[DeliveryItem]) -> list[Outcome]:
                if self.kill_at == "before_call":
                    die()
                time.sleep(random.uniform(0, self.call_pause))
                outcomes = deliver(items)
                if self.kill_at == "after_call":
                    die()
                return outcomes

            client.deliver = deliver_with_faults  # type: ignore[method-assign]
        return client

    def _claim(self, target: Target, limit: int, exclusive: bool = False) -> Any:
        with self.database.transaction():
            batch = super()._claim(target, limit, exclusive)
            if batch.entries:
                time.sleep(self.claim_pause)
        return batch

    def _record(self, *args: Any) -> None:
        with self.database.transaction():
            super()._record(*args)
            if self.kill_at == "before_commit":
                die()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("config")
    parser.add_argument("--kill-at", choices=STEPS)
    parser.add_argument("--claim-pause", type=float, default=0.0)
    parser.add_argument("--call-pause", type=float, default=0.0)
    arguments = parser.parse_args()
    bridge = Bridge(load_config(arguments.config))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    worker = FaultyWorker(
        bridge.config,
        bridge.database,
        bridge.mappings,
        kill_at=arguments.kill_at,
        claim_pause=arguments.claim_pause,
        call_pause=arguments.call_pause,
    )
    worker.run(stop, poll_seconds=0.05)


if __name__ == "__main__":
    main()
