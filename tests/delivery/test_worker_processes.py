"""Worker processes killed, stopped and raced: every user ends at the vendor once, in its last state.

Each test runs real processes (``worker_with_faults.py``, ``scimbridge worker``,
``scimbridge serve``) against a vendor emulator serving on loopback in this
process, and asserts what the vendor ends up holding, never only the bridge's
bookkeeping.
"""

from __future__ import annotations

import copy
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import requests
import yaml
from flask import Flask
from scimbridge_emulators import run_in_thread
from sqlalchemy import func, select
from test_end_to_end import CONFIDE_PERMISSIONS, PATCH, VIEWS, scim_user, vendor_users
from worker_with_faults import STEPS

from scimbridge.app import Bridge
from scimbridge.config import load_config
from scimbridge.delivery.outbox import Outbox
from scimbridge.delivery.worker import Worker
from scimbridge.store.delivery_tables import links as links_table
from scimbridge.store.delivery_tables import outbox
from scimbridge.testing.live import TOKEN, live_config

REPOSITORY = Path(__file__).resolve().parents[2]
FAULTY_WORKER = Path(__file__).with_name("worker_with_faults.py")
AUTH = {"Authorization": f"Bearer {TOKEN}"}
BULK = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"


class Bench:
    """A bridge configuration file, the bridge itself for SCIM writes, and the emulator."""

    def __init__(
        self,
        tmp_path: Path,
        vendor: str,
        database_url: str | None = None,
        options: dict[str, Any] | None = None,
        **delivery: Any,
    ):
        self.tmp_path = tmp_path
        self.vendor = vendor
        self.emulator = run_in_thread(vendor)
        document = live_config(tmp_path, self.emulator, vendor, database_url, **delivery)
        document["targets"][0]["options"].update(options or {})
        self.config = tmp_path / "bridge.yaml"
        self.config.write_text(yaml.safe_dump(document))
        self.bridge = Bridge(load_config(self.config))
        app = Flask("processes")
        self.bridge.init_app(app)
        self.client = app.test_client()
        self.processes: list[subprocess.Popen[bytes]] = []

    def create(self, *names: str) -> dict[str, str]:
        """The users, created in one Bulk request; their SCIM ids by name."""
        response = self.bulk(
            {"method": "POST", "path": "/Users", "bulkId": name, "data": scim_user(name)}
            for name in names
        )
        return {
            operation["bulkId"]: operation["location"].rsplit("/", 1)[1]
            for operation in response["Operations"]
        }

    def patch(self, ids: dict[str, str], *operations: dict[str, Any]) -> None:
        """The same PATCH of each of the users, in one Bulk request."""
        self.bulk(
            {
                "method": "PATCH",
                "path": f"/Users/{user_id}",
                "data": {"schemas": [PATCH], "Operations": list(operations)},
            }
            for user_id in ids.values()
        )

    def bulk(self, operations: Any) -> dict[str, Any]:
        response = self.client.post(
            f"/scim/v2/{self.vendor}/Bulk",
            json={"schemas": [BULK], "Operations": list(operations)},
            headers=AUTH,
        )
        assert response.status_code == 200, response.json
        statuses = {operation["status"] for operation in response.json["Operations"]}
        assert statuses <= {"200", "201"}, response.json
        return response.json

    def spawn(self, *command: str) -> subprocess.Popen[bytes]:
        log = (self.tmp_path / f"process-{len(self.processes)}.log").open("wb")
        process = subprocess.Popen(
            [sys.executable, *command],
            cwd=REPOSITORY,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.processes.append(process)
        return process

    def faulty_worker(self, *options: str) -> subprocess.Popen[bytes]:
        return self.spawn(str(FAULTY_WORKER), str(self.config), *options)

    def pending(self) -> int:
        with self.bridge.database.transaction() as session:
            return session.execute(
                select(func.count()).where(outbox.c.state.in_(("pending", "failed")))
            ).scalar_one()

    def deliver_everything(self, seconds: float = 60.0) -> None:
        """A normal worker in this process delivers what is left, in real time."""
        worker = Worker(self.bridge.config, self.bridge.database, self.bridge.mappings)
        deadline = time.monotonic() + seconds
        while self.pending():
            assert time.monotonic() < deadline, "the outbox never drained"
            if not worker.run_once():
                time.sleep(0.1)

    def users(self) -> dict[str, dict[str, Any]]:
        return vendor_users(SimpleNamespace(vendor=self.vendor, emulator=self.emulator))

    def close(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.kill()
                process.wait()
        self.emulator.stop()
        self.bridge.database.dispose()


@pytest.fixture
def bench(tmp_path):
    benches: list[Bench] = []

    def make(vendor: str, database_url: str | None = None, **settings: Any) -> Bench:
        benches.append(Bench(tmp_path, vendor, database_url, **settings))
        return benches[-1]

    yield make
    for made in benches:
        made.close()


def wait_for(condition, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "gave up waiting"
        time.sleep(0.05)


def deactivated(vendor: str, user: dict[str, Any]) -> bool:
    """Whether the vendor holds the user deprovisioned."""
    if vendor == "confide":
        return not any(user.get(permission) for permission in CONFIDE_PERMISSIONS)
    return not VIEWS[vendor].active(user)


# -- kill -9 at each step of a delivery ------------------------------------------------------


@pytest.mark.parametrize("step", STEPS)
@pytest.mark.parametrize("vendor", list(VIEWS))
def test_a_worker_killed_at_any_step_of_a_delivery_loses_and_doubles_nothing(bench, vendor, step):
    """After the kill, ada is deactivated and bob renamed: the vendor must end with each
    user once, in that last state, whatever the dead worker had done (ada never reaches a
    vendor that never had her, nor stays in ACC's project; Confide's deprovisioning takes
    every permission away, which these users without groups never had)."""
    # a worker killed before its call cannot be told from one killed after it: ada's
    # deprovision waits out the import it may have sent, scaled down from 15 minutes
    setup = bench(vendor, lease_seconds=1, unconfirmed_import_seconds=3)
    ids = setup.create("ada", "bob", "cyd")
    killed = setup.faulty_worker("--kill-at", step)
    assert killed.wait(timeout=60) == -signal.SIGKILL
    if step == "before_call":
        assert setup.users() == {}
    setup.patch({"ada": ids["ada"]}, {"op": "replace", "path": "active", "value": False})
    setup.patch({"bob": ids["bob"]}, {"op": "replace", "path": "name.givenName", "value": "Bobby"})
    time.sleep(1.1)  # the dead worker's lease runs out
    setup.deliver_everything()
    users = setup.users()
    assert "ada" not in users or deactivated(vendor, users["ada"])
    assert {"bob", "cyd"} <= set(users) <= {"ada", "bob", "cyd"}
    assert VIEWS[vendor].active(users["bob"]) and VIEWS[vendor].active(users["cyd"])
    assert VIEWS[vendor].given_name(users["bob"]) in (None, "Bobby")


# -- SIGTERM ---------------------------------------------------------------------------------

STOP_BOUND_SECONDS = 1 + 5
"""The worker's bound: the longest vendor timeout (live_config: 1 s) and 5 s to settle."""
SLOW_IMPORT = {"poll_interval_seconds": 0.5, "max_polls": 100}
"""ACC's import shows 8 s after its 202 (longer than the bound); the worker polls for it."""


def slow_acc(bench: Any) -> Bench:
    setup = bench("acc", options=SLOW_IMPORT)
    setup.emulator.emulator.import_delay_seconds = 8.0
    return setup


def test_sigterm_during_a_batch_stops_the_worker_within_its_bound_and_loses_nothing(bench):
    """The worker is polling for ACC's import when it is stopped."""
    setup = slow_acc(bench)
    worker = setup.spawn("-m", "scimbridge", "worker", "--config", str(setup.config))
    stopped_during_a_batch(setup, worker)


def test_sigterm_stops_scimbridge_serve_and_its_worker_within_the_bound(bench, unused_port):
    setup = slow_acc(bench)
    server = setup.spawn(
        "-m", "scimbridge", "serve", "--config", str(setup.config), "--port", str(unused_port)
    )
    wait_for(lambda: server.poll() is None and answers(unused_port))
    stopped_during_a_batch(setup, server)


def stopped_during_a_batch(setup: Bench, process: subprocess.Popen[bytes]) -> None:
    """SIGTERM while the process polls for ACC's import of 10 users: it exits cleanly
    within the bound, and a worker after it delivers each user once."""
    names = [f"user{n}" for n in range(10)]
    setup.create(*names)
    wait_for(lambda: setup.emulator.requests("users:import"))
    stopped_at = time.monotonic()
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=STOP_BOUND_SECONDS + 10) == 0
    assert time.monotonic() - stopped_at <= STOP_BOUND_SECONDS
    setup.deliver_everything()
    assert sorted(setup.users()) == names


def answers(port: int) -> bool:
    try:
        return requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
    except requests.RequestException:
        return False


@pytest.fixture
def unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# -- Racing workers on PostgreSQL ------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.skipif(
    not os.environ.get("SCIMBRIDGE_TEST_POSTGRES_URL"),
    reason="SCIMBRIDGE_TEST_POSTGRES_URL is not set: four workers racing need PostgreSQL",
)
def test_four_workers_on_postgresql_deliver_each_users_changes_in_order(bench, postgres_schema_url):
    """2,000 users written 3 times while 4 workers run, each holding every claim open
    0.2 s and waiting up to 0.5 s before each vendor call: each user's versions reach
    Aria in order, and Aria ends with the last.

    The writes go straight to the outbox, as the SCIM layer's listener writes them
    (``Outbox._enqueue``), so that 6,000 of them arrive within seconds while the workers
    race; the SCIM write path itself is specified in tests/scim and test_worker.py.
    """
    setup = bench("aria", postgres_schema_url, lease_seconds=30)
    template = setup.create("template")
    setup.deliver_everything()
    workers = [setup.faulty_worker("--claim-pause", "0.2", "--call-pause", "0.5") for _ in range(4)]
    names = [f"user{n:04d}" for n in range(2000)]
    write_versions(setup, template["template"], names, ("V1", "v2", "v3"))
    wait_for(lambda: not setup.pending(), seconds=240)
    for worker in workers:
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=STOP_BOUND_SECONDS + 10) == 0
    users = setup.users()
    assert sorted(users) == sorted([*names, "template"])
    assert {users[name]["firstName"] for name in names} == {"v3"}
    assert out_of_order(setup.emulator.requests()) == []


def write_versions(setup: Bench, template_id: str, names: list[str], versions: tuple[str, ...]):
    """Write every version of 100 users at a time, 0.1 s apart, so that a user's next
    version keeps arriving while workers hold its previous one."""
    target = setup.bridge.config.target(setup.vendor)
    with setup.bridge.database.transaction() as session:
        document = session.execute(select(outbox.c.document)).scalars().first()
    assert document["id"] == template_id
    writer = Outbox(target.name, setup.bridge.mappings[target.name], lambda _: {}, lambda _: {})
    links = {name: uuid.uuid4().hex for name in names}
    for start in range(0, len(names), 100):
        for version in versions:
            with setup.bridge.database.transaction() as session:
                for name in names[start : start + 100]:
                    user = user_document(document, name, version)
                    if version == versions[0]:
                        session.execute(new_link(target.name, links[name], user))
                    writer._enqueue(session, links[name], "upsert", "update", user, [])
            time.sleep(0.1)


def user_document(template: dict[str, Any], name: str, version: str) -> dict[str, Any]:
    user = copy.deepcopy(template)
    user.update(
        id=uuid.uuid5(uuid.NAMESPACE_URL, name).hex,
        userName=f"{name}@example.com",
        externalId=f"00u-{name}",
        emails=[{**template["emails"][0], "value": f"{name}@example.com"}],
    )
    user["name"] = {**template["name"], "givenName": version}
    return user


def new_link(target: str, link_id: str, user: dict[str, Any]) -> Any:
    return links_table.insert().values(
        id=link_id,
        target=target,
        scim_id=user["id"],
        external_id=user["externalId"],
        user_name=user["userName"].casefold(),
        status="pending",
        created_at=datetime.now(UTC),
    )


def out_of_order(log: list[dict[str, Any]]) -> list[str]:
    """The users whose versions reached Aria in another order than they were written
    (V1, then v2, then v3)."""
    seen: dict[str, list[str]] = {}
    for request in log:
        body = request.get("json")
        for user in body.get("users", []) if isinstance(body, dict) else []:
            name = str(user.get("username", "")).split("@")[0]
            version = user.get("firstName")
            if name and version and (not seen.get(name) or seen[name][-1] != version):
                seen.setdefault(name, []).append(version)
    rank = {"V1": 1, "v2": 2, "v3": 3}
    return [
        f"{name}: {' then '.join(versions)}"
        for name, versions in seen.items()
        if [rank.get(version, 1) for version in versions]
        != sorted(rank.get(version, 1) for version in versions)
    ]
