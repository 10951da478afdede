"""Backdating pending outbox entries, so that the age the bridge reports of the oldest one
(``/Status``, ``/metrics``) is asserted as a figure, not merely as ``>= 0``.

Ages are measured on the database's clock (:meth:`scimbridge.store.Database.now`), which
a test cannot move: entries are written back in time instead.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from scimbridge.store import Database
from scimbridge.store.delivery_tables import outbox

READ_BACK_SECONDS = 300.0
"""The most real time a test may take between backdating entries and reading an age back."""


def backdate_pending(database: Database, *ages: float) -> float:
    """Make the pending entries, in ``seq`` order, ``ages`` seconds old; returns the oldest
    age. Give a later entry a smaller age, so that the age of the newest entry is not the
    answer, nor 0."""
    now = database.now()
    with database.transaction() as session:
        seqs = session.execute(
            select(outbox.c.seq).where(outbox.c.state == "pending").order_by(outbox.c.seq)
        ).scalars()
        pending = list(seqs)
        assert len(pending) == len(ages), f"{len(pending)} pending entries, {len(ages)} ages"
        for seq, age in zip(pending, ages, strict=True):
            session.execute(
                update(outbox)
                .where(outbox.c.seq == seq)
                .values(created_at=now - timedelta(seconds=age))
            )
    return max(ages)


def is_age(reported: float, expected: float) -> bool:
    """Whether ``reported`` is the age ``expected`` at backdating, read back a little later."""
    return expected <= reported < expected + READ_BACK_SECONDS
