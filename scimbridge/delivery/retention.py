"""Dropping the personal data the outbox no longer needs (``delivery.retention_seconds``).

Every outbox entry holds a snapshot of its user, which it needs until it is
delivered or superseded, and never after: past the retention period the snapshot
goes and the entry keeps only its bookkeeping (states, times, vendor reference).
A former user's tombstone keeps what re-provisioning needs to find the same
vendor account (externalId, userName, the vendor id) and loses the record last
sent and its last error, once nothing of the user is still open.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, null, select, update
from sqlalchemy.orm import Session

from scimbridge.config import Target
from scimbridge.delivery.state import VISIBLE_STATES
from scimbridge.store.delivery_tables import links, outbox

FINISHED_STATES = ("delivered", "superseded")


@dataclass(frozen=True)
class Purged:
    entries: int
    """Outbox entries whose user snapshot was dropped."""
    tombstones: int
    """Links of deleted users reduced to what re-provisioning needs."""


def purge(
    session: Session, target: Target, now: datetime, older_than: float | None = None
) -> Purged:
    """Drop the snapshots of ``target`` finished more than ``older_than`` seconds ago
    (default: the target's ``delivery.retention_seconds``)."""
    seconds = target.delivery.retention_seconds if older_than is None else older_than
    before = now - timedelta(seconds=seconds)
    purged = session.execute(
        update(outbox)
        .where(
            outbox.c.target == target.name,
            outbox.c.state.in_(FINISHED_STATES),
            outbox.c.purged_at.is_(None),
            outbox.c.done_at <= before,
        )
        .values(document={}, groups=[], last_error=None, purged_at=now)
    )
    # an UPDATE's result is a CursorResult, which Session.execute types as a Result
    entries = cast(CursorResult[Any], purged).rowcount
    still_open = select(outbox.c.link_id).where(
        outbox.c.target == target.name, outbox.c.state.in_(VISIBLE_STATES)
    )
    reduced = session.execute(
        update(links)
        .where(
            links.c.target == target.name,
            links.c.deleted_at <= before,
            links.c.vendor_record.is_not(None),
            links.c.id.not_in(still_open),
        )
        .values(vendor_record=null(), last_error=None)
    )
    tombstones = cast(CursorResult[Any], reduced).rowcount  # as ``purged``
    return Purged(entries, tombstones)
