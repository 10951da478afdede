"""A bridge and one vendor emulator, both really serving on loopback, and a worker driven by the test.

What every end-to-end test stands on, the vendor contract (:mod:`.contract`)
included: it asserts what the vendor holds (the emulator's state), never the
bridge's bookkeeping alone.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
import yaml
from flask import Flask
from scimbridge_emulators import RunningEmulator, demo_options, run_in_thread
from sqlalchemy import func, select
from werkzeug.serving import make_server

from scimbridge.app import Bridge
from scimbridge.config import parse_config
from scimbridge.delivery.worker import Worker
from scimbridge.store.delivery_tables import outbox

TOKEN = "live-scim-token-0123456789"
SCIM = "application/scim+json"
USER = "urn:ietf:params:scim:schemas:core:2.0:User"


class Clock:
    """Real time plus an offset the tests move forward, so backoff never means waiting."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)


def scim_user(name: str) -> dict[str, Any]:
    """The SCIM User ``<name>@example.com`` as an IdP sends it, with externalId ``00u-<name>``."""
    return {
        "schemas": [USER],
        "userName": f"{name}@example.com",
        "externalId": f"00u-{name}",
        "name": {"givenName": name.title(), "familyName": "Tester"},
        "displayName": f"{name.title()} Tester",
        "emails": [{"value": f"{name}@example.com", "type": "work", "primary": True}],
        "active": True,
    }


def live_config(
    tmp_path: Any,
    emulator: RunningEmulator,
    vendor: str,
    database_url: str | None = None,
    options: dict[str, Any] | None = None,
    target: dict[str, Any] | None = None,
    **delivery: Any,
) -> dict[str, Any]:
    """One target named after ``vendor``, in front of ``emulator``, with the emulator's demo
    options plus ``options``, further target keys ``target`` (``identity``), and a delivery
    scaled for tests (short backoffs and timeouts)."""
    return {
        "database": database_url or f"sqlite:///{tmp_path / 'bridge.db'}",
        "targets": [
            {
                "name": vendor,
                "vendor": vendor,
                "base_url": emulator.url,
                "credentials": emulator.credentials,
                "options": {
                    **demo_options(vendor),
                    # 100 polls 0.01 s apart outlast ACC's asynchronous import (0.5 s)
                    "poll_interval_seconds": 0.01,
                    "max_polls": 100,
                    **(options or {}),
                },
                "inbound": {"bearer_tokens": [TOKEN]},
                "delivery": {
                    "backoff_seconds": 1,
                    "max_backoff_seconds": 4,
                    "timeout_seconds": 1,
                    # drain() jumps the clock 60 s per idle round: an hour of it lets the
                    # emulators' real-time asynchronous imports land before it runs out
                    "unconfirmed_import_seconds": 3600,
                    # a refusal is tried twice before it is parked, not five times: the
                    # emulators' rate-limit windows (Rocket.Chat's 10 calls a minute) run
                    # in real time, which drain() does not jump
                    "max_attempts": 2,
                    **delivery,
                },
                **(target or {}),
            }
        ],
    }


@dataclass
class LiveBridge:
    """A served bridge with one target (named after its vendor), its emulator, and a worker
    the test drives: :meth:`drain` delivers, jumping :attr:`clock` over backoffs."""

    vendor: str
    emulator: RunningEmulator
    bridge: Bridge
    url: str
    worker: Worker
    clock: Clock
    http: requests.Session

    def scim(self, method: str, path: str, body: Any = None) -> requests.Response:
        return self.http.request(
            method,
            f"{self.url}/scim/v2/{self.vendor}{path}",
            json=body,
            headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": SCIM},
            timeout=30,
        )

    def pending(self) -> int:
        with self.bridge.database.transaction():
            return self.bridge.database.session.execute(
                select(func.count()).where(outbox.c.state == "pending")
            ).scalar_one()

    def drain(self, rounds: int = 200) -> None:
        """Deliver until nothing is pending, jumping the clock over backoffs instead of waiting.

        An idle round also lets a little real time pass, for what the emulators do in
        real time (ACC's asynchronous import, a rate-limit window).
        """
        for _ in range(rounds):
            if not self.worker.run_once():
                if not self.pending():
                    return
                self.clock.advance(60)
                time.sleep(0.05)
        raise AssertionError("the outbox never drained")

    def restarted_with_mapping(self, path: Any) -> LiveBridge:
        """The bridge as restarted with the mapping file ``path``: the same database,
        emulator and clock, a new worker (SCIM writes still go through the bridge served)."""
        target = self.bridge.config.targets[0].model_copy(update={"mapping": str(path)})
        config = self.bridge.config.model_copy(update={"targets": [target]})
        bridge = Bridge(config, self.bridge.database)
        worker = Worker(
            config,
            bridge.database,
            bridge.mappings,
            clock=self.clock,
            directories=bridge.directories,
        )
        return replace(self, bridge=bridge, worker=worker)

    def drain_in_real_time(self, seconds: float = 60.0) -> None:
        """Deliver until nothing is pending, waiting out every backoff for real: the way
        through a vendor's rate limit, whose window only real time frees."""
        deadline = time.monotonic() + seconds
        while self.pending():
            assert time.monotonic() < deadline, "the outbox never drained"
            if not self.worker.run_once():
                time.sleep(0.1)


def start_live(
    tmp_path: Any,
    vendor: str,
    database_url: str | None = None,
    delivery: dict[str, Any] | None = None,
    options: dict[str, Any] | None = None,
    target: dict[str, Any] | None = None,
    **emulator_options: Any,
) -> tuple[LiveBridge, Callable[[], None]]:
    """Start the emulator of ``vendor`` (with ``emulator_options``) and a bridge in front of
    it (:func:`live_config`); returns the live bridge and the function that stops both."""
    emulator = run_in_thread(vendor, **emulator_options)
    document = live_config(
        tmp_path, emulator, vendor, database_url, options, target, **(delivery or {})
    )
    bridge = Bridge(parse_config(yaml.safe_dump(document)))
    app = Flask("live")
    bridge.init_app(app)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    clock = Clock()
    live = LiveBridge(
        vendor=vendor,
        emulator=emulator,
        bridge=bridge,
        url=f"http://127.0.0.1:{server.server_address[1]}",
        worker=Worker(
            bridge.config,
            bridge.database,
            bridge.mappings,
            clock=clock,
            directories=bridge.directories,
        ),
        clock=clock,
        http=requests.Session(),
    )

    def stop() -> None:
        server.shutdown()
        emulator.stop()
        bridge.database.dispose()

    return live, stop
