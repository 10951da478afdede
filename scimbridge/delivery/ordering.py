"""The order of one user's changes at the vendor: the newest entry wins (docs/architecture.md,
"Transient vs permanent").

Every outbox entry holds the whole user, so a newer entry of a user makes the older
ones moot; sending an older one *after* a newer one would put the vendor back in a
state the IdP has left (a parked create queued again while the user's deactivation is
with the vendor: import, disable, import, and an account left enabled that SCIM says
is inactive). The rule, decided here and nowhere else:

- A user's link records the newest entry ever claimed for it (``links.claimed_seq``),
  raised by the claim that takes it (:func:`raise_claimed_seq`). No entry older than
  that is claimed again, whatever left it pending (:data:`BEHIND`): the claim reads
  ``claimed_seq`` in its own statement, after every claim before it committed (on
  PostgreSQL the claims of a target take turns under an advisory lock, on SQLite
  under the write lock), so the database itself keeps a newer entry in flight, or
  sent, from being followed by an older one.
- An older entry is superseded by a newer one of the same user (:func:`supersede`) at
  the moment the newer one makes it moot (:data:`SUPERSEDED_WHEN`), and never while it
  is in flight: its worker's outcome then settles it.
- ``outbox retry`` queues an entry again only while it is its user's newest
  (:func:`newest_of_user`); an older one is superseded instead, and the retry says by
  which entry.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import (
    ColumnElement,
    Integer,
    ScalarSelect,
    bindparam,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from scimbridge.store.delivery_tables import links, outbox

Moment = Literal["written", "claimed", "delivered", "retried"]
"""What a newer entry of the user just went through."""

SUPERSEDED_WHEN: dict[Moment, tuple[str, ...]] = {
    # A write replaces what a paused user held. A pending entry waits for the claim, which
    # takes the newest; a failed one stays shown as failed until a newer one is delivered.
    "written": ("held",),
    # The older pending entries can no longer be claimed (BEHIND).
    "claimed": ("pending",),
    # The vendor holds a newer state: nothing older is still worth sending or showing.
    "delivered": ("pending", "held", "failed"),
    # An older failed entry of a user with a newer one is never queued again.
    "retried": ("failed",),
}
"""Which states of a user's older entries a newer entry supersedes, at each moment."""

CLAIMED_SEQ: ScalarSelect[Any] = (
    select(links.c.claimed_seq).where(links.c.id == outbox.c.link_id).scalar_subquery()
)
"""The ``claimed_seq`` of an outbox row's user, for statements on ``outbox`` alone."""

BEHIND: ColumnElement[bool] = outbox.c.seq < func.coalesce(links.c.claimed_seq, 0)
"""An outbox row (joined to its link) older than the newest entry claimed for its user:
never claimed, superseded instead."""


def newest_of_user() -> ScalarSelect[Any]:
    """The number of the newest entry of an outbox row's user, whatever its state."""
    same_user = outbox.alias("same_user")
    return (
        select(func.max(same_user.c.seq))
        .where(same_user.c.link_id == outbox.c.link_id)
        .scalar_subquery()
    )


def supersede(
    session: Session,
    moment: Moment,
    link_ids: Sequence[str],
    than: int | ColumnElement[Any],
    at: datetime,
    *,
    only: Sequence[int] | None = None,
) -> None:
    """Supersede the entries of these users older than ``than`` that ``moment`` makes moot
    (:data:`SUPERSEDED_WHEN`); an entry in flight stays, for its worker to settle.

    :param than: the newer entry's number, or an expression of each row's (:data:`CLAIMED_SEQ`,
        :func:`newest_of_user`).
    :param only: these entries at most (a retry supersedes the ones it was asked about).
    :param at: when: the ``done_at`` of an entry not finished before (a parked entry
        keeps the time it was parked).
    """
    if not link_ids:
        return
    conditions = [
        outbox.c.link_id.in_(link_ids),
        outbox.c.seq < than,
        outbox.c.state.in_(SUPERSEDED_WHEN[moment]),
        or_(outbox.c.claimed_until.is_(None), outbox.c.claimed_until < at),
    ]
    if only is not None:
        conditions.append(outbox.c.seq.in_(only))
    session.execute(
        update(outbox)
        .where(*conditions)
        .values(state="superseded", done_at=func.coalesce(outbox.c.done_at, at))
    )


def raise_claimed_seq(session: Session, claimed: dict[str, int]) -> None:
    """Record the entries just claimed (link id → entry number) as their users' newest
    claimed, never lowering it: a claim takes no entry behind them from now on
    (:data:`BEHIND`)."""
    if not claimed:
        return
    entry = bindparam("claimed_entry", type_=Integer)
    session.execute(
        update(links)
        .where(
            links.c.id == bindparam("claimed_link"),
            or_(links.c.claimed_seq.is_(None), links.c.claimed_seq < entry),
        )
        .values(claimed_seq=entry),
        [{"claimed_link": link, "claimed_entry": number} for link, number in claimed.items()],
    )
