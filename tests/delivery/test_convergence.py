"""Convergence: whatever the identity provider writes, and whatever the vendors and the
workers go through meanwhile, every vendor ends up holding exactly the final SCIM state
(issue 22, "Done when"; docs/architecture.md, "External IDs and re-import" and
"Delivery state").

A seeded workload (:mod:`convergence_workload`: creates, renames, email changes,
deactivations, reactivations, deletes, re-creates, and a new person given a former
user's name or email) is written to the five built-in vendors' targets through two
bridges on one PostgreSQL database, writes alternating between them as behind a load
balancer, while two ``scimbridge worker`` processes deliver. Meanwhile, from the same
seed, the vendors' emulators play outages (503), 429s, answers after the client's
timeout, held and dropped answers and slow calls, and one worker is SIGKILLed while it
holds a batch, then started again. Rate limits and clocks are scaled down (Rocket.Chat's
10 calls per route in 2 s, ACC's writes and reads in 2 s, a 1 s timeout, a 3 s lease),
never switched off. Once the faults stop and the outbox drains, the oracle
(:mod:`convergence_oracle`) maps the final SCIM users through each target's mapping and
checks every emulator: nothing lost, duplicated, left active, or held by the wrong person.

The test prints its figures (``pytest -s``, or the captured output of a failure). CI
runs one seed; ``SCIMBRIDGE_CONVERGENCE_SEED`` picks another, ``SCIMBRIDGE_CONVERGENCE_RUNS``
runs that many seeds from it, ``SCIMBRIDGE_CONVERGENCE_OPERATIONS`` sets the operations per
target. ``-k convergence`` selects it.
"""

from __future__ import annotations

import json
import logging
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml
from convergence_oracle import (
    VIEWS,
    AccountView,
    Observed,
    Verdict,
    accounts_holding,
    check,
    scim_differs_from_model,
)
from convergence_workload import Workload, faults
from flask import Flask
from scimbridge_emulators import RunningEmulator, run_in_thread
from sqlalchemy import case, func, select
from werkzeug.serving import make_server

from scimbridge.app import Bridge
from scimbridge.config import load_config
from scimbridge.delivery.state import DELIVERY_STATE
from scimbridge.store.delivery_tables import chosen_values, links, outbox
from scimbridge.testing.databases import POSTGRES_URL
from scimbridge.testing.live import TOKEN, live_config

SEED = int(os.environ.get("SCIMBRIDGE_CONVERGENCE_SEED", "22"))
RUNS = int(os.environ.get("SCIMBRIDGE_CONVERGENCE_RUNS", "1"))
OPERATIONS = int(os.environ.get("SCIMBRIDGE_CONVERGENCE_OPERATIONS", "60"))
"""Operations per target."""
PAUSE_SECONDS = 0.25
"""The average pause between two operations of one target's writer."""
DRAIN_SECONDS = 90.0
"""How long the outbox may take to drain once the faults stop."""

WINDOW = 2.0
"""Every rate-limit window, scaled down from the vendors' minute."""
TIMEOUT = 1.0
EMULATOR_OPTIONS: dict[str, dict[str, Any]] = {
    "rocketchat": {"rate_limit_calls": 10, "rate_limit_seconds": WINDOW},
    "acc": {"write_limit": 10, "read_limit": 60, "limit_seconds": WINDOW},
}
TARGET_OPTIONS: dict[str, dict[str, Any]] = {
    "rocketchat": {"rate_limits": {"per_route": {"calls": 10, "seconds": WINDOW}}},
    "acc": {
        "rate_limits": {
            "writes": {"calls": 10, "seconds": WINDOW},
            "reads": {"calls": 60, "seconds": WINDOW},
        },
        # ACC acts upon an import 0.5 s after its 202: polled 0.1 s apart, up to 5 s
        "poll_interval_seconds": 0.1,
        "max_polls": 50,
    },
}
DELIVERY: dict[str, Any] = {
    "timeout_seconds": TIMEOUT,
    "lease_seconds": 3,
    "backoff_seconds": 0.5,
    "max_backoff_seconds": 2,
    "unconfirmed_import_seconds": 3,
    "max_attempts": 3,
}
WORKER = Path(__file__).with_name("convergence_worker.py")
REPOSITORY = Path(__file__).resolve().parents[2]


class Rig:
    """The five emulators, two bridges serving on loopback, and the worker processes."""

    def __init__(self, tmp_path: Path, database_url: str):
        self.tmp_path = tmp_path
        self.emulators: dict[str, RunningEmulator] = {
            vendor: run_in_thread(vendor, **EMULATOR_OPTIONS.get(vendor, {})) for vendor in VIEWS
        }
        targets = [
            live_config(
                tmp_path, emulator, vendor, database_url, TARGET_OPTIONS.get(vendor), **DELIVERY
            )["targets"][0]
            for vendor, emulator in self.emulators.items()
        ]
        self.config = tmp_path / "bridge.yaml"
        self.config.write_text(yaml.safe_dump({"database": database_url, "targets": targets}))
        self.bridges = [Bridge(load_config(self.config)) for _ in range(2)]
        self.servers = []
        for bridge in self.bridges:
            app = Flask("convergence")
            bridge.init_app(app)
            server = make_server("127.0.0.1", 0, app, threaded=True)
            threading.Thread(target=server.serve_forever, daemon=True).start()
            self.servers.append(server)
        self.workers: dict[str, subprocess.Popen[bytes]] = {}

    def fronts(self, target: str) -> list[str]:
        """The target's SCIM base URL on each bridge."""
        return [
            f"http://127.0.0.1:{server.server_address[1]}/scim/v2/{target}"
            for server in self.servers
        ]

    def start_worker(self, name: str) -> None:
        log = (self.tmp_path / f"{name}.log").open("wb")
        self.workers[name] = subprocess.Popen(
            [sys.executable, str(WORKER), str(self.config), name],
            cwd=REPOSITORY,
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def claims_of(self, name: str) -> list[str]:
        """The targets of the entries the worker holds in a batch now."""
        with self.bridges[0].database.transaction(writing=False) as session:
            query = select(outbox.c.target).where(
                outbox.c.state == "pending", outbox.c.claimed_by.like(f"{name}/%")
            )
            return list(session.execute(query).scalars())

    def outstanding(self) -> int:
        with self.bridges[0].database.transaction(writing=False) as session:
            query = select(func.count()).where(outbox.c.state.in_(("pending", "held")))
            return session.execute(query).scalar_one()

    def stop_workers(self) -> list[str]:
        """SIGTERM to every worker still running; the names of those that had to be killed."""
        for process in self.workers.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        stuck = []
        for name, process in self.workers.items():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                stuck.append(name)
                process.kill()
                process.wait()
        return stuck

    def worker_errors(self) -> Counter[str]:
        """The workers' error log lines (their message and the exception's last line), counted:
        what a run that went wrong shows of the workers' side."""
        errors: Counter[str] = Counter()
        for name in self.workers:
            for line in (self.tmp_path / f"{name}.log").read_text(errors="replace").splitlines():
                try:
                    logged = json.loads(line)
                except ValueError:
                    continue
                if isinstance(logged, dict) and logged.get("level") in ("ERROR", "CRITICAL"):
                    cause = str(logged.get("exception") or "").strip().splitlines()[-1:]
                    errors[" / ".join([str(logged.get("message")), *cause])] += 1
        return errors

    def keep_request_logs(self) -> None:
        """Each emulator's request log, as ``<vendor>-requests.json`` beside the workers' logs."""
        for vendor, emulator in self.emulators.items():
            logged = json.dumps(emulator.requests(), indent=1, default=str)
            (self.tmp_path / f"{vendor}-requests.json").write_text(logged)

    def close(self) -> None:
        for process in self.workers.values():
            if process.poll() is None:
                process.kill()
                process.wait()
        for server in self.servers:
            server.shutdown()
        for emulator in self.emulators.values():
            emulator.stop()
        for bridge in self.bridges:
            bridge.database.dispose()


@dataclass
class Figures:
    """What the run did, printed whatever its outcome."""

    seed: int
    logs: Path
    faults: Counter[str] = field(default_factory=Counter)
    kill: str = "no worker killed"
    workload_seconds: float = 0.0
    drain_seconds: float | None = None
    outbox: dict[str, int] = field(default_factory=dict)
    worker_errors: Counter[str] = field(default_factory=Counter)
    verdicts: dict[str, tuple[int, int, Verdict]] = field(default_factory=dict)
    """Per target: accounts at the vendor, active ones, the oracle's verdict."""

    def lines(self, workloads: dict[str, Workload]) -> list[str]:
        operations: Counter[str] = Counter()
        for workload in workloads.values():
            operations.update(workload.operations)
        drained = (
            f"drained in {self.drain_seconds:.1f} s"
            if self.drain_seconds is not None
            else f"NOT drained within {DRAIN_SECONDS:.0f} s"
        )
        lines = [
            f"convergence seed {self.seed}: {len(workloads)} targets, 2 bridges, "
            "2 worker processes, PostgreSQL",
            f"  operations ({sum(operations.values())}): {dict(sorted(operations.items()))}",
            f"  faults ({sum(self.faults.values())}): {dict(sorted(self.faults.items()))}; "
            f"{self.kill}",
            f"  workload {self.workload_seconds:.1f} s, then the outbox {drained}",
            f"  outbox: {self.outbox}",
        ]
        for target, (accounts, active, verdict) in self.verdicts.items():
            lines.append(
                f"  {target}: {accounts} accounts ({active} active); {verdict.checked} live "
                f"active users checked: {verdict.delivered} delivered, {len(verdict.conflicts)} "
                f"refused for a former holder's account key; {len(verdict.violations)} violations"
            )
            lines += [f"    refused: {refusal}" for refusal in verdict.conflicts]
        lines += [
            f"  worker error x{count}: {error}"
            for error, count in self.worker_errors.most_common(10)
        ]
        lines.append(f"  worker logs and vendor request logs: {self.logs}")
        return lines


@pytest.fixture
def rig(tmp_path: Path, postgres_schema_url: str) -> Iterator[Rig]:
    made = Rig(tmp_path, postgres_schema_url)
    yield made
    made.close()


def play_faults(rig: Rig, seed: int, done: threading.Event, figures: Figures) -> None:
    """Queue the seed's faults at the emulators until the writers are done."""
    for fault in faults(seed, list(rig.emulators), TIMEOUT):
        if done.wait(fault.wait):
            return
        rig.emulators[fault.target].fault(**fault.options)
        figures.faults[fault.kind] += 1


def kill_one_worker_mid_batch(
    rig: Rig, workloads: dict[str, Workload], share: float, done: threading.Event, figures: Figures
) -> None:
    """SIGKILL ``convergence-b`` once the writers have played ``share`` of their operations,
    while it holds a batch (up to half a second after it claimed it, as the seed says: its
    vendor calls may be under way, done, or not begun); then start another worker in its
    place (the dead one's leases run out, and its entries are delivered again)."""
    planned = share * OPERATIONS * len(workloads)
    while sum(sum(workload.operations.values()) for workload in workloads.values()) < planned:
        if done.wait(0.05):
            return
    into_the_batch = random.Random(share).uniform(0, 0.5)
    deadline = time.monotonic() + 15
    held: list[str] = []
    while time.monotonic() < deadline:
        if rig.claims_of("convergence-b"):
            time.sleep(into_the_batch)
            if held := rig.claims_of("convergence-b"):
                break
        time.sleep(0.005)
    rig.workers["convergence-b"].send_signal(signal.SIGKILL)
    rig.workers["convergence-b"].wait()
    figures.kill = (
        f"worker convergence-b SIGKILLed {share:.0%} into the workload, {into_the_batch:.2f} s "
        f"into a batch, holding {len(held)} "
        f"entries ({', '.join(sorted(set(held))) or 'none: it took no batch in 15 s'}); restarted"
    )
    time.sleep(0.5)
    rig.start_worker("convergence-b2")


def read_back(rig: Rig, target: str) -> Observed:
    """The target's final state: SCIM's users, their delivery state and groups, the
    bridge's links and chosen values, and the vendor's accounts."""
    front = rig.fronts(target)[0]
    headers = {"Authorization": f"Bearer {TOKEN}"}

    def listed(path: str, **params: str) -> list[dict[str, Any]]:
        response = requests.get(
            f"{front}{path}", params={"count": "1000", **params}, headers=headers, timeout=30
        )
        assert response.ok, response.text
        return list(response.json().get("Resources", []))

    attributes = ",".join(f"{DELIVERY_STATE}:{name}" for name in ("status", "lastError"))
    states = {
        user["id"]: user.get(DELIVERY_STATE, {}) for user in listed("/Users", attributes=attributes)
    }
    groups: dict[str, list[str]] = {}
    for group in listed("/Groups"):
        for member in group.get("members", []):
            groups.setdefault(member["value"], []).append(group["displayName"])
    with rig.bridges[0].database.transaction(writing=False) as session:
        link_rows = [
            dict(row._mapping)
            for row in session.execute(select(links).where(links.c.target == target))
        ]
        chosen: dict[str, dict[str, str]] = {}
        for row in session.execute(select(chosen_values).where(chosen_values.c.target == target)):
            chosen.setdefault(row.link_id, {})[row.field] = row.value
    return Observed(
        users=listed("/Users"),
        states=states,
        groups=groups,
        links=link_rows,
        chosen=chosen,
        accounts=rig.emulators[target].users(),
    )


def holding_now(emulator: RunningEmulator, view: AccountView, value: str) -> set[str]:
    """The ids of the accounts the vendor holds now with an account key from ``value``."""
    return accounts_holding(view, emulator.users(), value)


def outbox_figures(rig: Rig) -> dict[str, int]:
    """Entries by state, and the retries: every try of an entry after its first."""
    retries = func.sum(case((outbox.c.attempts > 1, outbox.c.attempts - 1), else_=0))
    with rig.bridges[0].database.transaction(writing=False) as session:
        rows = session.execute(
            select(outbox.c.state, func.count(), retries).group_by(outbox.c.state)
        ).all()
    figures = {"entries": sum(count for _, count, _ in rows)}
    figures.update({state: count for state, count, _ in rows})
    figures["retries"] = sum(tries or 0 for _, _, tries in rows)
    return figures


SEEDS = range(SEED, SEED + RUNS)


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.skipif(
    not POSTGRES_URL,
    reason="SCIMBRIDGE_TEST_POSTGRES_URL is not set: the convergence test runs two bridges "
    "and two worker processes on one PostgreSQL database",
)
@pytest.mark.parametrize("seed", SEEDS)
def test_convergence_every_vendor_holds_exactly_the_final_scim_state(
    rig: Rig, seed: int, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="werkzeug")  # a line per request otherwise
    figures = Figures(seed, rig.tmp_path)
    workloads = {
        target: Workload(
            target,
            seed,
            rig.fronts(target),
            TOKEN,
            view.grant_group,
            partial(holding_now, rig.emulators[target], view),
        )
        for target, view in VIEWS.items()
    }
    try:
        violations = run(rig, seed, workloads, figures)
    finally:
        print("\n".join(figures.lines(workloads)))
    assert not violations, f"{len(violations)} violations:\n" + "\n".join(violations)


def run(rig: Rig, seed: int, workloads: dict[str, Workload], figures: Figures) -> list[str]:
    """Play the workload with its faults, let the outbox drain, and return what the oracle
    finds wrong at each vendor."""
    rig.start_worker("convergence-a")
    rig.start_worker("convergence-b")
    writers_done = threading.Event()
    started = time.monotonic()
    with ThreadPoolExecutor(len(workloads) + 2) as pool:
        share = random.Random(f"{seed}/kill").uniform(0.3, 0.6)
        killing = pool.submit(
            kill_one_worker_mid_batch, rig, workloads, share, writers_done, figures
        )
        faulting = pool.submit(play_faults, rig, seed, writers_done, figures)
        writing = [
            pool.submit(workload.run, OPERATIONS, PAUSE_SECONDS) for workload in workloads.values()
        ]
        try:
            for writer in writing:
                writer.result()
        finally:
            writers_done.set()
        killing.result()
        faulting.result()
    for emulator in rig.emulators.values():  # the faults stop: those not played yet go
        with emulator.emulator.lock:
            emulator.emulator.faults.clear()
    figures.workload_seconds = time.monotonic() - started

    drain_started = time.monotonic()
    while rig.outstanding() and time.monotonic() - drain_started < DRAIN_SECONDS:
        time.sleep(0.2)
    violations = []
    if rig.outstanding():
        violations.append(
            f"the outbox still holds {rig.outstanding()} entries {DRAIN_SECONDS:.0f} s after "
            "the faults stopped"
        )
    else:
        figures.drain_seconds = time.monotonic() - drain_started
    stuck = rig.stop_workers()
    if stuck:
        figures.kill += f"; {', '.join(stuck)} ignored SIGTERM for 30 s and were killed"
    figures.worker_errors = rig.worker_errors()
    rig.keep_request_logs()

    figures.outbox = outbox_figures(rig)
    for target, workload in workloads.items():
        seen = read_back(rig, target)
        scim_problems = scim_differs_from_model(workload, seen)
        verdict = check(workload, rig.bridges[0].mappings[target], VIEWS[target], seen)
        active = sum(1 for account in seen.accounts if VIEWS[target].active(account))
        figures.verdicts[target] = (len(seen.accounts), active, verdict)
        violations += [f"{target}: {problem}" for problem in scim_problems + verdict.violations]
    return violations
