"""The scheduled drift check: the plan, made by the worker between deliveries, and kept.

Every ``reconcile.interval_seconds`` a worker reads the target's accounts a few pages a
round (``reconcile.pages_per_round``), each page stored (``drift_accounts``) with the
cursor of the next in one transaction, so that a check interrupted by an outage or a
restart resumes at its page. Once the listing is read the plan is made and its counts and
findings kept in ``drift_checks``, with the time the check completed: what ``status``, the
Status endpoint and ``scimbridge_drift_accounts`` show. The check only reports.

One worker reads a target at a time: the check is claimed with a lease, as outbox entries
are, renewed while the vendor answers.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, select, update

from scimbridge.config import Target
from scimbridge.delivery.wanted import Directory, bridge_users
from scimbridge.mapping import Mapping
from scimbridge.reconcile.plan import Kind, Plan, make_plan, reserved_keys
from scimbridge.reconcile.reading import read_accounts
from scimbridge.store import Database, utc
from scimbridge.store.delivery_tables import drift_accounts, drift_checks
from scimbridge.store.rows import insert_or_skip
from scimbridge.vendors.base import (
    AccountPage,
    Interrupted,
    VendorAccount,
    VendorClient,
    VendorUnavailable,
    honoured_wait,
)

log = logging.getLogger("scimbridge.reconcile")

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class DriftState:
    """A target's last complete check, as ``status`` shows it."""

    target: str
    completed_at: datetime | None
    counts: dict[str, int]
    under_way: bool

    def drifting(self) -> int:
        """Users and accounts found drifting (an inactive orphan is none)."""
        return sum(self.counts.get(kind, 0) for kind in DRIFT_COUNTED)


DRIFT_COUNTED = (
    Kind.DIFFERS.value,
    Kind.MISSING.value,
    Kind.ACTIVE_BUT_DEPROVISIONED.value,
    Kind.DUPLICATED.value,
    Kind.UNMAPPABLE.value,
    "orphan_active",
)


def drift_states(database: Database, targets: list[str]) -> dict[str, DriftState]:
    """Each target's last complete check (none yet: no counts, no time)."""
    with database.transaction(writing=False) as session:
        rows = {row.target: row for row in session.execute(select(drift_checks))}
    states = {}
    for name in targets:
        row = rows.get(name)
        completed = row.completed_at if row is not None else None
        states[name] = DriftState(
            target=name,
            completed_at=utc(completed) if completed else None,
            counts=dict(row.counts or {}) if row is not None else {},
            under_way=row is not None and under_way(row),
        )
    return states


def under_way(row: Any) -> bool:
    """Whether a ``drift_checks`` row has a check started and not completed since."""
    started, completed = row.started_at, row.completed_at
    return started is not None and (completed is None or utc(completed) < utc(started))


class CheckLease:
    """The worker's claim on a target's check (:class:`~scimbridge.vendors.base.BatchLease`)."""

    def __init__(self, check: DriftCheck, stopping: Callable[[], bool]):
        self.check = check
        self.stopping = stopping
        self.renewed = time.monotonic()

    def keep_alive(self) -> None:
        if self.stopping():
            raise Interrupted("the worker is stopping")
        self.renew()

    def renew(self) -> None:
        """Extend the claim once a third of the lease has passed (a write, not one a call)."""
        if time.monotonic() - self.renewed < self.check.lease.total_seconds() / 3:
            return
        if not self.check.renew():
            raise Interrupted("the drift check was taken over by another worker")
        self.renewed = time.monotonic()


class DriftCheck:
    """One target's scheduled check, driven by a worker's rounds (:meth:`step`)."""

    def __init__(
        self,
        database: Database,
        target: Target,
        mapping: Mapping,
        directory: Directory,
        clock: Clock,
        worker: str,
    ):
        self.database = database
        self.target = target
        self.mapping = mapping
        self.directory = directory
        self.clock = clock
        self.worker = worker

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.target.delivery.lease_seconds)

    def step(self, client: VendorClient, stopping: Callable[[], bool] = lambda: False) -> bool:
        """Go on with the check when one is due: read a few pages, or make the plan once
        the listing is read. False when nothing was due (or another worker has it).

        :raises Interrupted: the worker is stopping; the check resumes later.
        """
        row = self._claim()
        if row is None:
            return False
        try:
            with client.holding(CheckLease(self, stopping)):
                done = self._read(client, row.cursor)
            if done:
                self._complete(client, utc(row.started_at))
            else:
                self._release()
        except VendorUnavailable as unavailable:
            self._pause(unavailable)
        except Exception:  # Interrupted included: the check resumes at a later round
            self._release()
            raise
        return True

    def _claim(self) -> Any:
        """The check's row, claimed, with a check started when one is due; None when
        nothing is due or another worker holds it."""
        now = self.clock()
        interval = self.target.reconcile.interval_seconds
        if interval is None:
            return None
        with self.database.transaction() as session:
            session.execute(
                insert_or_skip(session)(drift_checks)
                .values(target=self.target.name)
                .on_conflict_do_nothing()
            )
            claimed = session.execute(
                update(drift_checks)
                .where(
                    drift_checks.c.target == self.target.name,
                    or_(drift_checks.c.claimed_until.is_(None), drift_checks.c.claimed_until < now),
                )
                .values(claimed_by=self.worker, claimed_until=now + self.lease)
            )
            if claimed.rowcount != 1:  # type: ignore[attr-defined]
                return None
            row = session.execute(
                select(drift_checks).where(drift_checks.c.target == self.target.name)
            ).one()
            if not under_way(row):
                started = row.started_at
                due = started is None or (now - utc(started)).total_seconds() >= interval
                if not due:
                    session.execute(
                        update(drift_checks)
                        .where(drift_checks.c.target == self.target.name)
                        .values(claimed_by=None, claimed_until=None)
                    )
                    return None
                session.execute(
                    delete(drift_accounts).where(drift_accounts.c.target == self.target.name)
                )
                session.execute(
                    update(drift_checks)
                    .where(drift_checks.c.target == self.target.name)
                    .values(started_at=now, cursor=None, last_error=None)
                )
                row = session.execute(
                    select(drift_checks).where(drift_checks.c.target == self.target.name)
                ).one()
            return row

    def _read(self, client: VendorClient, cursor: str | None) -> bool:
        """Read up to ``pages_per_round`` pages from ``cursor``; True once the listing is read
        (at once for a client that does not list)."""
        if client.read_back != "list":
            return True
        for _ in range(self.target.reconcile.pages_per_round):
            page = client.accounts(cursor)
            self._store(page)
            if page.next_cursor is None:
                return True
            cursor = page.next_cursor
        return False

    def _store(self, page: AccountPage) -> None:
        """The page's accounts and the cursor of the next, in one transaction; the last
        page leaves the cursor as it was (the check is done once it is planned)."""
        with self.database.transaction() as session:
            rows = [
                {
                    "target": self.target.name,
                    "vendor_id": account.vendor_id,
                    "record": account.record,
                    "active": account.active,
                }
                for account in page.accounts
            ]
            if rows:
                session.execute(
                    insert_or_skip(session)(drift_accounts).on_conflict_do_nothing(), rows
                )
            if page.next_cursor is not None:
                session.execute(
                    update(drift_checks)
                    .where(drift_checks.c.target == self.target.name)
                    .values(cursor=page.next_cursor)
                )

    def _complete(self, client: VendorClient, started: datetime) -> None:
        users = list(bridge_users(self.database, self.target, self.directory))
        if client.read_back == "list":
            accounts = self._stored_accounts()
        else:
            accounts = read_accounts(self.target, client, self.mapping, users)
        plan = make_plan(
            self.target,
            client,
            self.mapping,
            users,
            accounts,
            reserved_keys(self.database, self.target),
            since=started,
        )
        counts = counts_of(plan)
        with self.database.transaction() as session:
            session.execute(
                update(drift_checks)
                .where(drift_checks.c.target == self.target.name)
                .values(
                    completed_at=self.clock(),
                    counts=counts,
                    findings=[f.as_json() for f in plan.findings if f.kind is not Kind.IN_STEP],
                    cursor=None,
                    claimed_by=None,
                    claimed_until=None,
                    last_error=None,
                )
            )
            session.execute(
                delete(drift_accounts).where(drift_accounts.c.target == self.target.name)
            )
        log.info(
            "%s: drift check complete: %s",
            self.target.name,
            ", ".join(f"{kind} {count}" for kind, count in counts.items() if count) or "nothing",
        )

    def _stored_accounts(self) -> list[VendorAccount]:
        with self.database.transaction(writing=False) as session:
            rows = session.execute(
                select(drift_accounts).where(drift_accounts.c.target == self.target.name)
            )
            return [VendorAccount(row.vendor_id, row.record, row.active) for row in rows]

    def _pause(self, unavailable: VendorUnavailable) -> None:
        """The vendor cannot answer now: the check waits (the wait it names, else the
        target's backoff) and then resumes at the page it stopped at."""
        policy = self.target.delivery
        wait = honoured_wait(unavailable.retry_after or policy.backoff_seconds, policy)
        log.warning(
            "%s: drift check paused (%s); resuming in %.0f s", self.target.name, unavailable, wait
        )
        with self.database.transaction() as session:
            session.execute(
                update(drift_checks)
                .where(drift_checks.c.target == self.target.name)
                .values(
                    claimed_by=None,
                    claimed_until=self.clock() + timedelta(seconds=wait),
                    last_error=str(unavailable),
                )
            )

    def _release(self) -> None:
        with self.database.transaction() as session:
            session.execute(
                update(drift_checks)
                .where(
                    drift_checks.c.target == self.target.name,
                    drift_checks.c.claimed_by == self.worker,
                )
                .values(claimed_by=None, claimed_until=None)
            )

    def renew(self) -> bool:
        """Extend the claim; False when another worker holds the check now."""
        with self.database.transaction() as session:
            renewed = session.execute(
                update(drift_checks)
                .where(
                    drift_checks.c.target == self.target.name,
                    drift_checks.c.claimed_by == self.worker,
                )
                .values(claimed_until=self.clock() + self.lease)
            )
            return bool(renewed.rowcount == 1)  # type: ignore[attr-defined]


def counts_of(plan: Plan) -> dict[str, int]:
    """The plan's counts, with the active orphans apart (``orphan_active``): the metric's kinds."""
    counts = plan.counts()
    counts["orphan_active"] = sum(1 for f in plan.of(Kind.ORPHAN) if f.active)
    return counts
