"""Delivery benchmark: vendor requests per user, and how fast users get in and out.

For each vendor, N users are created with one SCIM Bulk request against an
in-process bridge on a fresh SQLite file, then the outbox is delivered to that
vendor's emulator on loopback until every user is at the vendor and nothing is
pending. ACC's import lands 0.5 s after its 202, as the emulator plays it.

Three modes:

- default: throughput. Prints, per vendor, SCIM Bulk users/s, delivery users/s, vendor
  HTTP requests per user (token calls included) and the peak resident memory. The
  emulators keep their documented limits, but for one: the Rocket.Chat account holds
  ``api-bypass-rate-limit`` (the target says so with ``options.rate_limits``), so the
  figure measures the bridge, not Rocket.Chat's 10 calls a minute.
- ``--limits``: the documented rate limits, enforced by the emulators and kept by the
  clients (Rocket.Chat 10 calls per route, ACC 100 writes and 600 reads, per window),
  with every window divided by ``--scale`` (10 by default) so that the run takes
  minutes. Prints, per vendor, requests per user, the time to deliver, and beside it the
  least time the limits allow for the requests made: per limited count (a Rocket.Chat
  route, ACC's writes or reads), ceil(calls / limit) - 1 whole windows, the longest of
  them. ACC is run a second time with an update of every member (a group that gives
  each one access: one PATCH each), where its write limit is what bounds the delivery.
- ``--slow-vendor VENDOR``: one bridge with five targets, one per vendor, each in front of
  its emulator; the emulator of VENDOR waits ``--slow-delay`` seconds (5 by default)
  before it serves each call, token calls included. N users (500 by default) are created
  on every target with one SCIM Bulk request each, then the worker is started as
  ``scimbridge serve`` runs it (``Bridge.start_worker``) and the emulators are watched,
  in real time, until every user is at its vendor or ``--deadline`` seconds passed.
  Prints, per target, the users at the vendor, the seconds from the worker's start
  until the last of them arrived (read from the emulator's state every 0.1 s), users/s
  and the vendor calls. The slow target's ``delivery.timeout_seconds`` is
  ``--slow-timeout`` (unset: the configuration's default, 30 s): above the delay, every
  call is answered late; below it, every call times out and the target delivers nothing.
  The emulators are set up as in the default mode: Rocket.Chat's account bypasses its 10
  calls a minute, ACC keeps its 100 writes and 600 reads a minute. The run says which.

    python bench/bench_delivery.py [N]
    python bench/bench_delivery.py --limits [--scale 10] [N]
    python bench/bench_delivery.py --slow-vendor confide [--slow-delay 5]
        [--slow-timeout 30] [--deadline 300] [N]
"""

from __future__ import annotations

import argparse
import logging
import math
import resource
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml
from flask import Flask
from flask.testing import FlaskClient
from scimbridge_emulators import RunningEmulator, demo_options, run_in_thread
from sqlalchemy import func, select

from scimbridge.app import Bridge
from scimbridge.config import parse_config
from scimbridge.delivery.worker import Worker
from scimbridge.store.delivery_tables import outbox
from scimbridge.vendors import vendor_plugin
from scimbridge.vendors.pacing import RateLimit

VENDORS = ("confide", "acc", "aria", "rocketchat", "cloudshell")
"""The built-in vendors."""
TOKEN = "bench-token-0123456789"
BULK = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"


def scim_user(n: int) -> dict[str, Any]:
    return {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": f"user{n:05d}@example.com",
        "externalId": f"00u{n:05d}",
        "name": {"givenName": f"Given{n}", "familyName": "Bench"},
        "emails": [{"value": f"user{n:05d}@example.com", "type": "work", "primary": True}],
    }


@dataclass(frozen=True)
class Setup:
    """How a vendor's emulator and target are set up for a run."""

    emulator: dict[str, Any]
    options: dict[str, Any]
    limits: tuple[RateLimit, ...]
    """The limits the emulator enforces and the client keeps (scaled)."""


def throughput_setup(vendor: str) -> Setup:
    if vendor == "rocketchat":
        return Setup({"bypass_rate_limit": True}, {"rate_limits": {"per_route": False}}, ())
    return Setup({}, {}, vendor_plugin(vendor).client.rate_limits)


def limited_setup(vendor: str, scale: float) -> Setup:
    """The documented limits with every window divided by ``scale``, on both sides."""
    limits = tuple(
        replace(limit, seconds=limit.seconds / scale)
        for limit in vendor_plugin(vendor).client.rate_limits
    )
    options = {"rate_limits": {limit.name: {"seconds": limit.seconds} for limit in limits}}
    emulator: dict[str, Any] = {}
    if vendor == "rocketchat":
        emulator = {"rate_limit_seconds": 60 / scale}
    if vendor == "acc":
        emulator = {"limit_seconds": 60 / scale}
    return Setup(emulator, options if limits else {}, limits)


def target_document(vendor: str, emulator: RunningEmulator, setup: Setup) -> dict[str, Any]:
    """A target named after its vendor, in front of the vendor's emulator."""
    return {
        "name": vendor,
        "vendor": vendor,
        "base_url": emulator.url,
        "credentials": emulator.credentials,
        "options": {
            **demo_options(vendor),
            "poll_interval_seconds": 0.01,
            "max_polls": 200,
            **setup.options,
        },
        "inbound": {"bearer_tokens": [TOKEN]},
    }


def bridge_document(name: str, users: int, directory: Path, targets: list[Any]) -> str:
    return yaml.safe_dump(
        {
            "database": f"sqlite:///{directory / f'{name}-{time.monotonic_ns()}.db'}",
            "max_bulk_operations": users,
            "max_payload_bytes": 1024 * users + 65536,
            "targets": targets,
        }
    )


def bulk_create(scim: FlaskClient, target: str, users: int) -> list[str]:
    """Create ``users`` users on the target with one SCIM Bulk request; their SCIM ids."""
    operations = [
        {"method": "POST", "path": "/Users", "bulkId": str(n), "data": scim_user(n)}
        for n in range(users)
    ]
    response = scim.post(
        f"/scim/v2/{target}/Bulk",
        json={"schemas": [BULK], "Operations": operations},
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    assert response.status_code == 200, response.json
    answer = response.json
    assert answer is not None
    return [operation["location"].rsplit("/", 1)[1] for operation in answer["Operations"]]


class Run:
    """One vendor's emulator and an in-process bridge in front of it."""

    def __init__(self, vendor: str, users: int, directory: Path, setup: Setup):
        self.vendor = vendor
        self.users = users
        self.setup = setup
        self.emulator: RunningEmulator = run_in_thread(vendor, **setup.emulator)
        document = bridge_document(
            vendor, users, directory, [target_document(vendor, self.emulator, setup)]
        )
        self.bridge = Bridge(parse_config(document))
        app = Flask("bench")
        self.bridge.init_app(app)
        self.scim: FlaskClient = app.test_client()
        self.worker = Worker(self.bridge.config, self.bridge.database, self.bridge.mappings)

    def post(self, path: str, body: dict[str, Any]) -> Any:
        response = self.scim.post(
            f"/scim/v2/{self.vendor}{path}", json=body, headers={"Authorization": f"Bearer {TOKEN}"}
        )
        assert response.status_code in (200, 201), response.json
        return response.json

    def create(self) -> tuple[float, list[str]]:
        """Seconds the SCIM Bulk request took, and the SCIM ids of the users."""
        started = time.perf_counter()
        ids = bulk_create(self.scim, self.vendor, self.users)
        return time.perf_counter() - started, ids

    def pending(self) -> int:
        with self.bridge.database.transaction():
            return self.bridge.database.session.execute(
                select(func.count()).where(outbox.c.state == "pending")
            ).scalar_one()

    def deliver(self) -> float:
        """Seconds until every user is at the vendor and nothing is pending."""
        started = time.perf_counter()
        while len(self.emulator.users()) < self.users or self.pending():
            if not self.worker.run_once():
                time.sleep(0.05)
        return time.perf_counter() - started

    def requests(self) -> int:
        return sum(self.emulator.request_counts().values())

    def least_seconds(self, since: int = 0) -> float:
        """The least time the limits allow for the requests logged after the first
        ``since``: per count, ceil(calls / limit) - 1 whole windows; the longest."""
        counts: Counter[tuple[RateLimit, str]] = Counter()
        for logged in self.emulator.requests()[since:]:
            for limit in self.setup.limits:
                if limit.covers(logged["method"], logged["path"]):
                    counts[limit, limit.bucket(logged["method"], logged["path"])] += 1
        return max(
            (
                (math.ceil(calls / limit.calls) - 1) * limit.seconds
                for (limit, _), calls in counts.items()
            ),
            default=0.0,
        )

    def stop(self) -> None:
        for client in self.worker.clients.values():
            client.close()
        self.emulator.stop()
        self.bridge.database.dispose()


def throughput(users: int, directory: Path) -> None:
    print(f"{users} users per vendor, one SCIM Bulk request each")
    print(f"{'vendor':<11} {'scim users/s':>13} {'delivery users/s':>17} {'requests/user':>14}")
    for vendor in VENDORS:
        run = Run(vendor, users, directory, throughput_setup(vendor))
        scim_seconds, _ = run.create()
        delivery_seconds = run.deliver()
        print(
            f"{vendor:<11} {users / scim_seconds:>13.0f} {users / delivery_seconds:>17.0f} "
            f"{run.requests() / users:>14.3f}"
        )
        run.stop()


def limited(users: int, directory: Path, scale: float) -> None:
    print(
        f"{users} users per vendor, documented rate limits enforced, every window divided "
        f"by {scale:g} (Rocket.Chat 10 calls per route per {60 / scale:g} s; ACC 100 writes "
        f"and 600 reads per {60 / scale:g} s)"
    )
    print(f"{'vendor':<17} {'requests/user':>14} {'delivery s':>11} {'least s':>8} {'ratio':>6}")
    for vendor in VENDORS:
        run = Run(vendor, users, directory, limited_setup(vendor, scale))
        _, ids = run.create()
        seconds = run.deliver()
        row(vendor, run.requests(), seconds, run.least_seconds(), users)
        if vendor == "acc":
            since = len(run.emulator.requests())
            members = [{"value": scim_id} for scim_id in ids]
            run.post(
                "/Groups", {"schemas": [GROUP], "displayName": "ACC Members", "members": members}
            )
            seconds = run.deliver()
            requests = len(run.emulator.requests()) - since
            row("acc (update)", requests, seconds, run.least_seconds(since), users)
        run.stop()


def row(name: str, requests: int, seconds: float, least: float, users: int) -> None:
    ratio = f"{seconds / least:.2f}" if least else "-"
    print(f"{name:<17} {requests / users:>14.3f} {seconds:>11.1f} {least:>8.1f} {ratio:>6}")


SAMPLE_SECONDS = 0.1
"""How often the slow-vendor run reads every emulator's users."""


@dataclass
class Arrivals:
    """What one target's emulator showed: its users at the start, the most since, and when
    (seconds after the worker started) the last of them arrived."""

    before: int
    delivered: int = 0
    last_seconds: float = 0.0


def at_vendor(running: RunningEmulator) -> int:
    """How many users the emulator holds: ``users()`` without the deep copy, which, every
    0.1 s for five emulators, would take the CPU the bridge is measured on."""
    emulator = running.emulator
    with emulator.lock:
        emulator.catch_up()
        return len(emulator.end_state())


def slow_vendor(
    users: int, directory: Path, slow: str, delay: float, timeout: float | None, deadline: float
) -> None:
    """Five targets, one per vendor, one of them slow; the worker as ``serve`` runs it."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    setups = {vendor: throughput_setup(vendor) for vendor in VENDORS}
    emulators = {vendor: run_in_thread(vendor, **setups[vendor].emulator) for vendor in VENDORS}
    targets = [target_document(vendor, emulators[vendor], setups[vendor]) for vendor in VENDORS]
    for target in targets:
        if target["vendor"] == slow and timeout is not None:
            target["delivery"] = {"timeout_seconds": timeout}
    bridge = Bridge(parse_config(bridge_document("slow", users, directory, targets)))
    app = Flask("bench")
    bridge.init_app(app)
    scim = app.test_client()
    for vendor in VENDORS:
        bulk_create(scim, vendor, users)
    timeout_seconds = bridge.config.target(slow).delivery.timeout_seconds
    emulators[slow].fault(delay=delay, times=10**9)
    print(
        f"{users} users on each of five targets, one SCIM Bulk request each; the worker as "
        f"`scimbridge serve` runs it (Bridge.start_worker), real time, at most {deadline:g} s"
    )
    print(
        f"{slow} is slow: its emulator waits {delay:g} s before every call (token calls "
        f"included); its delivery.timeout_seconds is {timeout_seconds:g}, "
        + (
            "above the delay: every call is answered, late"
            if timeout_seconds > delay
            else "not above the delay: every call times out"
        )
    )
    print(
        "emulator limits: Rocket.Chat's account holds api-bypass-rate-limit (its 10 calls "
        "per route a minute are off, options.rate_limits.per_route false); ACC keeps its "
        "100 writes and 600 reads a minute; the others have none"
    )
    arrivals = {vendor: Arrivals(at_vendor(emulators[vendor])) for vendor in VENDORS}
    started = time.monotonic()
    bridge.start_worker()
    try:
        while time.monotonic() - started < deadline:
            time.sleep(SAMPLE_SECONDS)
            now = time.monotonic() - started
            for vendor, seen in arrivals.items():
                delivered = at_vendor(emulators[vendor]) - seen.before
                if delivered > seen.delivered:
                    seen.delivered, seen.last_seconds = delivered, now
            if all(seen.delivered >= users for seen in arrivals.values()):
                break
        elapsed = time.monotonic() - started
    finally:
        with emulators[slow].emulator.lock:
            emulators[slow].emulator.faults.clear()
        bridge.stop_worker()
    print(
        f"{'target':<11} {'delay s':>8} {'delivered':>10} {'last arrived s':>15} "
        f"{'users/s':>8} {'vendor calls':>13}"
    )
    for vendor, seen in arrivals.items():
        rate = f"{seen.delivered / seen.last_seconds:.1f}" if seen.last_seconds else "-"
        late = f"{seen.last_seconds:.1f}" if seen.delivered else "-"
        print(
            f"{vendor:<11} {delay if vendor == slow else 0:>8g} "
            f"{f'{seen.delivered}/{users}':>10} {late:>15} {rate:>8} "
            f"{len(emulators[vendor].requests()):>13}"
        )
    print(f"watched for {elapsed:.1f} s")
    for emulator in emulators.values():
        emulator.stop()
    bridge.database.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("users", nargs="?", type=int, default=None)
    parser.add_argument("--limits", action="store_true", help="enforce the documented limits")
    parser.add_argument("--scale", type=float, default=10.0, help="divide every window by this")
    parser.add_argument(
        "--slow-vendor", choices=VENDORS, help="five targets at once, this vendor's one slow"
    )
    parser.add_argument(
        "--slow-delay", type=float, default=5.0, help="seconds the slow emulator waits a call"
    )
    parser.add_argument(
        "--slow-timeout", type=float, default=None, help="the slow target's timeout_seconds"
    )
    parser.add_argument(
        "--deadline", type=float, default=300.0, help="stop the slow-vendor run after this"
    )
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        if arguments.slow_vendor:
            slow_vendor(
                arguments.users or 500,
                Path(directory),
                arguments.slow_vendor,
                arguments.slow_delay,
                arguments.slow_timeout,
                arguments.deadline,
            )
        elif arguments.limits:
            limited(arguments.users or 1000, Path(directory), arguments.scale)
        else:
            throughput(arguments.users or 500, Path(directory))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak resident memory: {peak:.0f} MiB")


if __name__ == "__main__":
    main()
