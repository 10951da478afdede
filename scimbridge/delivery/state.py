"""What the delivery looks like from outside: counts, the outbox listing, retries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, or_, select, update
from sqlalchemy.orm import Session

from scimbridge.comparison import user_name_key
from scimbridge.delivery.ordering import newest_of_user, supersede
from scimbridge.store import utc
from scimbridge.store.delivery_tables import links, outbox
from scimbridge.store.rows import chunked

DELIVERY_STATE = "urn:scimbridge:params:scim:schemas:extension:delivery:2.0:User"
"""The SCIM extension that shows how far a user got towards the vendor, with its pause
switch (docs/architecture.md, "Delivery state"); :mod:`scimbridge.scim.provider` publishes it.

The state attributes are readOnly and ``returned: request`` (RFC 7643 §7): an
admin asks for them with ``?attributes=urn:…:delivery:2.0:User:status,…``. The
IdPs never ask, so they never see vendor error texts.

``paused`` is the one attribute a client writes: while it is true the bridge
keeps accepting the user's writes but holds them back from the vendor (see
:mod:`scimbridge.delivery.outbox`). It also makes the extension one a client can add and remove as RFC 7644 §3.5.2 describes; an extension of readOnly
attributes only is one no client can PATCH, which scim2-tester reports as an
error even against the scim2-server reference.
"""

UNAVAILABLE = "unavailable"
FAILED = "failed"
CREDENTIALS = "credentials"
"""The kinds of ``outbox.error_kind``: the vendor was unavailable (not counted), the user
failed (counted toward ``delivery.max_attempts``), or the vendor refused the bridge's own
credentials (not counted, never parked: :mod:`~scimbridge.delivery.recovery`); see
``delivery.settling``."""
CREDENTIALS_REFUSED = "credentials refused"
"""A target's state while the vendor refuses its credentials, as status, ``/readyz`` and
the logs name it."""

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
    credentials_refused: str | None = None
    """While the vendor refuses the bridge's credentials (:data:`CREDENTIALS_REFUSED`): the
    refusal, as the vendor worded it (redacted); None otherwise."""
    refused_since: datetime | None = None
    """When the refusal the target is in began: the oldest refused try still waiting."""


def target_health(session: Session, now: datetime) -> dict[str, TargetHealth]:
    """The health of every target with pending entries (the others are healthy and idle)."""
    refused = outbox.c.error_kind == CREDENTIALS
    rows = session.execute(
        select(
            outbox.c.target,
            func.min(outbox.c.created_at),
            func.max(case((outbox.c.error_kind == UNAVAILABLE, 1), else_=0)),
            func.max(case((refused, outbox.c.last_error))),
            func.min(case((refused, outbox.c.failing_since))),
        )
        .where(outbox.c.state == "pending")
        .group_by(outbox.c.target)
    )
    return {
        target: TargetHealth(
            degraded=bool(waiting),
            oldest_pending_seconds=(now - utc(oldest)).total_seconds(),
            credentials_refused=refusal,
            refused_since=utc(since) if since is not None else None,
        )
        for target, oldest, waiting, refusal, since in rows
    }


def list_entries(
    session: Session,
    target: str | None = None,
    states: tuple[str, ...] = VISIBLE_STATES,
    user: str | None = None,
) -> list[dict[str, Any]]:
    """The outbox entries of some states, oldest first, as ``scimbridge outbox list`` shows them.

    :param user: only this user's entries: its SCIM id, userName (in any case) or externalId.
    :returns: one dict per entry; ``change`` falls back to the ``event`` of entries written
        before changes were recorded, ``user_name`` is the userName the entry was written
        with, as sent (the compared, lower-cased one once its snapshot is purged), and
        ``vendor_id`` is the id a delivered entry reached, or the user's vendor id today
        for an entry still open; ``history`` holds the entry's last tries
        (:meth:`~scimbridge.delivery.settling.Settlement.tried`), None before any, and
        ``last_error`` the error of its last failed try, kept once it is delivered.
    """
    query = (
        select(
            outbox.c.seq,
            outbox.c.target,
            outbox.c.state,
            outbox.c.event,
            func.coalesce(outbox.c.change, outbox.c.event).label("change"),
            outbox.c.created_at,
            outbox.c.last_attempt_at,
            case((outbox.c.state == "pending", outbox.c.next_attempt_at)).label("next_attempt_at"),
            outbox.c.done_at,
            outbox.c.attempts,
            outbox.c.failures,
            outbox.c.last_error,
            outbox.c.error_kind,
            outbox.c.vendor_ref,
            outbox.c.request_id,
            outbox.c.history,
            links.c.scim_id,
            links.c.external_id,
            # as the identity provider sent it; the link's is lower-cased to compare
            func.coalesce(outbox.c.document["userName"].as_string(), links.c.user_name).label(
                "user_name"
            ),
            case(
                (outbox.c.state.in_(VISIBLE_STATES), links.c.vendor_id),
                else_=outbox.c.delivered_vendor_id,
            ).label("vendor_id"),
        )
        .join(links, links.c.id == outbox.c.link_id)
        .where(outbox.c.state.in_(states))
        .order_by(outbox.c.seq)
    )
    if target:
        query = query.where(outbox.c.target == target)
    if user:
        query = query.where(
            or_(
                links.c.scim_id == user,
                links.c.user_name == user_name_key(user),
                links.c.external_id == user,
            )
        )
    return [dict(row._mapping) for row in session.execute(query)]


SUPERSEDED = "superseded by #{newest}, a newer change of the same user"
"""Why ``outbox retry`` does not queue an entry whose user has a newer one: the vendor must
never get an older snapshot of a user after a newer one (:mod:`~scimbridge.delivery.ordering`)."""
NOT_RETRIED = {
    "pending": "it is pending: queued already",
    "held": "it is held until its user is unpaused",
    "delivered": "it was delivered: the vendor has it",
    "superseded": SUPERSEDED,
}
"""Why ``outbox retry`` leaves an entry of each state other than failed as it is."""


@dataclass(frozen=True)
class Retried:
    """What ``outbox retry`` did: the entries queued again, and why others were not."""

    queued: list[int]
    refused: dict[int, str]
    """Each entry that was not queued again, with the reason, for the operator: every
    numbered one, and every failed one superseded by a newer change of its user."""


def retry_failed(
    session: Session, now: datetime, target: str | None = None, seqs: list[int] | None = None
) -> Retried:
    """Put parked entries back in the queue, due now, with a fresh attempt budget.

    Only a failed entry that is its user's newest is queued again: a pending one is queued
    already, a delivered or superseded one is done, a held one waits for its user to be
    unpaused, and a failed one with a newer entry of its user (in flight, say) is superseded
    instead, since the vendor must never get an older snapshot after a newer one
    (:mod:`~scimbridge.delivery.ordering`). The test of "newest" is part of the statement
    that queues the entry; a newer entry written in the same instant, unseen by it, is
    still kept in order by the claim (``links.claimed_seq``).
    """
    newest = newest_of_user().label("newest")
    query = select(outbox.c.seq, outbox.c.target, outbox.c.state, outbox.c.link_id, newest)
    if seqs:
        query = query.where(outbox.c.seq.in_(seqs))
    else:
        query = query.where(outbox.c.state == "failed")
        if target:
            query = query.where(outbox.c.target == target)
    found = {row.seq: row for row in session.execute(query)}
    refused = {}
    for seq in seqs or []:
        row = found.get(seq)
        if row is None:
            refused[seq] = "no such entry"
        elif target and row.target != target:
            refused[seq] = f"it belongs to target {row.target}, not {target}"
        elif row.state != "failed":
            refused[seq] = NOT_RETRIED[row.state].format(newest=row.newest)
    failed = sorted(seq for seq in found if seq not in refused)
    queued: list[int] = []
    for chunk in chunked(failed):
        queued += session.execute(
            update(outbox)
            .where(
                outbox.c.seq.in_(chunk),
                outbox.c.state == "failed",
                outbox.c.seq >= newest_of_user(),
            )
            .values(
                state="pending",
                attempts=0,
                failures=0,
                failing_since=None,
                next_attempt_at=now,
                done_at=None,
            )
            .returning(outbox.c.seq)
        ).scalars()
    for chunk in chunked(sorted(set(failed) - set(queued))):
        refused.update(_supersede_older(session, now, chunk))
    return Retried(sorted(queued), refused)


def _supersede_older(session: Session, now: datetime, seqs: list[int]) -> dict[int, str]:
    """Supersede the failed entries among ``seqs`` that a newer entry of their user
    replaces; returns why each of ``seqs`` was not queued again (the others changed
    state under the retry: a concurrent retry queued them)."""
    rows = session.execute(
        select(
            outbox.c.seq, outbox.c.link_id, outbox.c.state, newest_of_user().label("newest")
        ).where(outbox.c.seq.in_(seqs))
    ).all()
    newer = {row.seq: row.link_id for row in rows if row.newest > row.seq}
    supersede(
        session, "retried", sorted(set(newer.values())), newest_of_user(), now, only=list(newer)
    )
    return {
        row.seq: (SUPERSEDED if row.seq in newer else NOT_RETRIED[row.state]).format(
            newest=row.newest
        )
        for row in rows
    }
