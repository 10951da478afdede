"""Targets never wait on each other: a vendor that hangs holds back its own deliveries only.

One bridge, three vendor tenants, each a real emulator on loopback. Aria answers every call
only after the bridge's timeout, as a vendor under load or a path that drops packets
would; Confide and CloudShell answer at once. The worker is the one ``scimbridge serve``
runs, in real time.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
import yaml
from flask import Flask
from scimbridge_emulators import RunningEmulator, run_in_thread
from sqlalchemy import select
from test_end_to_end import scim_user, vendor_users

from scimbridge.app import Bridge
from scimbridge.config import parse_config
from scimbridge.store.delivery_tables import outbox
from scimbridge.testing.live import TOKEN, live_config

HANGING = "aria"
NORMAL = ("confide", "cloudshell")
TIMEOUT_SECONDS = 6.0
"""The hanging vendor's calls time out after this long: every one of them."""
PATIENCE_SECONDS = 4.0
"""How long a user of a normal vendor may take to arrive: less than one hanging call."""
AUTH = {"Authorization": f"Bearer {TOKEN}"}
WORKER = (sys.executable, "-m", "scimbridge", "worker")


def three_targets(
    tmp_path: Any, emulators: dict[str, RunningEmulator], database: str | None = None
) -> dict[str, Any]:
    targets = []
    for vendor, emulator in emulators.items():
        [target] = live_config(tmp_path, emulator, vendor)["targets"]
        if vendor == HANGING:
            # one user a call, so that every worker process has a hanging call of its own
            target["delivery"].update(timeout_seconds=TIMEOUT_SECONDS, batch_size=1)
        targets.append(target)
    return {"database": database or f"sqlite:///{tmp_path / 'bridge.db'}", "targets": targets}


@pytest.fixture
def emulators() -> Iterator[dict[str, RunningEmulator]]:
    running = {vendor: run_in_thread(vendor) for vendor in (HANGING, *NORMAL)}
    running[HANGING].fault(delay=TIMEOUT_SECONDS * 5, times=10_000)
    yield running
    for emulator in running.values():
        emulator.stop()


@pytest.fixture
def serving(tmp_path, emulators) -> Iterator[tuple[Bridge, Any]]:
    """The bridge with its worker thread, as ``scimbridge serve`` runs it."""
    bridge = Bridge(parse_config(yaml.safe_dump(three_targets(tmp_path, emulators))))
    app = Flask("independence")
    bridge.init_app(app)
    bridge.start_worker(poll_seconds=0.1)
    yield bridge, app.test_client()
    bridge.stop_worker()
    bridge.database.dispose()


def create(client: Any, target: str, name: str) -> None:
    response = client.post(f"/scim/v2/{target}/Users", json=scim_user(name), headers=AUTH)
    assert response.status_code == 201, response.json


def arrived(emulators: dict[str, RunningEmulator], vendor: str) -> int:
    return len(vendor_users(SimpleNamespace(vendor=vendor, emulator=emulators[vendor])))


def wait_for(condition, seconds: float) -> float:
    """Seconds until ``condition`` held; fails after ``seconds``."""
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < seconds, "not within the test's patience"
        time.sleep(0.05)
    return time.monotonic() - started


def claimed(bridge: Bridge, target: str) -> bool:
    """Whether a worker holds an entry of the target: its vendor call is under way."""
    with bridge.database.transaction(writing=False) as session:
        query = select(outbox.c.seq).where(
            outbox.c.target == target, outbox.c.claimed_by.is_not(None)
        )
        return session.execute(query).first() is not None


def normal_targets_keep_their_pace(client: Any, emulators: dict[str, RunningEmulator]) -> None:
    """Two rounds of a user per normal target, each arriving within the test's patience,
    while the hanging vendor has received nobody."""
    for round_ in range(2):
        for vendor in NORMAL:
            create(client, vendor, f"user{round_}")
        for vendor in NORMAL:
            wait_for(lambda v=vendor, n=round_: arrived(emulators, v) == n + 1, PATIENCE_SECONDS)
    assert arrived(emulators, HANGING) == 0


def test_users_of_other_targets_arrive_while_one_vendor_hangs(serving, emulators):
    bridge, client = serving
    create(client, HANGING, "stuck")
    wait_for(lambda: claimed(bridge, HANGING), seconds=PATIENCE_SECONDS)
    normal_targets_keep_their_pace(client, emulators)


def test_every_target_has_its_loop_while_one_vendor_hangs(serving, emulators):
    bridge, client = serving
    create(client, HANGING, "stuck")
    wait_for(lambda: claimed(bridge, HANGING), seconds=PATIENCE_SECONDS)
    body = bridge.metrics.exposition()[0].decode()
    for vendor in (HANGING, *NORMAL):
        assert f'scimbridge_delivery_loops{{target="{vendor}",vendor="{vendor}"}} 1.0' in body


@pytest.fixture
def worker_processes(tmp_path, emulators, postgres_schema_url) -> Iterator[tuple[Bridge, Any]]:
    """Two ``scimbridge worker`` processes on PostgreSQL, and the bridge (no worker of its
    own) that the test writes through."""
    document = three_targets(tmp_path, emulators, postgres_schema_url)
    config = tmp_path / "bridge.yaml"
    config.write_text(yaml.safe_dump(document))
    bridge = Bridge(parse_config(config.read_text()))
    app = Flask("independence")
    bridge.init_app(app)
    processes = [
        subprocess.Popen(
            [*WORKER, "--config", str(config), "--poll", "0.1"],
            stdout=(tmp_path / f"worker-{n}.log").open("wb"),
            stderr=subprocess.STDOUT,
        )
        for n in range(2)
    ]
    yield bridge, app.test_client()
    for process in processes:
        process.send_signal(signal.SIGTERM)
    for process in processes:
        process.wait(timeout=TIMEOUT_SECONDS + 15)
    bridge.database.dispose()


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.skipif(
    not os.environ.get("SCIMBRIDGE_TEST_POSTGRES_URL"),
    reason="SCIMBRIDGE_TEST_POSTGRES_URL is not set: worker processes side by side need PostgreSQL",
)
def test_worker_processes_deliver_other_targets_while_one_vendor_hangs(worker_processes, emulators):
    bridge, client = worker_processes
    for name in ("stuck", "stuck-too"):
        create(client, HANGING, name)
    wait_for(lambda: claimed(bridge, HANGING), seconds=PATIENCE_SECONDS * 5)
    normal_targets_keep_their_pace(client, emulators)
