"""Provisioning benchmark: onboarding a large tenant, one vendor at a time (issue 24).

What an admin meets when the identity provider pushes a whole tenant at once. For each
vendor in turn: a fresh database, the vendor's emulator, and a bridge with ONE target in
front of it, served as ``scimbridge serve`` serves it (waitress, 8 threads, the delivery
worker started in the process with ``Bridge.start_worker`` before the load begins). N new
users (``--users``, 2,000 by default) are sent as SCIM Bulk requests of ``--bulk-size``
operations (500), one after the other, over HTTP from one client, as ``curl`` would. The
outbox is then read every 0.1 s, and the vendor's users whenever it holds nothing pending,
until every user is at the vendor and nothing is pending, or ``--deadline`` seconds passed
since the first Bulk request; the bench then reports what had arrived.

A real vendor is another machine: by default (``--emulator-process``) the emulator is
served from a process of its own (werkzeug, threaded, on 127.0.0.1), so that its CPU does
not compete with the bridge and its worker for one interpreter's GIL, and the bench reads
it over its ``/_emulator/`` control endpoints. ``--emulator-thread`` serves it from a
thread of the bridge's process instead, as the bench did at first.

The vendors' documented rate limits are enforced by the emulators and kept by the
clients alike (Rocket.Chat 10 calls a minute per route, ACC 100 writes and 600 reads a
minute; ``bench_delivery.limited_setup``), no bypass. ``--scale S`` divides every
window, the emulator's and the client's ``options.rate_limits``, by S for a quick run
(1: the real windows). Everything else is as shipped: the clients' own poll intervals,
timeouts and batch sizes, the emulators' asynchronous timings (ACC's import delay, the
status polls a Confide task or a Rocket.Chat import answers "running" first).

Without ``--vendor`` every vendor runs in a process of its own, one after the other, so
that each one's peak resident memory is its own.

    python bench/bench_provisioning.py [--vendor VENDOR] [--users 2000] [--scale 1]
        [--bulk-size 500] [--deadline 3600] [--database-url URL] [--json]
        [--emulator-process | --emulator-thread]

``--database-url`` names a PostgreSQL server: each vendor then runs in a new schema of
it, dropped afterwards (``scimbridge.testing.databases.postgres_schema``).
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import multiprocessing
import resource
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Protocol

import yaml
from bench_delivery import BULK, TOKEN, VENDORS, Setup, at_vendor, limited_setup, scim_user
from flask import Flask
from scimbridge_emulators import RunningEmulator, create_emulator, demo_options
from scimbridge_emulators.acc import MAX_USERS_PER_IMPORT, AccEmulator
from scimbridge_emulators.aria import AriaEmulator
from scimbridge_emulators.base import EXTENSION_KEY, VendorEmulator
from scimbridge_emulators.cloudshell import CloudShellEmulator
from scimbridge_emulators.confide import ConfideEmulator
from scimbridge_emulators.rocketchat import RocketChatEmulator
from scimbridge_emulators.server import absolute_credentials, serve_in_thread
from scimbridge_emulators.state import Quota
from sqlalchemy import func, select
from waitress.server import TcpWSGIServer
from werkzeug.serving import make_server

from scimbridge.app import Bridge, create_app
from scimbridge.config import parse_config
from scimbridge.store.delivery_tables import links, outbox

SAMPLE_SECONDS = 0.1
"""How often the outbox is read while delivery runs (and the vendor's users, once nothing
is pending)."""
SERVE_THREADS = 8
"""``scimbridge serve``'s default ``--threads``."""
CHILD_GRACE_SECONDS = 300.0
"""How long past ``--deadline`` a vendor's process may take (setup, the Bulk load, the
worker's stop) before the parent ends it."""
EMULATOR_START_SECONDS = 60.0
"""How long an emulator's process may take to import the emulators and listen."""
EMULATOR_READ_SECONDS = 120.0
"""How long one read of an emulator's control endpoints may take (10,000 users' state is
megabytes of JSON)."""


# -- What the vendor holds ----------------------------------------------------------------


def whole(user_name: str) -> str:
    return user_name


def local_part(user_name: str) -> str:
    return user_name.split("@", 1)[0]


@dataclass(frozen=True)
class Account:
    """Where a vendor's account keeps its key and its id, and the key a user gets."""

    key_field: str
    """The field of an emulator end-state user holding the account key."""
    id_field: str
    """The field holding the vendor's own id (what a link's ``vendor_id`` must be)."""
    key_of: Callable[[str], str]
    """The account key the vendor's default mapping makes of a userName (of
    ``bench_delivery.scim_user``, whose email is its userName)."""


ACCOUNTS = {
    "confide": Account("email", "email", whole),
    "acc": Account("email", "id", whole),
    "aria": Account("username", "id", whole),
    "rocketchat": Account("username", "_id", local_part),
    "cloudshell": Account("Username", "Id", local_part),
}
"""The five vendors' accounts, as their mappings (mappings/) key them:
Rocket.Chat's first user name candidate and CloudShell's UserName are the userName's part
before the @."""


# -- The documented minimum ---------------------------------------------------------------


@dataclass(frozen=True)
class Minimum:
    """The fewest vendor calls the documents allow for N new users, and the least time."""

    calls: dict[str, int]
    """Calls by what they are for, token calls included."""
    seconds: float
    """Whole rate-limit windows the busiest count needs, plus the vendor's own delay."""
    why: str


def windows(calls: int, quota: Quota) -> float:
    """The least time ``calls`` calls take under ``quota``: ceil(calls / limit) - 1 whole
    windows (the first window's calls go at once)."""
    return max(0, math.ceil(calls / quota.calls) - 1) * quota.seconds


def minimum(emulator: VendorEmulator, users: int) -> Minimum:
    """Read from the emulator's own limits and timings (the scaled ones of this run)."""
    calls = {"token": 1} if emulator.public_endpoints else {}
    polls = emulator.async_polls + 1
    if isinstance(emulator, ConfideEmulator):
        calls |= {"import-users": 1, "status polls": polls}
        return Minimum(calls, 0.0, f"one import, its task answers 'InProgress' {polls - 1}x")
    if isinstance(emulator, AccEmulator):
        imports = math.ceil(users / MAX_USERS_PER_IMPORT)
        calls |= {"listing": 1, "imports": imports, "confirmations": imports}
        limited = max(
            windows(imports, emulator.write_quota), windows(1 + imports, emulator.read_quota)
        )
        return Minimum(
            calls,
            limited + emulator.import_delay_seconds,
            f"at most {MAX_USERS_PER_IMPORT} users an import; {emulator.write_quota.calls} writes and "
            f"{emulator.read_quota.calls} reads per {emulator.write_quota.seconds:g} s: "
            f"{limited:g} s of windows + {emulator.import_delay_seconds:g} s import delay",
        )
    if isinstance(emulator, AriaEmulator):
        calls |= {"import": 1}
        return Minimum(calls, 0.0, "one import, no documented limit")
    if isinstance(emulator, RocketChatEmulator):
        routes = {
            "users.list": 2,
            "import.new": 1,
            "import.addUsers": 1,
            "import.run": 1,
            "import.status": polls,
        }
        busiest = max(routes.values())
        return Minimum(
            calls | routes,
            windows(busiest, emulator.quota),
            f"listing before and after, one import, status 'importing' {polls - 1}x; "
            f"{emulator.quota.calls} calls per route per {emulator.quota.seconds:g} s, the "
            f"busiest route {busiest} calls",
        )
    if isinstance(emulator, CloudShellEmulator):
        calls |= {"imports": users}
        return Minimum(calls, 0.0, "one user a call, no documented limit")
    raise ValueError(f"no documented minimum for the {emulator.vendor} emulator")


# -- The emulator -------------------------------------------------------------------------


class Vendor(Protocol):
    """What the bench reads of a served emulator, wherever it runs: a
    :class:`~scimbridge_emulators.server.RunningEmulator` in a thread, or an
    :class:`EmulatorProcess`."""

    @property
    def url(self) -> str: ...

    @property
    def credentials(self) -> dict[str, str]: ...

    def users(self) -> list[dict[str, Any]]: ...

    def requests(self) -> list[dict[str, Any]]: ...

    def request_counts(self) -> dict[str, int]: ...

    def stop(self) -> None: ...


def serve_emulator(vendor: str, options: dict[str, Any], port: Connection) -> None:
    """An emulator process's work: the vendor's emulator with ``options``, served by
    werkzeug (threaded) on a free port of 127.0.0.1, which is sent back on ``port``."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = make_server("127.0.0.1", 0, create_emulator(vendor, None, **options), threaded=True)
    port.send(server.server_port)
    port.close()
    server.serve_forever()


class EmulatorProcess:
    """The emulator of ``vendor`` served from a child process (multiprocessing's spawn
    start, a fresh interpreter), read over its ``/_emulator/`` control endpoints.

    ``emulator`` is one built in the parent with the same options (and the same demo
    credentials), never served: what the URL's prefix and the credentials are."""

    def __init__(self, vendor: str, options: dict[str, Any], emulator: VendorEmulator):
        context = multiprocessing.get_context("spawn")
        receiving, sending = context.Pipe(duplex=False)
        self._process = context.Process(
            target=serve_emulator,
            args=(vendor, options, sending),
            name=f"emulator-{vendor}",
            daemon=True,
        )
        self._process.start()
        sending.close()
        try:
            if not receiving.poll(EMULATOR_START_SECONDS):
                raise RuntimeError(f"the {vendor} emulator's process did not start listening")
            port = int(receiving.recv())
        except (EOFError, RuntimeError):
            self.stop()
            raise
        finally:
            receiving.close()
        self.origin = f"http://127.0.0.1:{port}"
        self.url = self.origin + emulator.url_prefix
        self.credentials = absolute_credentials(emulator.credentials, self.origin)

    def _read(self, path: str) -> Any:
        with urllib.request.urlopen(
            f"{self.origin}/_emulator/{path}", timeout=EMULATOR_READ_SECONDS
        ) as response:
            return json.load(response)

    def users(self) -> list[dict[str, Any]]:
        users: list[dict[str, Any]] = self._read("state")["users"]
        return users

    def requests(self) -> list[dict[str, Any]]:
        logged: list[dict[str, Any]] = self._read("requests")
        return logged

    def request_counts(self) -> dict[str, int]:
        counts: dict[str, int] = self._read("state")["counts"]
        return counts

    def stop(self) -> None:
        self._process.terminate()
        self._process.join(10)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()


def serve(vendor: str, options: dict[str, Any], app: Flask, apart: bool) -> Vendor:
    """The emulator ``app`` (built with ``options``) served in a thread of this process, or
    (``apart``) the same emulator served from a process of its own."""
    if apart:
        emulator = app.extensions[EXTENSION_KEY]
        assert isinstance(emulator, VendorEmulator)
        return EmulatorProcess(vendor, options, emulator)
    return serve_in_thread(app)


def held(vendor: Vendor) -> int:
    """How many users the vendor holds; in this process without the deep copy of
    ``users()`` (``bench_delivery.at_vendor``)."""
    if isinstance(vendor, RunningEmulator):
        return at_vendor(vendor)
    return len(vendor.users())


# -- The run ------------------------------------------------------------------------------


@dataclass
class Result:
    """One vendor's run, as the table and ``--json`` show it."""

    vendor: str
    users: int
    scale: float
    bulk_size: int
    emulator: str = "process"
    """Where the emulator ran: ``process`` (its own) or ``thread`` (of the bridge's)."""
    ingest_seconds: float = 0.0
    """The Bulk requests alone, first sent to last answered."""
    bulk_refused: int = 0
    """Bulk operations not answered 201 (and operations of requests not answered 200)."""
    wall_seconds: float | None = None
    """From the first Bulk request until every user was at the vendor and nothing pending;
    None: the deadline came first."""
    watched_seconds: float = 0.0
    at_vendor: int = 0
    outbox: dict[str, int] = field(default_factory=dict)
    """Outbox entries by state when the watch ended."""
    calls: dict[str, int] = field(default_factory=dict)
    """Vendor calls by route (``METHOD /rule``), token calls and refused calls included."""
    token_routes: list[str] = field(default_factory=list)
    throttled: int = 0
    """Calls the emulator answered 429."""
    duplicates: int = 0
    missing: int = 0
    strangers: int = 0
    """Accounts whose key is none of the N users'."""
    links: int = 0
    links_without_id: int = 0
    links_wrong_id: int = 0
    minimum_calls: dict[str, int] = field(default_factory=dict)
    minimum_seconds: float = 0.0
    minimum_why: str = ""
    peak_rss_mib: float = 0.0
    """The vendor's process: the bridge, its worker and the bench (and the emulator when it
    ran in a thread)."""
    emulator_rss_mib: float | None = None
    """The emulator's own process, when it ran in one."""
    run_seconds: float = 0.0
    """The whole run of the vendor: setup, load, watch, the worker's stop and the checks."""
    error: str | None = None

    @property
    def total_calls(self) -> int:
        return sum(self.calls.values())

    @property
    def token_calls(self) -> int:
        return sum(n for route, n in self.calls.items() if route in self.token_routes)

    @property
    def exactly_once(self) -> bool:
        return (
            self.at_vendor == self.users
            and not (self.duplicates or self.missing or self.strangers)
            and self.links == self.users
            and not (self.links_without_id or self.links_wrong_id)
        )

    @property
    def call_ratio(self) -> float | None:
        least = sum(self.minimum_calls.values())
        return self.total_calls / least if least else None

    @property
    def time_ratio(self) -> float | None:
        least = max(self.minimum_seconds, self.ingest_seconds)
        return self.wall_seconds / least if self.wall_seconds is not None and least else None

    def as_json(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "total_calls": self.total_calls,
            "token_calls": self.token_calls,
            "exactly_once": self.exactly_once,
            "call_ratio": self.call_ratio,
            "time_ratio": self.time_ratio,
        }


def token_routes(app: Flask, emulator: VendorEmulator) -> list[str]:
    """The emulator's token routes, keyed as its request log keys them."""
    return sorted(
        f"{method} {rule.rule}"
        for rule in app.url_map.iter_rules()
        if rule.endpoint in emulator.public_endpoints
        for method in rule.methods or ()
        if method not in ("HEAD", "OPTIONS")
    )


@contextmanager
def database_url(directory: Path, vendor: str, server: str | None) -> Iterator[str]:
    """A fresh SQLite file, or a new schema of the PostgreSQL ``server``."""
    if server is None:
        yield f"sqlite:///{directory / f'{vendor}.db'}"
        return
    from scimbridge.testing.databases import postgres_schema

    with postgres_schema(server) as url:
        yield url


@contextmanager
def served(app: Flask) -> Iterator[str]:
    """The app served by waitress as ``scimbridge serve`` serves it; its base URL."""
    server = TcpWSGIServer(app, host="127.0.0.1", port=0, threads=SERVE_THREADS)
    thread = threading.Thread(target=server.run, name="waitress", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}"
    finally:
        server.close()
        server.task_dispatcher.shutdown()


def bulk_load(base_url: str, users: int, size: int) -> int:
    """POST the users as Bulk requests of ``size`` operations; the operations refused."""
    refused = 0
    for start in range(0, users, size):
        numbers = range(start, min(start + size, users))
        body = {
            "schemas": [BULK],
            "Operations": [
                {"method": "POST", "path": "/Users", "bulkId": str(n), "data": scim_user(n)}
                for n in numbers
            ],
        }
        request = urllib.request.Request(
            f"{base_url}/Bulk",
            data=json.dumps(body).encode(),
            method="POST",
            headers={
                "Authorization": f"Bearer {TOKEN}",
                "Content-Type": "application/scim+json",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=600) as response:
                answer = json.load(response)
        except urllib.error.HTTPError as error:
            print(f"Bulk request refused: {error.code} {error.read()[:300]!r}", file=sys.stderr)
            refused += len(numbers)
            continue
        refused += sum(1 for op in answer["Operations"] if str(op.get("status")) != "201")
    return refused


def pending(bridge: Bridge) -> int:
    with bridge.database.transaction(writing=False):
        return int(
            bridge.database.session.execute(
                select(func.count()).where(outbox.c.state == "pending")
            ).scalar_one()
        )


def outbox_states(bridge: Bridge) -> dict[str, int]:
    with bridge.database.transaction(writing=False):
        rows = bridge.database.session.execute(
            select(outbox.c.state, func.count()).group_by(outbox.c.state)
        ).all()
    return {str(state): int(count) for state, count in rows}


def check_accounts(result: Result, bridge: Bridge, running: Vendor) -> None:
    """Every user at the vendor exactly once, and every link holding its account's id."""
    account = ACCOUNTS[result.vendor]
    wanted = {account.key_of(scim_user(n)["userName"]).lower() for n in range(result.users)}
    held = running.users()
    keys = Counter(str(user.get(account.key_field, "")).lower() for user in held)
    result.duplicates = sum(n - 1 for n in keys.values() if n > 1)
    result.missing = len(wanted - set(keys))
    result.strangers = len(set(keys) - wanted)
    ids = {
        str(user.get(account.key_field, "")).lower(): user.get(account.id_field) for user in held
    }
    with bridge.database.transaction(writing=False):
        rows = bridge.database.session.execute(
            select(links.c.user_name, links.c.vendor_id).where(links.c.target == result.vendor)
        ).all()
    result.links = len(rows)
    for user_name, vendor_id in rows:
        if vendor_id is None:
            result.links_without_id += 1
        elif vendor_id != str(ids.get(account.key_of(str(user_name)).lower())):
            result.links_wrong_id += 1


def watch(result: Result, bridge: Bridge, running: Vendor, started: float, deadline: float) -> None:
    """Until every user the bridge accepted is at the vendor and nothing is pending, or the
    deadline (a Bulk operation refused is reported, and never awaited).

    The outbox is read every :data:`SAMPLE_SECONDS`; the vendor's users only when nothing
    is pending (and at the deadline): while entries are pending the run cannot be over,
    and the state of an emulator apart is every user's JSON."""
    while True:
        now = time.perf_counter() - started
        idle = not pending(bridge)
        if idle or now >= deadline:
            result.at_vendor = held(running)
            if idle and result.at_vendor >= result.users - result.bulk_refused:
                result.wall_seconds = now
                break
        if now >= deadline:
            break
        time.sleep(SAMPLE_SECONDS)
    result.watched_seconds = time.perf_counter() - started


def target_document(vendor: str, running: Vendor, setup: Setup) -> dict[str, Any]:
    """One target named after its vendor, as shipped but for the scaled rate limits (the
    clients' own poll intervals, unlike ``bench_delivery.target_document``'s 0.01 s)."""
    return {
        "name": vendor,
        "vendor": vendor,
        "base_url": running.url,
        "credentials": running.credentials,
        "options": {**demo_options(vendor), **setup.options},
        "inbound": {"bearer_tokens": [TOKEN]},
    }


def deliver(
    result: Result,
    app: Flask,
    bridge: Bridge,
    running: Vendor,
    arguments: argparse.Namespace,
) -> None:
    """Serve the bridge, start its worker, send the Bulk load and watch it arrive."""
    with served(app) as base_url:
        bridge.start_worker()
        try:
            started = time.perf_counter()
            result.bulk_refused = bulk_load(
                f"{base_url}/scim/v2/{result.vendor}", result.users, result.bulk_size
            )
            result.ingest_seconds = time.perf_counter() - started
            watch(result, bridge, running, started, arguments.deadline)
        finally:
            bridge.stop_worker()


def run_vendor(vendor: str, arguments: argparse.Namespace, directory: Path) -> Result:
    began = time.perf_counter()
    result = Result(
        vendor, arguments.users, arguments.scale, arguments.bulk_size, arguments.emulator
    )
    setup = limited_setup(vendor, arguments.scale)
    emulator_app = create_emulator(vendor, None, **setup.emulator)
    emulator = emulator_app.extensions[EXTENSION_KEY]
    assert isinstance(emulator, VendorEmulator)
    result.token_routes = token_routes(emulator_app, emulator)
    least = minimum(emulator, arguments.users)
    result.minimum_calls, result.minimum_seconds = least.calls, least.seconds
    result.minimum_why = least.why
    running = serve(vendor, setup.emulator, emulator_app, arguments.emulator == "process")
    try:
        with database_url(directory, vendor, arguments.database_url) as database:
            document = {
                "database": database,
                "log_level": "WARNING",
                "targets": [target_document(vendor, running, setup)],
            }
            app = create_app(parse_config(yaml.safe_dump(document)))
            bridge = app.extensions["scimbridge"]
            assert isinstance(bridge, Bridge)
            try:
                deliver(result, app, bridge, running, arguments)
                result.outbox = outbox_states(bridge)
                check_accounts(result, bridge, running)
            finally:
                bridge.database.dispose()
    except Exception as error:  # a client or worker changing under the bench: report it
        logging.exception("%s: the run failed", vendor)
        result.error = f"{type(error).__name__}: {error}"
    finally:
        result.calls = running.request_counts()
        result.throttled = sum(1 for logged in running.requests() if logged["status"] == 429)
        result.at_vendor = len(running.users())
        running.stop()
    result.peak_rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if isinstance(running, EmulatorProcess):
        result.emulator_rss_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    result.run_seconds = time.perf_counter() - began
    return result


# -- Several vendors, each in its own process ---------------------------------------------


def run_apart(vendor: str, arguments: argparse.Namespace, directory: Path) -> Result:
    """Run one vendor in a child process (its own peak RSS); a child that outlives the
    deadline by :data:`CHILD_GRACE_SECONDS` is ended and reported as such."""
    result_file = directory / f"{vendor}.json"
    command = [
        sys.executable,
        __file__,
        "--vendor",
        vendor,
        "--users",
        str(arguments.users),
        "--scale",
        str(arguments.scale),
        "--bulk-size",
        str(arguments.bulk_size),
        "--deadline",
        str(arguments.deadline),
        "--result-file",
        str(result_file),
        f"--emulator-{arguments.emulator}",
    ]
    if arguments.database_url:
        command += ["--database-url", arguments.database_url]
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    try:
        child.wait(timeout=arguments.deadline + CHILD_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()
    if not result_file.exists():
        failed = Result(
            vendor, arguments.users, arguments.scale, arguments.bulk_size, arguments.emulator
        )
        failed.error = f"the vendor's process ended ({child.returncode}) without a result"
        return failed
    return result_from_json(json.loads(result_file.read_text()))


def result_from_json(document: dict[str, Any]) -> Result:
    names = Result.__dataclass_fields__
    return Result(**{name: value for name, value in document.items() if name in names})


# -- The report ---------------------------------------------------------------------------


def header(arguments: argparse.Namespace) -> str:
    scale = arguments.scale
    window = f"{60 / scale:g} s" if scale != 1 else "minute"
    where = (
        "in a process of its own (werkzeug, threaded, 127.0.0.1), read over its /_emulator/ "
        "control endpoints"
        if arguments.emulator == "process"
        else "in a thread of the bridge's process (sharing its GIL)"
    )
    return f"""\
{arguments.users} new users per vendor, SCIM Bulk requests of {arguments.bulk_size} operations \
sent one after the other over HTTP; one target per vendor; the worker as `scimbridge serve` \
runs it (Bridge.start_worker), started before the load; at most {arguments.deadline:g} s.
Each vendor's emulator served {where}.
Rate limits enforced by the emulators and kept by the clients, windows divided by \
scale {scale:g}: Rocket.Chat 10 calls per route per {window}, ACC 100 writes and 600 \
reads per {window}; the others document none.
  wall: first Bulk request sent -> every user at the vendor and nothing pending in the
        outbox (the outbox read every {SAMPLE_SECONDS:g} s, the emulator's users whenever
        nothing is pending); ingest: the Bulk requests alone. '>' + watched seconds: the
        deadline came first.
  calls: every request the emulator logged, token and refused ones included; 429: of them.
  once: every user at the vendor exactly once by its account key (email / username /
        Username), none missing, none extra, and every link holding its account's vendor id.
  minimum: the fewest calls the vendor's documents allow (token where there is one, then
        Confide 1 import-users + the task's status polls; ACC 1 listing + ceil(N/200)
        imports + as many confirmation reads; Aria 1 import; Rocket.Chat users.list before
        and after + import.new, addUsers, run + the status polls; CloudShell N imports), and
        the least time: the whole windows the busiest limited count needs (ACC writes or
        reads, Rocket.Chat's busiest route: ceil(calls/limit) - 1 windows) plus ACC's import
        delay; every figure read from the emulator (its limits, its async polls and delay).
  x calls = calls / minimum calls; x time = wall / max(minimum time, ingest).
  RSS: the peak resident memory of the vendor's process: bridge, worker and bench, and
        the emulator when it runs in a thread (MiB)."""


def table(results: list[Result]) -> str:
    lines = [
        f"{'vendor':<11} {'users':>6} {'at vendor':>9} {'ingest s':>8} {'wall s':>9} "
        f"{'calls':>6} {'token':>5} {'429':>5} {'min calls':>9} {'x calls':>7} "
        f"{'min s':>6} {'x time':>7} {'once':>4} {'RSS':>5}"
    ]
    for r in results:
        wall = (
            f"{r.wall_seconds:.1f}" if r.wall_seconds is not None else f">{r.watched_seconds:.0f}"
        )
        lines.append(
            f"{r.vendor:<11} {r.users:>6} {r.at_vendor:>9} {r.ingest_seconds:>8.1f} {wall:>9} "
            f"{r.total_calls:>6} {r.token_calls:>5} {r.throttled:>5} "
            f"{sum(r.minimum_calls.values()):>9} {ratio(r.call_ratio):>7} "
            f"{r.minimum_seconds:>6.1f} {ratio(r.time_ratio):>7} "
            f"{'yes' if r.exactly_once else 'NO':>4} {r.peak_rss_mib:>5.0f}"
        )
    return "\n".join(lines)


def ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def details(r: Result) -> str:
    least = " + ".join(f"{what} {n}" for what, n in r.minimum_calls.items())
    routes = "\n".join(f"    {n:>6}  {route}" for route, n in sorted(r.calls.items()))
    lines = [
        f"{r.vendor}: calls by route",
        routes or "    none",
        f"  minimum: {least} = {sum(r.minimum_calls.values())} calls; "
        f"{r.minimum_seconds:g} s ({r.minimum_why})",
        f"  outbox at the end: {r.outbox}; Bulk operations refused: {r.bulk_refused}; "
        f"the whole run took {r.run_seconds:.0f} s"
        + (
            f"; the emulator's process peaked at {r.emulator_rss_mib:.0f} MiB"
            if r.emulator_rss_mib is not None
            else ""
        ),
        f"  accounts: {r.at_vendor} held, {r.duplicates} duplicated, {r.missing} missing, "
        f"{r.strangers} not ours; links: {r.links}, {r.links_without_id} without a vendor "
        f"id, {r.links_wrong_id} with another account's",
    ]
    if r.error:
        lines.append(f"  ERROR: {r.error}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--vendor", choices=VENDORS, help="this vendor only (default: all)")
    parser.add_argument("--users", type=int, default=2000, help="new users (default 2000)")
    parser.add_argument(
        "--scale", type=float, default=1.0, help="divide every rate-limit window by this"
    )
    parser.add_argument(
        "--bulk-size", type=int, default=500, help="operations per SCIM Bulk request"
    )
    parser.add_argument(
        "--deadline",
        type=float,
        default=3600.0,
        help="seconds after the first Bulk request to stop and report what arrived",
    )
    parser.add_argument("--database-url", help="a PostgreSQL server (a schema per vendor)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--emulator-process",
        dest="emulator",
        action="store_const",
        const="process",
        help="serve each emulator from a process of its own, as a vendor is another "
        "machine (the default)",
    )
    where.add_argument(
        "--emulator-thread",
        dest="emulator",
        action="store_const",
        const="thread",
        help="serve each emulator from a thread of the bridge's process (its GIL shared)",
    )
    parser.set_defaults(emulator="process")
    parser.add_argument("--result-file", type=Path, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    for quiet in ("werkzeug", "waitress"):
        logging.getLogger(quiet).setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory() as temporary:
        directory = Path(temporary)
        if arguments.vendor:
            results = [run_vendor(arguments.vendor, arguments, directory)]
        else:
            results = [run_apart(vendor, arguments, directory) for vendor in VENDORS]
    if arguments.result_file:
        arguments.result_file.write_text(json.dumps(results[0].as_json()))
        return
    if arguments.json:
        print(json.dumps([r.as_json() for r in results], indent=2))
        return
    print(header(arguments))
    print(table(results))
    for r in results:
        print(details(r))


if __name__ == "__main__":
    main()
