"""Whether the bridge can serve (readiness), and how each target's delivery is doing (status).

Liveness (``/healthz``) asks nothing of the database: a restart would not cure a database
outage, so an orchestrator must not restart the bridge for one. Readiness (``/readyz``)
is what a load balancer asks before it sends SCIM requests: the database answers, its
schema is the one this release expects, and every target's mapping is loaded. Its
answers name what is wrong in words an operator can act on, never a secret or a path.

A target's delivery status (``scimbridge status``, ``GET /scim/v2/<target>/Status``) is
read from the database, so it is true whichever process delivers.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from scimbridge.config import Target
from scimbridge.delivery.state import (
    CREDENTIALS_REFUSED,
    VISIBLE_STATES,
    delivery_counts,
    target_health,
)
from scimbridge.reconcile.checks import DriftState, drift_states
from scimbridge.store import Database
from scimbridge.store.database import MIGRATIONS

log = logging.getLogger("scimbridge.health")

OK = "ok"


@cache
def migration_heads() -> frozenset[str]:
    """The schema revisions this release expects (read once: they ship with the code)."""
    return frozenset(ScriptDirectory(str(MIGRATIONS)).get_heads())


@dataclass(frozen=True)
class Readiness:
    """Each check's verdict: ``ok``, or what is wrong."""

    checks: dict[str, str] = field(default_factory=dict)
    targets: dict[str, str] = field(default_factory=dict)
    """Per target in a state an operator must act on (``credentials refused``), that state.
    The bridge stays ready: it accepts the IdP's writes, which wait for delivery."""

    @property
    def ready(self) -> bool:
        return all(verdict == OK for verdict in self.checks.values())


def readiness(database: Database, targets: Iterable[Target], mappings: Iterable[str]) -> Readiness:
    """Check the database answers, its migrations are at head, and every mapping is loaded;
    name the targets whose vendor refuses the bridge's credentials.

    :param mappings: the names of the targets whose mapping is loaded.
    """
    checks: dict[str, str] = {}
    states: dict[str, str] = {}
    try:
        with database.transaction(writing=False) as session:
            session.execute(text("SELECT 1"))
            checks["database"] = OK
            current = frozenset(
                MigrationContext.configure(session.connection()).get_current_heads()
            )
            if current == migration_heads():
                health = target_health(session, database.now())
                states = {
                    name: CREDENTIALS_REFUSED
                    for name, state in sorted(health.items())
                    if state.credentials_refused is not None
                }
    except SQLAlchemyError as error:
        log.warning("readiness: the database does not answer: %s", type(error).__name__)
        checks["database"] = f"does not answer ({type(error).__name__})"
        checks["migrations"] = "unknown: the database does not answer"
    else:
        checks["migrations"] = _migrations_verdict(current)
    loaded = set(mappings)
    missing = sorted(target.name for target in targets if target.name not in loaded)
    checks["mappings"] = OK if not missing else f"not loaded for {', '.join(missing)}"
    return Readiness(checks, states)


def _migrations_verdict(current: frozenset[str]) -> str:
    heads = migration_heads()
    if current == heads:
        return OK
    at = ", ".join(sorted(current)) or "no revision (an empty database)"
    return (
        f"not at head: the database is at {at}, this release needs {', '.join(sorted(heads))} "
        "(a bridge applies its migrations when it starts)"
    )


@dataclass(frozen=True)
class TargetStatus:
    """How one target's delivery is doing (what ``/healthz`` used to show for all of them)."""

    target: str
    vendor: str
    outbox: dict[str, int]
    """Entries waiting (pending), held for a paused user (held) and parked (failed)."""
    oldest_pending_seconds: float
    """The age of the oldest entry not delivered yet (0 when none): how far behind it is."""
    degraded: bool
    """Entries wait on the vendor: its last answer to them was an outage or a 429."""
    credentials_refused: str | None = None
    """While the vendor refuses the bridge's credentials: its refusal; None otherwise."""
    refused_since: datetime | None = None
    """Since when it refuses them."""
    mapping_changes: int = 0
    """Delivered users whose record the current mapping would change
    (:mod:`~scimbridge.delivery.redelivery`): not yet redelivered since the mapping changed."""
    drift: DriftState | None = None
    """The last complete scheduled drift check (:mod:`~scimbridge.reconcile.checks`); None
    for a target that has none."""

    def as_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "vendor": self.vendor,
            "status": self.state,
            "credentials_refused_since": (
                self.refused_since.isoformat() if self.refused_since else None
            ),
            "outbox": self.outbox,
            "oldest_pending_seconds": round(self.oldest_pending_seconds, 1),
            "mapping_changes": self.mapping_changes,
            "drift": self._drift_json(),
        }

    @property
    def state(self) -> str:
        """``credentials refused``, ``degraded`` or ``ok``: the first that holds."""
        if self.credentials_refused is not None:
            return CREDENTIALS_REFUSED
        return "degraded" if self.degraded else OK

    def _drift_json(self) -> dict[str, Any] | None:
        if self.drift is None:
            return None
        completed = self.drift.completed_at
        return {
            "checked_at": completed.isoformat() if completed else None,
            "drifting": self.drift.drifting(),
            "counts": self.drift.counts,
            "under_way": self.drift.under_way,
        }


def delivery_status(
    database: Database,
    targets: Iterable[Target],
    mapping_changes: Mapping[str, int] | None = None,
) -> list[TargetStatus]:
    """Each target's delivery status, from the database.

    :param mapping_changes: per target, how many delivered users the current mapping would
        change (:class:`~scimbridge.delivery.redelivery.ChangeCounts`); 0 for one left out.
    """
    targets = list(targets)
    with database.transaction(writing=False) as session:
        counts = delivery_counts(session)
        health = target_health(session, database.now())
    checks = drift_states(database, [target.name for target in targets])
    statuses = []
    for target in targets:
        state = health.get(target.name)
        statuses.append(
            TargetStatus(
                target=target.name,
                vendor=target.vendor,
                outbox={name: counts.get(target.name, {}).get(name, 0) for name in VISIBLE_STATES},
                oldest_pending_seconds=state.oldest_pending_seconds if state else 0.0,
                degraded=state.degraded if state else False,
                credentials_refused=state.credentials_refused if state else None,
                refused_since=state.refused_since if state else None,
                mapping_changes=(mapping_changes or {}).get(target.name, 0),
                drift=_checked(target, checks[target.name]),
            )
        )
    return statuses


def _checked(target: Target, state: DriftState) -> DriftState | None:
    """The target's drift check as ``status`` shows it: none unless scheduled or ever run."""
    scheduled = target.reconcile.interval_seconds is not None
    return state if scheduled or state.completed_at is not None else None
