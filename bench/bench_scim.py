"""SCIM benchmark: scimbridge side by side with a bare Flask ceiling and scim2-server.

Each app runs alone, one after the other, under the same WSGI server and settings
(gunicorn, 1 worker x 4 threads, ``gthread``, on 127.0.0.1), and gets the same
requests (``Authorization: Bearer`` included):

1. ``flask``: a bare Flask app answering fixed SCIM documents: HTTP + Flask alone;
2. ``scim2-server``: scim2-server's own in-memory application (the reference);
3. ``bridge-sqlite``: scimbridge on a SQLite WAL file;
4. ``bridge-postgres``: scimbridge on PostgreSQL (a throwaway server, or
   ``$SCIMBRIDGE_BENCH_POSTGRES_URL``), skipped with a reason when there is none.

The scenarios (reads: 8 connections; writes: one client, sequential) run at each
size; every response is checked for a 2xx status (and every Bulk operation for
its own), so that a broken app never looks fast. wrk drives the load when it is
installed (a small Lua script fills in ids and bodies); otherwise Python threads
over keep-alive ``http.client`` connections do. See docs/performance.md.

    python bench/bench_scim.py [--sizes 1000,10000,100000] [--duration 10] [--quick]
                               [--apps flask,scim2-server,bridge-sqlite,bridge-postgres]
                               [--json PATH]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import platform
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from http.client import HTTPConnection
from pathlib import Path
from typing import Any

from scim_apps import (
    BULK_REQUEST,
    ENTERPRISE,
    PATCH_OP,
    TOKEN,
    USER,
    UserRow,
    iter_rows,
    load_bridge,
    write_bridge_config,
    write_rows,
)

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
APPS = ("flask", "scim2-server", "bridge-sqlite", "bridge-postgres")
READ_CONNECTIONS = 8
READS_DURING_BULK_CONNECTIONS = 4
BULK_OPERATIONS = 1000
GUNICORN = ["--workers", "1", "--threads", "4", "--worker-class", "gthread"]
READY_TIMEOUT = 3600.0
"""The reference loads its users in the worker: at 100k that takes minutes."""

WRK_SCRIPT = r"""
-- Fills <<id>>, <<userName>>, <<externalId>> (one random user a request), <<n>>
-- (unique), <<uuid>> and <<start>> into the path and body, and counts non-2xx answers
-- (and, for Bulk, non-2xx operations) per thread; done() sums them up.
local threads = {}
function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

local function slurp(path)
  local f = assert(io.open(path, "rb")); local s = f:read("*a"); f:close(); return s
end

function init(args)
  method, path_t, tag, max_start = args[1], slurp(args[2]), args[4], tonumber(args[6])
  body_t = nil
  if args[3] ~= "-" then body_t = slurp(args[3]) end
  check_ops = args[7] == "1"
  rows = {}
  for line in io.lines(args[5]) do
    local a, b, c = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)$")
    rows[#rows + 1] = {a, b, c}
  end
  math.randomseed(os.time() * 1000 + tid)
  counter, errors, op_errors, sample = 0, 0, 0, ""
  wrk.headers["Authorization"] = "Bearer " .. args[8]
  wrk.headers["Content-Type"] = "application/scim+json"
  wrk.headers["Accept"] = "application/scim+json"
end

local function uuid4()
  return string.format("%08x-%04x-4%03x-%04x-%012x", math.random(0, 0xffffffff),
    math.random(0, 0xffff), math.random(0, 0xfff), 0x8000 + math.random(0, 0x3fff),
    math.random(0, 0xffffffffffff))
end

function request()
  counter = counter + 1
  local row = rows[math.random(#rows)]
  local values = {id = row[1], userName = row[2], externalId = row[3],
    n = tag .. "-" .. tid .. "-" .. counter, start = tostring(math.random(max_start))}
  local function fill(t)
    return (t:gsub("<<(%w+)>>", function(k)
      if k == "uuid" then return uuid4() end
      return values[k]
    end))
  end
  local body = nil
  if body_t then body = fill(body_t) end
  return wrk.format(method, fill(path_t), nil, body)
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    errors = errors + 1
    if sample == "" then sample = status .. " " .. body:sub(1, 400):gsub("%s+", " ") end
  elseif check_ops then
    for s in body:gmatch('"status"%s*:%s*"?(%d+)') do
      local code = tonumber(s)
      if code < 200 or code > 299 then
        op_errors = op_errors + 1
        if sample == "" then sample = "operation " .. s .. " " .. body:sub(1, 400) end
      end
    end
  end
end

function done(summary, latency, requests)
  local errs, op_errs, first = 0, 0, ""
  for _, t in ipairs(threads) do
    errs = errs + t:get("errors"); op_errs = op_errs + t:get("op_errors")
    if first == "" then first = t:get("sample") end
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests": %d, "duration_us": %d, "errors": %d, "op_errors": %d, ' ..
    '"socket_errors": %d, "p50_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, errs, op_errs,
    e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
  io.write("SAMPLE " .. first .. "\n")
end
"""


# --- Scenarios --------------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    """One kind of request, as templates with ``<<placeholders>>`` the load generator fills.

    ``<<id>>``, ``<<userName>>`` and ``<<externalId>>`` come from one random stored user a
    request; ``<<n>>`` is unique to the request, ``<<uuid>>`` a new UUID each time it
    occurs, ``<<start>>`` a random startIndex.
    """

    key: str
    label: str
    method: str
    path: str
    """Relative to the app's SCIM base path."""
    body: str | None = None
    connections: int = 1
    operations: int = 1
    """SCIM operations per request: rates and latencies are reported per operation."""


def new_user_template(name: str, external_id: str, display: str) -> str:
    """An Entra-like user body with placeholders for what must differ between requests."""
    return json.dumps(
        {
            "schemas": [USER, ENTERPRISE],
            "externalId": external_id,
            "userName": name,
            "active": True,
            "displayName": display,
            "name": {"formatted": display, "givenName": "Bench", "familyName": display},
            "emails": [{"value": name, "type": "work", "primary": True}],
            ENTERPRISE: {"employeeNumber": "<<n>>", "department": "Engineering"},
        }
    )


def entra_patch_template() -> str:
    """The multi-operation PatchOp Entra ID sends when a user's name changes."""
    return json.dumps(
        {
            "schemas": [PATCH_OP],
            "Operations": [
                {"op": "Replace", "path": "displayName", "value": "Patched <<n>>"},
                {"op": "Replace", "path": "name.givenName", "value": "Given <<n>>"},
                {"op": "Add", "path": 'emails[type eq "work"].value', "value": "<<userName>>"},
            ],
        }
    )


def bulk_template(operations: int) -> str:
    """A Bulk request creating ``operations`` new users, each name unique per request."""
    data = [
        {
            "method": "POST",
            "path": "/Users",
            "bulkId": f"b{k}",
            "data": json.loads(
                new_user_template(f"bulk-<<n>>-{k}@example.com", "<<uuid>>", f"Bulk <<n>> {k}")
            ),
        }
        for k in range(operations)
    ]
    return json.dumps({"schemas": [BULK_REQUEST], "failOnErrors": 0, "Operations": data})


def scenarios() -> list[Scenario]:
    """Reads first, then writes, so that every app answers the reads on the same users."""
    quote = "%22"
    return [
        Scenario("get", "GET /Users/{id}", "GET", "/Users/<<id>>", None, READ_CONNECTIONS),
        Scenario(
            "filter-username",
            'GET filter userName eq "…"',
            "GET",
            f"/Users?filter=userName%20eq%20{quote}<<userName>>{quote}",
            None,
            READ_CONNECTIONS,
        ),
        Scenario(
            "filter-externalid",
            'GET filter externalId eq "…"',
            "GET",
            f"/Users?filter=externalId%20eq%20{quote}<<externalId>>{quote}",
            None,
            READ_CONNECTIONS,
        ),
        Scenario(
            "page",
            "GET page of 100 (random startIndex)",
            "GET",
            "/Users?startIndex=<<start>>&count=100",
            None,
            READ_CONNECTIONS,
        ),
        Scenario(
            "post",
            "POST /Users",
            "POST",
            "/Users",
            new_user_template("new-<<n>>@example.com", "<<uuid>>", "New <<n>>"),
        ),
        Scenario(
            "patch",
            "PATCH /Users/{id} (Entra, 3 ops)",
            "PATCH",
            "/Users/<<id>>",
            entra_patch_template(),
        ),
        Scenario(
            "put",
            "PUT /Users/{id}",
            "PUT",
            "/Users/<<id>>",
            new_user_template("<<userName>>", "<<externalId>>", "Put <<n>>"),
        ),
        Scenario(
            "bulk",
            f"Bulk POST, {BULK_OPERATIONS:,} ops (per op)",
            "POST",
            "/Bulk",
            bulk_template(BULK_OPERATIONS),
            operations=BULK_OPERATIONS,
        ),
    ]


# --- Load generators --------------------------------------------------------------------


@dataclass
class LoadResult:
    """What a scenario measured: per operation for Bulk, per request otherwise."""

    requests: int
    seconds: float
    errors: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    operations: int = 1
    sample: str = ""

    @property
    def rate(self) -> float:
        return self.requests * self.operations / self.seconds if self.seconds else 0.0


@dataclass(frozen=True)
class Target:
    """Where a scenario's requests go: the server, the app's SCIM base path, its users."""

    port: int
    base: str
    rows_file: Path
    size: int


def run_wrk(target: Target, scenario: Scenario, duration: int, work: Path) -> LoadResult:
    """Drive the scenario with wrk: 2 threads for reads, 1 thread x 1 connection for writes."""
    script = work / "bench.lua"
    if not script.exists():
        script.write_text(WRK_SCRIPT)
    path_file, body_file = work / f"{scenario.key}.path", work / f"{scenario.key}.body"
    path_file.write_text(target.base + scenario.path)
    if scenario.body is not None:
        body_file.write_text(scenario.body)
    threads = min(2, scenario.connections)
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{scenario.connections}",
        f"-d{duration}s",
        "--timeout",
        "300s",
        "-s",
        str(script),
        f"http://127.0.0.1:{target.port}",
        "--",
        scenario.method,
        str(path_file),
        str(body_file) if scenario.body is not None else "-",
        f"{scenario.key}{uuid.uuid4().hex[:8]}",
        str(target.rows_file),
        str(max(1, target.size - 99)),
        "1" if scenario.operations > 1 else "0",
        TOKEN,
    ]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    found = re.search(r"^BENCH (.*)$", output, re.MULTILINE)
    if found is None:
        raise RuntimeError(f"wrk printed no result:\n{output}")
    figures = json.loads(found.group(1))
    sample = re.search(r"^SAMPLE (.*)$", output, re.MULTILINE)
    return LoadResult(
        requests=figures["requests"],
        seconds=figures["duration_us"] / 1e6,
        errors=figures["errors"] + figures["op_errors"] + figures["socket_errors"],
        p50_ms=figures["p50_us"] / 1000 / scenario.operations,
        p99_ms=figures["p99_us"] / 1000 / scenario.operations,
        max_ms=figures["max_us"] / 1000 / scenario.operations,
        operations=scenario.operations,
        sample=sample.group(1).strip() if sample else "",
    )


def fill(template: str, row: UserRow, n: str, start: int) -> str:
    """The Python twin of the Lua script's ``fill``."""
    values = {"id": row[0], "userName": row[1], "externalId": row[2], "n": n, "start": str(start)}

    def value(match: re.Match[str]) -> str:
        key = match.group(1)
        return str(uuid.uuid4()) if key == "uuid" else values[key]

    return re.sub(r"<<(\w+)>>", value, template)


def failed_operations(body: bytes) -> list[str]:
    """The statuses of a Bulk response's operations that are not 2xx."""
    operations = json.loads(body).get("Operations", [])
    return [
        str(op.get("status")) for op in operations if not str(op.get("status", "")).startswith("2")
    ]


def run_python(
    target: Target,
    scenario: Scenario,
    duration: float,
    *,
    stop: threading.Event | None = None,
    started: threading.Event | None = None,
) -> LoadResult:
    """Drive the scenario with one thread per connection, each on a keep-alive connection.

    Runs ``duration`` seconds, or until ``stop`` is set when one is given; each client
    finishes the request in flight and sends at least one. ``started`` is set once the
    first request is on its way.
    """
    rows = list(iter_rows(target.rows_file))
    headers = {
        "Authorization": f"Bearer {TOKEN}",
        "Content-Type": "application/scim+json",
        "Accept": "application/scim+json",
    }
    tag = f"{scenario.key}{uuid.uuid4().hex[:8]}"
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    began = time.perf_counter()
    deadline = began + duration

    def client(number: int) -> None:
        pick = random.Random(f"{tag}{number}")
        connection = HTTPConnection("127.0.0.1", target.port, timeout=300)
        count = 0
        while count == 0 or (not stop.is_set() if stop else time.perf_counter() < deadline):
            count += 1
            row = pick.choice(rows)
            n, start = f"{tag}-{number}-{count}", pick.randint(1, max(1, target.size - 99))
            body = fill(scenario.body, row, n, start).encode() if scenario.body else None
            sent = time.perf_counter()
            connection.request(
                scenario.method,
                fill(target.base + scenario.path, row, n, start),
                body=body,
                headers=headers,
            )
            if started is not None:
                started.set()
            response = connection.getresponse()
            answer = response.read()
            elapsed = time.perf_counter() - sent
            problems = [str(response.status)] if not 200 <= response.status < 300 else []
            if not problems and scenario.operations > 1:
                problems = failed_operations(answer)
            with lock:
                latencies.append(elapsed)
                if problems:
                    errors.append(f"{problems[0]} {answer[:400].decode(errors='replace')}")
        connection.close()

    threads = [threading.Thread(target=client, args=(k,)) for k in range(scenario.connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return summarise(latencies, errors, time.perf_counter() - began, scenario.operations)


def summarise(latencies: list[float], errors: list[str], seconds: float, ops: int) -> LoadResult:
    ordered = sorted(latencies) or [0.0]

    def percentile(p: float) -> float:
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000 / ops

    return LoadResult(
        requests=len(latencies),
        seconds=seconds,
        errors=len(errors),
        p50_ms=percentile(50),
        p99_ms=percentile(99),
        max_ms=ordered[-1] * 1000 / ops,
        operations=ops,
        sample=errors[0] if errors else "",
    )


# --- Processes: gunicorn and PostgreSQL -------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def vm_rss_mib(pid: int) -> float:
    """The process's resident memory, from /proc (what the kernel counts, shared pages too)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class Gunicorn:
    """One app under gunicorn; :meth:`stop` ends the master and so its worker."""

    def __init__(self, env: dict[str, str], log: Path):
        self.port = free_port()
        self.log = log
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            *GUNICORN,
            "--bind",
            f"127.0.0.1:{self.port}",
            "--timeout",
            str(int(READY_TIMEOUT)),
            "--graceful-timeout",
            "5",
            "--log-level",
            "warning",
            "--pythonpath",
            str(BENCH),
            "--chdir",
            str(ROOT),
            "scim_apps:make_app()",
        ]
        self.process = subprocess.Popen(
            command,
            env={**os.environ, **env},
            stdout=subprocess.DEVNULL,
            stderr=log.open("w"),
            start_new_session=True,
        )

    def worker_pid(self) -> int:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text()
        pids = [int(pid) for pid in children.split()]
        if len(pids) != 1:
            raise RuntimeError(f"expected one gunicorn worker, found {pids}")
        return pids[0]

    def worker_rss_mib(self) -> float:
        return vm_rss_mib(self.worker_pid())

    def wait_ready(self, probe: str, ready_file: Path | None = None) -> None:
        """Wait until ``probe`` (a GET with the token) answers 200."""
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited:\n{self.log.read_text()[-3000:]}")
            if ready_file is None or ready_file.exists():
                with contextlib.suppress(OSError):
                    connection = HTTPConnection("127.0.0.1", self.port, timeout=30)
                    connection.request("GET", probe, headers={"Authorization": f"Bearer {TOKEN}"})
                    response = connection.getresponse()
                    response.read()
                    connection.close()
                    if response.status == 200:
                        return
                    raise RuntimeError(f"{probe}: {response.status} {self.log.read_text()[-2000:]}")
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn not ready after {READY_TIMEOUT} s")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def postgres_bin() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))
    if found:
        return found[-1]
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


class Postgres:
    """A throwaway PostgreSQL cluster in a temporary directory, as scripts/with-postgres.sh
    starts one, with the server's default durability (fsync on: SQLite syncs too)."""

    def __init__(self, bin_dir: Path, work: Path):
        self.bin = bin_dir
        self.dir = work / "pg"
        self.dir.mkdir(mode=0o755)
        self.port = free_port()
        self.as_owner = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres")
            work.chmod(0o755)
        self.started = False
        self._run("initdb", "-D", str(self.dir / "data"), "-U", "postgres", "--auth=trust")
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.dir}"
        self._run(
            "pg_ctl",
            "-D",
            str(self.dir / "data"),
            "-l",
            str(self.dir / "log"),
            "-w",
            "-o",
            options,
            "start",
        )
        self.started = True

    def _run(self, program: str, *args: str) -> None:
        subprocess.run(
            [*self.as_owner, str(self.bin / program), *args],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    def database(self, name: str) -> str:
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name)
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        if self.started:
            self._run("pg_ctl", "-D", str(self.dir / "data"), "-m", "fast", "stop")
            self.started = False


def postgres_url(work: Path, stack: contextlib.ExitStack) -> Callable[[str], str] | str:
    """How to get a fresh database: a function of a name, or the reason there is none."""
    given = os.environ.get("SCIMBRIDGE_BENCH_POSTGRES_URL")
    if given:
        return lambda name: given
    bin_dir = postgres_bin()
    if bin_dir is None:
        return "PostgreSQL is not installed (apt-get install postgresql, or set SCIMBRIDGE_BENCH_POSTGRES_URL)"
    server = Postgres(bin_dir, work)
    stack.callback(server.stop)
    print(f"PostgreSQL {bin_dir.parent.name} on port {server.port}")
    return server.database


# --- Apps under test --------------------------------------------------------------------


@dataclass
class Loaded:
    """An app ready to start: its gunicorn environment, base paths and users."""

    app: str
    size: int
    env: dict[str, str]
    base: str
    rows_file: Path
    load_seconds: float | None = None
    base_b: str | None = None
    rows_file_b: Path | None = None


def prepare(app: str, size: int, work: Path, database: Callable[[str], str] | None) -> Loaded:
    """Build what the app needs before gunicorn starts; the bridge's users are loaded here."""
    rows_file = work / f"{app}-{size}.tsv"
    if app == "flask":
        write_rows(
            rows_file,
            [(uuid.uuid4().hex, f"user{n}@example.com", str(uuid.uuid4())) for n in range(size)],
        )
        return Loaded(app, size, {"BENCH_APP": "flask"}, "/scim/v2", rows_file)
    if app == "scim2-server":
        env = {"BENCH_APP": "reference", "BENCH_USERS": str(size), "BENCH_IDS": str(rows_file)}
        return Loaded(app, size, env, "/v2", rows_file)
    url = (
        f"sqlite:///{work / f'bridge-{size}.db'}" if database is None else database(f"bench_{size}")
    )
    config = write_bridge_config(work / f"{app}-{size}.yaml", url)
    started = time.perf_counter()
    rows = load_bridge(config, size)
    seconds = time.perf_counter() - started
    write_rows(rows_file, rows["a"])
    rows_file_b = work / f"{app}-{size}-b.tsv"
    write_rows(rows_file_b, rows["b"])
    env = {"BENCH_APP": "bridge", "BENCH_CONFIG": str(config)}
    return Loaded(app, size, env, "/scim/v2/a", rows_file, seconds, "/scim/v2/b", rows_file_b)


@dataclass
class Row:
    """One scenario of one app at one size, as printed and written to the JSON."""

    size: int
    app: str
    scenario: str
    label: str
    connections: int
    rate: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    errors: int
    requests: int
    rss_mib: float
    unit: str = "req/s"
    ratios: dict[str, dict[str, float | None]] = field(default_factory=dict)


def drive(target: Target, scenario: Scenario, duration: int, work: Path) -> LoadResult:
    """Bulk always runs in Python (one client, each request lasts seconds and wrk stops
    at its deadline mid-request); the rest under wrk when it is installed, unless so
    slow that wrk's window holds fewer answers than connections."""
    if shutil.which("wrk") and scenario.operations == 1:
        result = run_wrk(target, scenario, duration, work)
        if result.requests >= scenario.connections:
            return result
        print(
            f"    ({scenario.label}: {result.requests} answers within {duration} s under wrk, "
            "which drops the requests in flight at its deadline: again with Python clients, "
            "each waiting for at least one answer)"
        )
    return run_python(target, scenario, duration)


def report_errors(app: str, label: str, result: LoadResult) -> None:
    if result.errors:
        print(f"  !! {app} {label}: {result.errors} errors; first: {result.sample[:300]}")


def row_of(
    loaded: Loaded, key: str, label: str, connections: int, result: LoadResult, rss: float
) -> Row:
    return Row(
        size=loaded.size,
        app=loaded.app,
        scenario=key,
        label=label,
        connections=connections,
        rate=result.rate,
        p50_ms=result.p50_ms,
        p99_ms=result.p99_ms,
        max_ms=result.max_ms,
        errors=result.errors,
        requests=result.requests,
        rss_mib=rss,
        unit="ops/s" if result.operations > 1 else "req/s",
    )


def reads_during_bulk(loaded: Loaded, server: Gunicorn, duration: int, work: Path) -> list[Row]:
    """4 clients GET users of target B, alone and then while one client runs 1,000-op Bulk
    requests on target A: does one target's big write hold up another's reads?"""
    assert loaded.base_b is not None and loaded.rows_file_b is not None
    reads = Scenario(
        "reads-b",
        "GET /Users/{id} on B",
        "GET",
        "/Users/<<id>>",
        None,
        READS_DURING_BULK_CONNECTIONS,
    )
    target_b = Target(server.port, loaded.base_b, loaded.rows_file_b, 1000)
    alone = drive(target_b, reads, duration, work)
    report_errors(loaded.app, reads.label, alone)
    rows = [
        row_of(
            loaded,
            "reads-b-alone",
            "GET /Users/{id} on B, 4 clients, alone",
            reads.connections,
            alone,
            server.worker_rss_mib(),
        )
    ]

    bulk = scenarios()[-1]
    target_a = Target(server.port, loaded.base, loaded.rows_file, loaded.size)
    stop, started = threading.Event(), threading.Event()
    outcome: dict[str, LoadResult] = {}
    writer = threading.Thread(
        target=lambda: outcome.update(
            bulk=run_python(target_a, bulk, 0, stop=stop, started=started)
        )
    )
    writer.start()
    try:
        started.wait(timeout=60)
        during = drive(target_b, reads, duration, work)
    finally:
        stop.set()
        writer.join()
    report_errors(loaded.app, "reads during Bulk", during)
    report_errors(loaded.app, "Bulk beside the reads", outcome["bulk"])
    during.errors += outcome["bulk"].errors
    rows.append(
        row_of(
            loaded,
            "reads-b-during-bulk",
            "… same, during 1,000-op Bulks on A",
            reads.connections,
            during,
            server.worker_rss_mib(),
        )
    )
    return rows


def measure(
    loaded: Loaded, duration: int, work: Path, todo: list[Scenario]
) -> tuple[list[Row], float]:
    """Start the app under gunicorn, run every scenario, and stop it whatever happens."""
    server = Gunicorn(loaded.env, work / f"{loaded.app}-{loaded.size}.log")
    try:
        ready_file = loaded.rows_file if loaded.app == "scim2-server" else None
        started = time.perf_counter()
        probe_ready = loaded.base + "/Users?count=1"
        server.wait_ready(probe_ready, ready_file)
        if loaded.app == "scim2-server":
            meta = json.loads(loaded.rows_file.with_suffix(".load.json").read_text())
            loaded.load_seconds = meta["load_seconds"]
        elif loaded.load_seconds is None:
            loaded.load_seconds = time.perf_counter() - started
        first = next(iter_rows(loaded.rows_file))[0]
        server.wait_ready(f"{loaded.base}/Users/{first}")
        target = Target(server.port, loaded.base, loaded.rows_file, loaded.size)
        run_python(target, todo[0], 1.0)  # warm-up: imports, caches, connection pools
        rss_loaded = server.worker_rss_mib()
        print(f"  {loaded.app}: ready on port {server.port}, worker RSS {rss_loaded:.0f} MiB")
        rows = []
        for scenario in todo:
            result = drive(target, scenario, duration, work)
            report_errors(loaded.app, scenario.label, result)
            rows.append(
                row_of(
                    loaded,
                    scenario.key,
                    scenario.label,
                    scenario.connections,
                    result,
                    server.worker_rss_mib(),
                )
            )
            print(
                f"    {scenario.label:<40} {result.rate:>9.1f} {rows[-1].unit}  "
                f"p50 {result.p50_ms:8.2f} ms  p99 {result.p99_ms:8.2f} ms  "
                f"errors {result.errors}"
            )
        if loaded.base_b is not None:
            rows += reads_during_bulk(loaded, server, duration, work)
            for row in rows[-2:]:
                print(
                    f"    {row.label:<40} {row.rate:>9.1f} req/s  p99 {row.p99_ms:8.2f} ms  "
                    f"max {row.max_ms:8.2f} ms  errors {row.errors}"
                )
        return rows, rss_loaded
    finally:
        server.stop()


# --- Report -----------------------------------------------------------------------------


def add_ratios(rows: list[Row]) -> None:
    """Each figure over the same figure of the bare Flask ceiling (any size: it holds no
    users) and of the scim2-server reference at the same size."""
    flask = {row.scenario: row for row in rows if row.app == "flask"}
    reference = {(row.size, row.scenario): row for row in rows if row.app == "scim2-server"}
    for row in rows:
        for name, base in (
            ("flask", flask.get(row.scenario)),
            ("scim2-server", reference.get((row.size, row.scenario))),
        ):
            row.ratios[name] = {
                figure: (
                    getattr(row, figure) / getattr(base, figure)
                    if base is not None and getattr(base, figure)
                    else None
                )
                for figure in ("rate", "p50_ms", "p99_ms", "max_ms", "rss_mib")
            }


def ratio(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}" if value < 10 else f"{value:.0f}"


def table(rows: list[Row], loads: list[dict[str, Any]]) -> str:
    """The rows grouped by size and scenario; xF and xR are ratios to flask and scim2-server."""
    lines = ["Load (users in place before the first request; worker RSS once loaded):"]
    for load in loads:
        seconds = "" if load["load_seconds"] is None else f"{load['load_seconds']:.1f} s"
        lines.append(
            f"  {load['app']:<16} {load['size']:>7} users  {seconds:>9}  "
            f"{load['rss_loaded_mib']:>6.0f} MiB"
        )
    header = (
        f"  {'app':<16}{'rate':>10} {'unit':<6}{'xF':>6}{'xR':>6}{'p50 ms':>9}{'xF':>6}"
        f"{'xR':>6}{'p99 ms':>9}{'xF':>6}{'xR':>6}{'max ms':>9}{'err':>6}{'RSS MiB':>8}{'xR':>6}"
    )
    flask_rows = [row for row in rows if row.app == "flask"]
    for size in sorted({row.size for row in rows if row.app != "flask"} or {0}):
        keys = list(dict.fromkeys(row.scenario for row in rows))
        lines.append(f"\n{size:,} users" if size else "")
        for key in keys:
            group = [row for row in rows if row.scenario == key and row.size == size]
            group = [row for row in flask_rows if row.scenario == key] + group
            if not group:
                continue
            lines.append(f" {group[-1].label} ({group[-1].connections} conn)")
            lines.append(header)
            for row in group:
                f, r = row.ratios.get("flask", {}), row.ratios.get("scim2-server", {})
                lines.append(
                    f"  {row.app:<16}{row.rate:>10.1f} {row.unit:<6}{ratio(f.get('rate')):>6}"
                    f"{ratio(r.get('rate')):>6}{row.p50_ms:>9.2f}{ratio(f.get('p50_ms')):>6}"
                    f"{ratio(r.get('p50_ms')):>6}{row.p99_ms:>9.2f}{ratio(f.get('p99_ms')):>6}"
                    f"{ratio(r.get('p99_ms')):>6}{row.max_ms:>9.1f}{row.errors:>6}"
                    f"{row.rss_mib:>8.0f}{ratio(r.get('rss_mib')):>6}"
                )
    return "\n".join(lines)


def git_commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def git_dirty() -> bool:
    """Whether the working tree differs from the commit: others edit scimbridge/ meanwhile."""
    try:
        out = subprocess.run(
            ["git", "status", "--porcelain", "scimbridge"],
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return False
    return bool(out.strip())


# --- Main -------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes",
        default="1000,10000,100000",
        help="user counts, comma-separated (default: 1000,10000,100000)",
    )
    parser.add_argument("--duration", type=int, default=10, help="seconds per scenario (10)")
    parser.add_argument("--quick", action="store_true", help="--sizes 1000 --duration 3")
    parser.add_argument("--apps", default=",".join(APPS), help=f"a subset of {','.join(APPS)}")
    parser.add_argument("--scenarios", default="", help="a subset of the scenario keys")
    parser.add_argument(
        "--json",
        type=Path,
        default=None,
        help="where to write the results (bench/results/scim-<timestamp>.json)",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes, args.duration = "1000", 3
    args.sizes = [int(size) for size in args.sizes.split(",") if size]
    args.apps = [app for app in args.apps.split(",") if app]
    unknown = set(args.apps) - set(APPS)
    if unknown:
        parser.error(f"unknown apps: {', '.join(sorted(unknown))}")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    todo = [s for s in scenarios() if not args.scenarios or s.key in args.scenarios.split(",")]
    now = datetime.datetime.now(datetime.UTC)
    commit = f"{git_commit()}{' (+ uncommitted changes in scimbridge/)' if git_dirty() else ''}"
    print(
        f"scimbridge commit {commit}, {now:%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}"
    )
    print(
        f"gunicorn {' '.join(GUNICORN)}; load: {'wrk' if shutil.which('wrk') else 'Python threads'}; "
        f"{args.duration} s a scenario; sizes {args.sizes}"
    )
    rows: list[Row] = []
    loads: list[dict[str, Any]] = []
    skipped: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="bench-scim-") as tmp, contextlib.ExitStack() as stack:
        work = Path(tmp)
        database: Callable[[str], str] | str | None = None
        if "bridge-postgres" in args.apps:
            database = postgres_url(work, stack)
            if isinstance(database, str):
                skipped["bridge-postgres"] = database
                print(f"bridge-postgres skipped: {database}")
        plan = [("flask", args.sizes[0])] + [
            (app, size)
            for size in args.sizes
            for app in APPS[1:]
            if app in args.apps and app not in skipped
        ]
        for app, size in plan:
            if app not in args.apps:
                continue
            print(f"{app}, {size:,} users: loading", flush=True)
            source = database if app == "bridge-postgres" and callable(database) else None
            loaded = prepare(app, size, work, source)
            measured, rss = measure(loaded, args.duration, work, todo)
            if app == "flask":
                for row in measured:
                    row.size = 0
            rows += measured
            loads.append(
                {
                    "app": app,
                    "size": size if app != "flask" else 0,
                    "load_seconds": loaded.load_seconds,
                    "rss_loaded_mib": rss,
                }
            )
    add_ratios(rows)
    print()
    print(table(rows, loads))
    path = args.json or BENCH / "results" / f"scim-{now:%Y%m%dT%H%M%SZ}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "commit": commit,
        "date": now.isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "settings": {
            "gunicorn": GUNICORN,
            "duration_s": args.duration,
            "sizes": args.sizes,
            "load_generator": "wrk" if shutil.which("wrk") else "python",
            "read_connections": READ_CONNECTIONS,
        },
        "skipped": skipped,
        "loads": loads,
        "results": [asdict(row) for row in rows],
    }
    path.write_text(json.dumps(document, indent=2))
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
