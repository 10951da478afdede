"""What the delivery looks like from outside: counts, the outbox listing, retries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import case, func, select, update
from sqlalchemy.orm import Session

from scimbridge.store import utc
from scimbridge.store.delivery_tables import links, outbox

UNAVAILABLE = "unavailable"
FAILED = "failed"
"""The two kinds of ``outbox.error_kind``: the vendor was unavailable (not counted), or
the user failed (counted toward ``delivery.max_attempts``); see ``delivery.settling``."""

VISIBLE_STATES = ("pending", "held", "failed")
"""The states of entries still open: waiting, held for a paused user, or parked."""
STATES = (*VISIBLE_STATES, "delivered", "superseded")


def delivery_counts(session: Session) -> dict[str, dict[str, int]]:
    """Outbox entries per target and state, of the states still open (``/healthz``)."""
    rows = session.execute(
        select(outbox.c.target, outbox.c.state, func.count())
        .where(outbox.c.state.in_(VISIBLE_STATES))
        .group_by(outbox.c.target, outbox.c.state)
    )
    counts: dict[str, dict[str, int]] = {}
    for target, state, count in rows:
        counts.setdefault(target, {})[state] = count
    return counts


@dataclass(frozen=True)
class TargetHealth:
    """How a target's delivery is doing, as ``/healthz`` and ``/metrics`` show it."""

    degraded: bool
    """Entries are waiting on the vendor: its last answer to them was an outage or a 429."""
    oldest_pending_seconds: float
    """The age of the oldest entry not delivered yet (0 when none): how far behind it is."""


def target_health(session: Session, now: datetime) -> dict[str, TargetHealth]:
    """The health of every target with pending entries (the others are healthy and idle)."""
    rows = session.execute(
        select(
            outbox.c.target,
            func.min(outbox.c.created_at),
            func.max(case((outbox.c.error_kind == UNAVAILABLE, 1), else_=0)),
        )
        .where(outbox.c.state == "pending")
        .group_by(outbox.c.target)
    )
    return {
        target: TargetHealth(
            degraded=bool(waiting), oldest_pending_seconds=(now - utc(oldest)).total_seconds()
        )
        for target, oldest, waiting in rows
    }


def list_entries(
    session: Session, target: str | None = None, states: tuple[str, ...] = VISIBLE_STATES
) -> list[dict[str, Any]]:
    query = (
        select(
            outbox.c.seq,
            outbox.c.target,
            outbox.c.state,
            outbox.c.event,
            outbox.c.attempts,
            outbox.c.failures,
            outbox.c.next_attempt_at,
            outbox.c.last_error,
            outbox.c.error_kind,
            outbox.c.vendor_ref,
            links.c.scim_id,
            links.c.user_name,
            links.c.vendor_id,
        )
        .join(links, links.c.id == outbox.c.link_id)
        .where(outbox.c.state.in_(states))
        .order_by(outbox.c.seq)
    )
    if target:
        query = query.where(outbox.c.target == target)
    return [dict(row._mapping) for row in session.execute(query)]


def retry_failed(session: Session, target: str | None = None, seqs: list[int] | None = None) -> int:
    """Put parked entries back in the queue, due now, with a fresh attempt budget."""
    statement = update(outbox).where(outbox.c.state == "failed")
    if target:
        statement = statement.where(outbox.c.target == target)
    if seqs:
        statement = statement.where(outbox.c.seq.in_(seqs))
    result = session.execute(
        statement.values(
            state="pending",
            attempts=0,
            failures=0,
            failing_since=None,
            next_attempt_at=datetime.now(UTC),
            done_at=None,
        )
    )
    return result.rowcount
