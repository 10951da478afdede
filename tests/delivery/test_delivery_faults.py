"""Nothing is lost: every write reaches the vendor through 429s, 5xx, timeouts, expired tokens and a killed worker."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from live_bridge import TOKEN, live_config
from test_end_to_end import PATCH, VIEWS, scim_user, vendor_users

from scimbridge.emulators import run_in_thread

REPOSITORY = Path(__file__).resolve().parents[2]


def rename(live, user_id, given_name):
    operation = {"op": "replace", "path": "name.givenName", "value": given_name}
    response = live.scim(
        "PATCH", f"/Users/{user_id}", {"schemas": [PATCH], "Operations": [operation]}
    )
    assert response.status_code == 200, response.text


def statuses(live):
    return [entry["status"] for entry in live.emulator.requests()]


@pytest.mark.parametrize("live", list(VIEWS), indirect=True)
def test_writes_arrive_through_429_500_and_timeouts(live):
    ada = live.scim("POST", "/Users", scim_user("ada")).json()
    live.scim("POST", "/Users", scim_user("bob"))
    live.emulator.fault(status=429, retry_after=1)
    live.emulator.fault(status=500)
    live.emulator.fault(status=503)
    live.emulator.fault(delay=1.5)
    live.drain()
    rename(live, ada["id"], "Augusta")
    rename(live, ada["id"], "Ada-Marie")
    live.emulator.fault(status=429, retry_after=1)
    live.drain()
    assert {429, 500, 503} <= set(statuses(live))
    users = vendor_users(live)
    assert set(users) == {"ada", "bob"}
    if VIEWS[live.vendor].given_name(users["ada"]) is not None:
        assert VIEWS[live.vendor].given_name(users["ada"]) == "Ada-Marie"


@pytest.mark.parametrize("live", ["confide", "acc", "aria", "cloudshell"], indirect=True)
def test_an_expired_token_is_renewed_and_the_write_arrives(live):
    """Rocket.Chat is left out: its personal access token cannot be renewed by the bridge."""
    live.scim("POST", "/Users", scim_user("ada"))
    live.drain()
    live.emulator.expire_tokens()
    live.scim("POST", "/Users", scim_user("bob"))
    live.drain()
    assert 401 in statuses(live)
    assert set(vendor_users(live)) == {"ada", "bob"}


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


@pytest.mark.parametrize("live", ["rocketchat", "aria"], indirect=True)
def test_no_secret_reaches_the_log(live, caplog):
    caplog.set_level(logging.DEBUG)
    ada = live.scim("POST", "/Users", scim_user("ada")).json()
    live.emulator.expire_tokens() if live.vendor == "aria" else live.emulator.fault(status=401)
    rename(live, ada["id"], "Augusta")
    live.drain()
    secrets = [*live.bridge.config.secrets(), TOKEN]
    assert secrets
    leaked = [secret for secret in secrets if secret in caplog.text]
    assert leaked == []


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
