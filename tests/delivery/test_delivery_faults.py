"""Nothing is lost: Rocket.Chat's passing 401, a thousand users to ACC, and a killed worker.

That every vendor's writes arrive through 429s, 5xx, timeouts and expired tokens, and
that no secret reaches the log, is the vendor contract (tests/vendors/test_vendor_contract.py).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from scimbridge_emulators import run_in_thread
from test_end_to_end import scim_user, vendor_users

from scimbridge.testing.live import TOKEN, live_config

REPOSITORY = Path(__file__).resolve().parents[2]


def statuses(live):
    return [entry["status"] for entry in live.emulator.requests()]


@pytest.mark.parametrize("live", ["rocketchat"], indirect=True)
def test_a_passing_401_from_rocketchat_is_retried_and_the_write_arrives(live):
    """Rocket.Chat's personal access token cannot be renewed; a 401 is retried once with it."""
    live.emulator.fault(status=401)
    live.scim("POST", "/Users", scim_user("ada"))
    live.drain()
    assert 401 in statuses(live)
    assert set(vendor_users(live)) == {"ada"}


@pytest.mark.parametrize("live", ["acc"], indirect=True)
def test_a_thousand_users_in_one_bulk_reach_acc_in_five_imports(live):
    operations = [
        {"method": "POST", "path": "/Users", "bulkId": f"u{n}", "data": scim_user(f"user{n:04d}")}
        for n in range(1000)
    ]
    bulk = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
        "Operations": operations,
    }
    response = live.scim("POST", "/Bulk", bulk)
    assert {operation["status"] for operation in response.json()["Operations"]} == {"201"}
    live.drain()
    imports = live.emulator.request_counts()[
        "POST /construction/admin/v2/projects/<project_id>/users:import"
    ]
    assert imports == 5
    assert len(vendor_users(live)) == 1000


def wait_for(condition, seconds=60.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError("gave up waiting")


def test_a_worker_killed_mid_batch_loses_nothing(tmp_path):
    """SIGKILL while a batch is at the vendor; a restarted worker delivers the rest, each user once."""
    from flask import Flask

    from scimbridge.app import Bridge
    from scimbridge.config import parse_config

    emulator = run_in_thread("acc")
    document = live_config(tmp_path, emulator, "acc")
    document["targets"][0]["delivery"]["lease_seconds"] = 2
    config_file = tmp_path / "bridge.yaml"
    config_file.write_text(yaml.safe_dump(document))
    bridge = Bridge(parse_config(config_file.read_text()))
    app = Flask("kill")
    bridge.init_app(app)
    client = app.test_client()
    operations = [
        {"method": "POST", "path": "/Users", "bulkId": f"u{n}", "data": scim_user(f"user{n:03d}")}
        for n in range(450)
    ]
    client.post(
        "/scim/v2/acc/Bulk",
        json={
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
            "Operations": operations,
        },
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    emulator.fault(delay=0.5, times=10, path="users:import")

    def worker():
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "scimbridge",
                "worker",
                "--config",
                str(config_file),
                "--poll",
                "0.1",
            ],
            cwd=REPOSITORY,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def imports():
        return sum(1 for entry in emulator.requests("users:import") if entry["method"] == "POST")

    first = worker()
    wait_for(lambda: imports() >= 1)
    first.send_signal(signal.SIGKILL)
    first.wait()
    assert len(emulator.users()) < 450, "the worker finished before it was killed"

    second = worker()
    try:
        wait_for(lambda: len(emulator.users()) == 450 and not bridge_pending(bridge))
    finally:
        second.terminate()
        second.wait()
        emulator.stop()
    emails = [user["email"] for user in emulator.users()]
    assert len(emails) == len(set(emails)) == 450


def bridge_pending(bridge):
    from sqlalchemy import func, select

    from scimbridge.store.delivery_tables import outbox

    with bridge.database.transaction():
        return bridge.database.session.execute(
            select(func.count()).where(outbox.c.state == "pending")
        ).scalar_one()
