"""Reconcile benchmark: what reading back N users costs each readable vendor (issue 23).

Issue 23: "A reconcile of 10,000 users against an emulator that enforces the vendor's
documented rate limits finishes within those limits: the vendor calls it makes are at
most the listing pages plus the corrections".

For each vendor that can be read back, N users (10,000 by default) are created with one
SCIM Bulk request and delivered to the vendor's emulator as ``bench_delivery.py`` does
(setup, not measured). Then the vendor's admin makes K of them drift (``--drift``, 1 %
by default) in one field the mapping manages, and adds ``ORPHANS`` accounts of its own:

- acc: ``companyId`` set to a company no SCIM group grants (ACC's ``ProjectUser``; the
  mapping sends the default company);
- aria: ``firstName`` renamed;
- rocketchat: ``name`` renamed;
- cloudshell: ``IsActive`` false ("Edit user"). The IdP still has the user active, so
  the finding is ``differs`` on ``active``, not ``active_but_deprovisioned`` (the kind of
  an account left active for a user the IdP deactivated).

Confide documents no read endpoint (``read_back: none``): it is named and skipped.

Measured, each through the bridge's own code (``plan_target``, ``apply_plan``, the worker):

1. the plan: read every account, compare; its wall time, and its vendor calls by route,
   checked to be exactly the listing's pages at the client's page size (token calls
   shown apart), and its findings checked to be exactly K ``differs`` and the orphans;
2. the corrections: ``apply_plan`` then the worker until nothing is pending; their calls
   by route and per correction, and their wall time;
3. a second plan, checked to find no user out of step (the orphans stay: reconcile
   leaves them unless told to disable them).

With ``--limits`` the emulators enforce the documented limits (Rocket.Chat 10 calls per
route, ACC 100 writes and 600 reads, per window) with every window divided by ``--scale``,
and the clients keep the same (``bench_delivery.limited_setup``). Beside each measured
time: the least time those limits allow for the calls made (per limited count,
ceil(calls / limit) - 1 windows), and that least time at the real, unscaled windows.
Rocket.Chat's users are delivered while the bridge's account holds
``api-bypass-rate-limit`` (10,000 users at 10 calls per route would take hours of
setup); the admin takes the permission away before the reconcile.

    python bench/bench_reconcile.py [--vendor VENDOR] [--drift 1] [N]
    python bench/bench_reconcile.py --limits [--scale 10] [--vendor VENDOR] [N]
"""

from __future__ import annotations

import argparse
import logging
import math
import resource
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml
from bench_delivery import VENDORS, Run, Setup, limited_setup, target_document, throughput_setup

from scimbridge.app import Bridge
from scimbridge.config import parse_config
from scimbridge.delivery.worker import Worker
from scimbridge.reconcile.apply import apply_plan
from scimbridge.reconcile.plan import Kind, Plan
from scimbridge.reconcile.run import plan_target
from scimbridge.vendors import acc, client_for, cloudshell, rocketchat, vendor_plugin

ORPHANS = 3
"""Accounts the vendor's admin makes by hand, which no user of the bridge holds."""
OTHER_COMPANY = "7a1e0c2b-5d4f-4e8a-9c61-3b2f1d0e9a47"
"""An ACC company no SCIM group of the mapping grants (acc.yaml sends its default)."""
PAGE_SIZES: dict[str, int | None] = {
    "acc": acc.PAGE,
    "aria": None,
    "rocketchat": rocketchat.PAGE,
    "cloudshell": cloudshell.PAGE_LIMIT,
}
"""Accounts a listing page holds, as each client asks for them; None: one unpaged answer
(Aria's ``getUsers`` documents no paging)."""
TOKEN_ROUTES = ("/authentication/v2/token", "/api/auth/token/", "/auth/login")
"""The emulators' token routes (ACC, Aria, CloudShell's two spellings), by substring of the
route, any case: calls that are neither listing pages nor corrections."""


@dataclass(frozen=True)
class Drift:
    """How one vendor's admin makes a user's account drift, and makes an orphan."""

    field: str
    change: Callable[[int], dict[str, Any]]
    """The admin's change to the account of user ``n`` (``bench_delivery.scim_user(n)``)."""
    orphan: Callable[[int], dict[str, Any]]
    """The fields of the ``i``-th account the admin makes by hand."""
    by_user_name: bool = False
    """The account is named by the local part of the user's email, not by the email."""

    def account(self, n: int) -> str:
        return f"user{n:05d}" if self.by_user_name else f"user{n:05d}@example.com"


DRIFTS = {
    "acc": Drift(
        "companyId",
        lambda n: {"companyId": OTHER_COMPANY},
        lambda i: {
            "email": f"orphan{i}@elsewhere.example",
            "products": [{"key": "docs", "access": "member"}],
            "status": "active",
        },
    ),
    "aria": Drift(
        "firstName",
        lambda n: {"firstName": f"Renamed{n}"},
        lambda i: {"username": f"orphan{i}", "firstName": "Hand", "lastName": "Made"},
    ),
    "rocketchat": Drift(
        "name",
        lambda n: {"name": f"Renamed {n}"},
        lambda i: {
            "name": f"Hand Made {i}",
            "username": f"orphan{i}",
            "emails": [{"address": f"orphan{i}@elsewhere.example", "verified": True}],
        },
    ),
    "cloudshell": Drift(
        "active",
        lambda n: {"IsActive": False},
        lambda i: {"Username": f"orphan{i}", "IsActive": True},
        by_user_name=True,
    ),
}


@dataclass
class Phase:
    """What one measured step cost at the vendor."""

    seconds: float = 0.0
    calls: Counter[str] = field(default_factory=Counter)
    """Calls by route (``METHOD /rule``), throttled ones included."""
    throttled: int = 0
    """Calls the emulator answered 429."""
    least: float = 0.0
    """The least time the scaled limits allow for these calls (0: no limit reached)."""

    def tokens(self) -> int:
        return sum(n for route, n in self.calls.items() if is_token(route))

    def vendor_calls(self) -> int:
        """Every call but the token calls."""
        return sum(self.calls.values()) - self.tokens()


def is_token(route: str) -> bool:
    return any(part in route.lower() for part in TOKEN_ROUTES)


@contextmanager
def measured(run: Run) -> Iterator[Phase]:
    """The wall time and the emulator's calls of the ``with`` block."""
    phase = Phase()
    since = len(run.emulator.requests())
    before = Counter(run.emulator.request_counts())
    started = time.perf_counter()
    yield phase
    phase.seconds = time.perf_counter() - started
    phase.calls = Counter(run.emulator.request_counts()) - before
    phase.throttled = sum(
        1 for logged in run.emulator.requests()[since:] if logged["status"] == 429
    )
    phase.least = run.least_seconds(since)


class Reconciler:
    """A bridge on the run's database whose one target has the measured setup: the plan's
    client and the worker that delivers the corrections are paced as that setup says."""

    def __init__(self, run: Run, setup: Setup):
        document = {
            "database": run.bridge.config.database,
            "targets": [target_document(run.vendor, run.emulator, setup)],
        }
        self.bridge = Bridge(parse_config(yaml.safe_dump(document)))
        [self.target] = self.bridge.config.targets
        self.worker = Worker(self.bridge.config, self.bridge.database, self.bridge.mappings)

    def plan(self) -> Plan:
        client = client_for(self.target)
        try:
            return plan_target(
                self.bridge.database,
                self.target,
                client,
                self.bridge.mappings[self.target.name],
                self.bridge.directories[self.target.name],
            )
        finally:
            client.close()

    def apply(self, plan: Plan) -> int:
        """Queue the plan's corrections; how many were queued."""
        directory = self.bridge.directories[self.target.name]
        applied = apply_plan(self.bridge.database, self.target, plan, directory)
        if applied.already_queued:
            raise SystemExit(
                f"{self.target.name}: {applied.already_queued} user(s) had a delivery on its way"
            )
        return sum(applied.queued.values())

    def deliver(self, run: Run) -> None:
        """Run the worker until nothing is pending (``Run.deliver`` would also copy every
        account of the emulator each round, inside the measured time)."""
        while run.pending():
            if not self.worker.run_once():
                time.sleep(0.05)

    def stop(self) -> None:
        for client in self.worker.clients.values():
            client.close()
        self.bridge.database.dispose()


def setups(vendor: str, limits: bool, scale: float) -> tuple[Setup, Setup]:
    """The setup the users are delivered under, and the one the reconcile is measured under."""
    reconcile = limited_setup(vendor, scale) if limits else throughput_setup(vendor)
    if not limits or vendor != "rocketchat":
        return reconcile, reconcile
    bypassing = {**reconcile.emulator, "bypass_rate_limit": True}
    return replace(throughput_setup(vendor), emulator=bypassing, limits=reconcile.limits), reconcile


def wait_out_setup(setup: Setup) -> None:
    """Let the longest window of the limits pass, so that the measured calls find the
    vendor's counts as the setup's calls leave them: empty (ACC's 600 reads a minute would
    otherwise still hold the setup's listings)."""
    time.sleep(max((limit.seconds for limit in setup.limits), default=0.0))


def make_drift(run: Run, drift: Drift, drifted: int) -> None:
    """Change ``drifted`` users' accounts, spread evenly over the N, and add the orphans."""
    step = run.users // drifted
    for n in range(0, drifted * step, step):
        run.emulator.admin_change(drift.account(n), **drift.change(n))
    for i in range(ORPHANS):
        run.emulator.admin_create(**drift.orphan(i))


def expected_pages(vendor: str, accounts: int) -> int:
    size = PAGE_SIZES[vendor]
    return 1 if size is None else max(1, math.ceil(accounts / size))


def check_findings(plan: Plan, users: int, drifted: int) -> None:
    """Exactly the drift made: K ``differs``, the orphans, every other user in step.

    :raises SystemExit: naming the counts found, otherwise.
    """
    counts = plan.counts()
    wanted = {kind.value: 0 for kind in Kind}
    wanted.update(
        {
            Kind.IN_STEP.value: users - drifted,
            Kind.DIFFERS.value: drifted,
            Kind.ORPHAN.value: ORPHANS,
            Kind.EXCLUDED.value: counts[Kind.EXCLUDED.value],
        }
    )
    if counts != wanted:
        raise SystemExit(f"{plan.vendor}: the plan found {counts}, not {wanted}")


def check_listing(vendor: str, plan: Plan, phase: Phase) -> int:
    """The plan made the listing's pages and nothing else but token calls; the pages.

    :raises SystemExit: otherwise.
    """
    pages = expected_pages(vendor, plan.accounts_read)
    if phase.vendor_calls() != pages or len([r for r in phase.calls if not is_token(r)]) != 1:
        raise SystemExit(f"{vendor}: the plan made {dict(phase.calls)}, not {pages} pages")
    return pages


def correction_calls(vendor: str, corrections: int, pages: int) -> int:
    """The vendor calls (token calls aside) the corrections take, as each client's module
    docstring says it corrects a user the vendor holds: ACC lists the members (the whole
    listing when it takes fewer pages than there are emails, else one ``filter[email]`` GET
    each) and PATCHes each one; Aria reads a batch's users with one GET and re-imports them
    with one POST; Rocket.Chat looks each user up (``users.info``) and updates it
    (``users.update``); CloudShell re-imports each user with ``AllowUpdate`` and sets it
    active (``PUT /api/v1/users/{id}``)."""
    size = vendor_plugin(vendor).client.max_batch
    batches = [min(size, corrections - start) for start in range(0, corrections, size)]
    if vendor == "acc":
        return sum(min(pages, batch) + batch for batch in batches)
    if vendor == "aria":
        return 2 * len(batches)
    return 2 * corrections


def check_corrections(row: Row) -> None:
    """The corrections made no more calls than :func:`correction_calls` (the calls answered
    429 aside, which a paced client makes only when another client spent the window).

    :raises SystemExit: otherwise.
    """
    expected = correction_calls(row.vendor, row.corrections, row.pages)
    made = row.apply.vendor_calls() - row.apply.throttled
    if made > expected:
        raise SystemExit(f"{row.vendor}: the corrections made {made} calls, not {expected}")


def check_in_step(plan: Plan) -> None:
    """:raises SystemExit: a user still out of step, or an orphan come or gone."""
    users = [finding for finding in plan.findings if finding.user is not None]
    if any(finding.drift for finding in users) or len(plan.of(Kind.ORPHAN)) != ORPHANS:
        raise SystemExit(f"{plan.vendor}: after the corrections the plan found {plan.counts()}")


@dataclass
class Row:
    vendor: str
    users: int
    accounts: int
    pages: int
    plan: Phase
    corrections: int
    apply: Phase
    drifted_field: str


def reconcile(
    vendor: str, users: int, drift_percent: float, directory: Path, limits: bool, scale: float
) -> Row:
    """One vendor's run: setup, drift, then the measured plan, corrections and re-plan."""
    delivery, measured_setup = setups(vendor, limits, scale)
    run = Run(vendor, users, directory, delivery)
    reconciler: Reconciler | None = None
    try:
        run.create()
        run.deliver()
        drifted = max(1, round(users * drift_percent / 100))
        make_drift(run, DRIFTS[vendor], drifted)
        if delivery is not measured_setup:
            # The admin takes api-bypass-rate-limit from the bridge's account (setups()).
            run.emulator.emulator.bypass_rate_limit = False
        reconciler = Reconciler(run, measured_setup)
        wait_out_setup(measured_setup)
        with measured(run) as plan_phase:
            plan = reconciler.plan()
        check_findings(plan, users, drifted)
        pages = check_listing(vendor, plan, plan_phase)
        with measured(run) as apply_phase:
            corrections = reconciler.apply(plan)
            reconciler.deliver(run)
        check_in_step(reconciler.plan())
        row = Row(
            vendor,
            users,
            plan.accounts_read,
            pages,
            plan_phase,
            corrections,
            apply_phase,
            DRIFTS[vendor].field,
        )
        check_corrections(row)
        return row
    finally:
        if reconciler is not None:
            reconciler.stop()
        run.stop()


def show(row: Row, limits: bool, scale: float) -> None:
    """The table's row, then each phase's calls by route and, with limits, its least time."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    plan, apply = row.plan, row.apply
    print(
        f"{row.vendor:<11} {row.users:>6} {row.accounts:>6} {row.pages:>5} "
        f"{plan.vendor_calls():>6}+{plan.tokens():<3} {plan.seconds:>7.1f} "
        f"{plan.seconds * 1000 / row.users:>7.2f} {row.corrections:>11} "
        f"{apply.vendor_calls():>7}+{apply.tokens():<3} {apply.seconds:>15.1f} {peak:>8.0f}"
    )
    expected = correction_calls(row.vendor, row.corrections, row.pages)
    per = apply.vendor_calls() / row.corrections
    print(f"  drift: {row.corrections} accounts' {row.drifted_field} changed by the admin")
    for name, phase in (("plan", plan), ("corrections", apply)):
        routes = ", ".join(f"{route} {n}" for route, n in sorted(phase.calls.items()))
        print(f"  {name}: {routes}")
        if limits:
            implied = phase.seconds + phase.least * (scale - 1)
            print(
                f"    {phase.seconds:.1f} s measured; the scaled limits allow no less than "
                f"{phase.least:.1f} s; {phase.throttled} call(s) answered 429; at the real "
                f"limits: least {phase.least * scale:.0f} s, implied {implied:.0f} s"
            )
    print(f"  corrections: {per:.2f} calls each, {expected} expected in all (token calls aside)")


def header(users: int, drift_percent: float, limits: bool, scale: float) -> None:
    print(
        f"{users} users per vendor, {drift_percent:g} % changed by the vendor's admin, "
        f"{ORPHANS} orphans"
    )
    if limits:
        print(
            f"documented rate limits enforced, every window divided by {scale:g} "
            f"(Rocket.Chat 10 calls per route per {60 / scale:g} s; ACC 100 writes and 600 "
            f"reads per {60 / scale:g} s)"
        )
    else:
        print(
            "emulator limits: Rocket.Chat's account holds api-bypass-rate-limit; ACC keeps "
            "its 100 writes and 600 reads a minute; the others have none"
        )
    print(
        f"{'vendor':<11} {'users':>6} {'read':>6} {'pages':>5} {'plan calls':>10} "
        f"{'plan s':>7} {'s/1000':>7} {'corrections':>11} {'corr. calls':>11} "
        f"{'apply+deliver s':>15} {'peak RSS':>8}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("users", nargs="?", type=int, default=10_000)
    parser.add_argument("--drift", type=float, default=1.0, help="percent of users changed")
    parser.add_argument("--limits", action="store_true", help="enforce the documented limits")
    parser.add_argument("--scale", type=float, default=10.0, help="divide every window by this")
    parser.add_argument("--vendor", choices=VENDORS, help="this vendor only")
    arguments = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    header(arguments.users, arguments.drift, arguments.limits, arguments.scale)
    with tempfile.TemporaryDirectory() as directory:
        for vendor in [arguments.vendor] if arguments.vendor else VENDORS:
            if vendor_plugin(vendor).client.read_back != "list":
                print(f"{vendor:<11} not readable: re-send only")
                continue
            row = reconcile(
                vendor,
                arguments.users,
                arguments.drift,
                Path(directory),
                arguments.limits,
                arguments.scale,
            )
            show(row, arguments.limits, arguments.scale)
    print(
        "plan calls, corr. calls: vendor calls + token calls; peak RSS: MiB, the process's so far"
    )


if __name__ == "__main__":
    main()
