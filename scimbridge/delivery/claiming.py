"""Claiming due outbox entries, and holding the claim while the vendor works on them.

A claim is a lease: ``claimed_by`` names the batch (a token of the worker and a
counter, never reused) and ``claimed_until`` says until when no other worker may
take the entries. Times come from the database's clock (:meth:`Database.now`),
so workers on several hosts agree on them.

Per user, one entry at most is in flight: the newest pending one, which carries
the whole user and supersedes the older ones, and never one older than an entry
claimed for the user before (``links.claimed_seq``, raised by each claim): an
older entry found pending again (queued by a retry that raced the newer one) is
superseded, never sent after it (:mod:`~scimbridge.delivery.ordering`). On
PostgreSQL the claims of a target are serialised by a transaction-scoped
advisory lock: the claim's query is a statement that starts after the lock is
granted, so under READ COMMITTED it sees every claim committed before it, with
the ``claimed_seq`` it raised, and never hands out a user's newer entry while an
older one is in flight, nor an older one after a newer (a snapshot taken before
the other claim committed would). Claims are short; the deliveries they start
run side by side. On SQLite every write transaction holds the database's one
write lock.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, Row, func, or_, select, update
from sqlalchemy.orm import Session

from scimbridge.config import Target
from scimbridge.delivery.ordering import BEHIND, CLAIMED_SEQ, raise_claimed_seq, supersede
from scimbridge.store import Database, utc
from scimbridge.store.delivery_tables import chosen_values, links, outbox
from scimbridge.vendors.base import Interrupted

log = logging.getLogger("scimbridge.delivery")

CLAIM_LOCK = 0x5C1B
"""The first key of the claims' advisory locks (the second is the target's hash),
so that they never collide with another application's locks on the same server."""

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class Claimed:
    """One claimed entry with the link it belongs to."""

    seq: int
    attempts: int
    failures: int
    failing_since: datetime | None
    event: str
    document: dict[str, Any]
    groups: list[str]
    link_id: str
    vendor_id: str | None
    delivered_once: bool
    vendor_record: dict[str, Any] | None
    sent_at: datetime | None
    chosen: dict[str, Any] = field(default_factory=dict)
    """The values ``first_available`` fields were given at the user's first delivery."""
    request_id: str | None = None
    """The SCIM request that wrote the entry: the worker's log lines about it carry it."""
    error_kind: str | None = None
    """What its last failed try met (``outbox.error_kind``), if one did."""
    history: list[dict[str, Any]] | None = None
    """Its last tries (``outbox.history``; :meth:`~scimbridge.delivery.settling.Settlement.tried`)."""


@dataclass(frozen=True)
class Batch:
    """The entries one claim took, and the token that proves the claim is still held."""

    token: str
    entries: list[Claimed]


def gathering(database: Database, target: Target, limit: int, now: datetime) -> bool:
    """Whether a serving worker should let the target's next batch gather a little longer
    (``delivery.gather_seconds``): fewer than ``limit`` entries are due, the newest of them
    was written less than ``gather_seconds`` ago (the IdP is still writing, as during a
    SCIM Bulk load), and none has waited ``gather_limit_seconds``. An entry due again after
    a failure waits only while new writes keep coming, and never past the limit."""
    delivery = target.delivery
    if delivery.gather_seconds <= 0 or _due(database, target, now, writing=False)[0] >= limit:
        return False
    # A partial batch is read again in a writing transaction, although it only reads: on
    # SQLite it waits for a SCIM request being written (a Bulk request commits once,
    # seconds long), whose entries then count as the IdP still writing; a reading one
    # would see the IdP quiet in mid-Bulk. A full batch goes without waiting for that turn.
    due, newest, oldest = _due(database, target, now, writing=True)
    if newest is None or oldest is None or due >= limit:
        return False
    quiet = now - utc(newest) >= timedelta(seconds=delivery.gather_seconds)
    waited = now - utc(oldest) >= timedelta(seconds=delivery.gather_limit_seconds)
    return not (quiet or waited)


def _due(
    database: Database, target: Target, now: datetime, writing: bool
) -> tuple[int, datetime | None, datetime | None]:
    """How many of the target's entries are due and free, the newest one's creation and the
    oldest one's due time."""
    free = or_(outbox.c.claimed_until.is_(None), outbox.c.claimed_until < now)
    with database.transaction(writing=writing) as session:
        due, newest, oldest = session.execute(
            select(
                func.count(), func.max(outbox.c.created_at), func.min(outbox.c.next_attempt_at)
            ).where(
                outbox.c.target == target.name,
                outbox.c.state == "pending",
                outbox.c.next_attempt_at <= now,
                free,
            )
        ).one()
    return int(due), newest, oldest


def claim_due(
    database: Database, target: Target, limit: int, exclusive: bool, token: str, now: datetime
) -> Batch:
    """Claim up to ``limit`` due entries of ``target``, the newest pending one per user, never
    one older than an entry claimed for its user before (:mod:`~scimbridge.delivery.ordering`).

    :param exclusive: the vendor runs one import at a time per tenant (Rocket.Chat):
        nothing is claimed while another batch of the target is in flight.
    """
    lease = timedelta(seconds=target.delivery.lease_seconds)
    free = or_(outbox.c.claimed_until.is_(None), outbox.c.claimed_until < now)
    postgresql = database.engine.dialect.name == "postgresql"
    with database.transaction() as session:
        if postgresql:
            session.execute(
                select(func.pg_advisory_xact_lock(CLAIM_LOCK, func.hashtext(target.name)))
            )
        in_flight = select(outbox.c.link_id).where(
            outbox.c.target == target.name,
            outbox.c.state == "pending",
            outbox.c.claimed_until >= now,
        )
        if exclusive and session.execute(in_flight.limit(1)).first() is not None:
            return Batch(token, [])
        query = (
            select(
                outbox,
                links.c.vendor_id,
                links.c.delivered_once,
                links.c.vendor_record,
                links.c.sent_at,
                BEHIND.label("behind"),
            )
            .join(links, links.c.id == outbox.c.link_id)
            .where(
                outbox.c.target == target.name,
                outbox.c.state == "pending",
                outbox.c.next_attempt_at <= now,
                free,
                outbox.c.link_id.not_in(in_flight),
            )
            .order_by(outbox.c.seq)
            .limit(limit * 4)
        )
        if postgresql:
            # the links too: a user a SCIM write holds is left for the next round (its newer
            # entry is on its way), and the claim never waits for that write to raise claimed_seq
            query = query.with_for_update(skip_locked=True, of=(outbox, links))
        newest: dict[str, Row[Any]] = {}
        behind: set[str] = set()
        for row in session.execute(query):
            if row.behind:
                behind.add(row.link_id)
            else:
                newest[row.link_id] = row
        chosen = sorted(newest.values(), key=lambda row: row.seq)[:limit]
        # superseded before the chosen are marked claimed: an older entry whose lease ran out
        # still names its batch, and one user has one claimed entry at most (the unique index)
        raise_claimed_seq(session, {row.link_id: row.seq for row in chosen})
        claimed_for = behind | {row.link_id for row in chosen}
        supersede(session, "claimed", sorted(claimed_for), CLAIMED_SEQ, now)
        session.execute(
            update(outbox)
            .where(outbox.c.seq.in_([row.seq for row in chosen]))
            .values(claimed_by=token, claimed_until=now + lease)
        )
        values = values_chosen(session, [row.link_id for row in chosen])
    return Batch(token, [_claimed(row, values.get(row.link_id, {})) for row in chosen])


def values_chosen(session: Session, link_ids: list[str]) -> dict[str, dict[str, Any]]:
    """Per link, the values its ``first_available`` fields hold (``chosen_values``)."""
    found: dict[str, dict[str, Any]] = {}
    if link_ids:
        rows = session.execute(
            select(chosen_values.c.link_id, chosen_values.c.field, chosen_values.c.value).where(
                chosen_values.c.link_id.in_(link_ids)
            )
        )
        for link_id, name, value in rows:
            found.setdefault(link_id, {})[name] = value
    return found


def _claimed(row: Row[Any], chosen: dict[str, Any]) -> Claimed:
    columns = {name.name for name in fields(Claimed)} - {"chosen"}
    return Claimed(**{name: getattr(row, name) for name in columns}, chosen=chosen)


def still_held(batch: Batch) -> Any:
    """The condition of every write settling an entry of ``batch``: the claim is still its own.

    A worker whose lease ran out may come back from the vendor after another worker
    claimed the entries again; its outcome is then stale, and must not overwrite the
    newer one (the fence).
    """
    return (outbox.c.claimed_by == batch.token) & (outbox.c.state == "pending")


class Lease:
    """The claim on a batch, checked before every vendor request and kept alive while the
    vendor works (``VendorClient.keep_alive`` and ``VendorClient.renew``).

    Renewed once a third of the lease has passed, while a client waits (a status poll,
    a rate-limit wait) and while a request is in flight (``VendorClient.renewing``), so
    that neither a slow call nor a long batch of back-to-back calls lets the lease run
    out under a live worker: no other worker claims the user's newer entry while an
    older write may still land. A worker asked to stop, or one that finds its lease
    taken over, sends nothing more (:meth:`keep_alive`).
    """

    def __init__(
        self,
        database: Database,
        target: Target,
        batch: Batch,
        clock: Clock,
        stopping: threading.Event,
    ):
        self.database = database
        self.batch = batch
        self.clock = clock
        self.stopping = stopping
        self.length = timedelta(seconds=target.delivery.lease_seconds)
        self.renewed = clock()
        self.lost: str | None = None
        """Why the batch is no longer this worker's, once a renewal found it taken over."""

    def keep_alive(self) -> None:
        """Before every vendor request and while a client waits: renew when due.

        :raises Interrupted: the worker is stopping, or lost entries of the batch.
        """
        if self.stopping.is_set():
            raise Interrupted("the worker is stopping")
        self.renew()

    def renew(self) -> None:
        """Renew the lease once a third of it has passed, stopping or not: a request in
        flight keeps the claim until it returns. Called from the heartbeat thread of the
        request in flight, never beside :meth:`keep_alive` (the worker's thread waits for
        the request).

        :raises Interrupted: entries of the batch were taken over (then at every call).
        """
        if self.lost is not None:
            raise Interrupted(self.lost)
        now = self.clock()
        if now - self.renewed < self.length / 3:
            return
        seqs = [entry.seq for entry in self.batch.entries]
        with self.database.transaction() as session:
            result = session.execute(
                update(outbox)
                .where(outbox.c.seq.in_(seqs), still_held(self.batch))
                .values(claimed_until=now + self.length)
            )
            # an UPDATE's result is a CursorResult, which Session.execute types as a Result
            renewed = cast(CursorResult[Any], result).rowcount
        self.renewed = now
        if renewed < len(seqs):
            self.lost = (
                f"the lease of batch {self.batch.token} ran out and another worker "
                "took entries of it over"
            )
            raise Interrupted(self.lost)
