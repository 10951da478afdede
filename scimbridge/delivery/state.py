"""What the delivery looks like from outside: counts, the outbox listing, retries."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from scimbridge.store.delivery_tables import links, outbox

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
            outbox.c.next_attempt_at,
            outbox.c.last_error,
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
            state="pending", attempts=0, next_attempt_at=datetime.now(UTC), done_at=None
        )
    )
    return result.rowcount
