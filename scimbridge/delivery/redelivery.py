"""A mapping change is noticed: which delivered users it changes, and their redelivery.

Each link keeps the fingerprint of the mapping that made the record last delivered
(``links.mapping_fingerprint``, :attr:`~scimbridge.mapping.Mapping.fingerprint`; NULL for
one delivered before the column existed: made by an unknown mapping). A delivered user
whose fingerprint is not the current mapping's is *stale*: it is mapped again
(:func:`~scimbridge.delivery.wanted.wanted`) and compared with the record it was last sent
(:func:`~scimbridge.reconcile.compare.differences`, the one rule of "holds what the mapping
makes"). Those whose record differs would change under the current mapping.

Counting them (:func:`mapping_changes`) writes nothing, so ``scimbridge status`` and the
Status endpoint stay read-only. :class:`Redelivery`, run by the worker when the target
had nothing due, queues them (change ``mapping``) a batch at a time, and stamps the
current fingerprint on those found unchanged (and on those the mapping refuses, which
it names in the log).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.orm import Session

from scimbridge.config import Target
from scimbridge.delivery.outbox import enqueue
from scimbridge.delivery.wanted import OPEN, BridgeUser, Directory, bridge_users, wanted
from scimbridge.mapping import MappedRecord, Mapping, UnmappableUser
from scimbridge.reconcile.compare import Difference, Normalise, differences
from scimbridge.store import Database
from scimbridge.store.delivery_tables import links, outbox
from scimbridge.store.rows import chunked
from scimbridge.vendors import client_for
from scimbridge.vendors.base import VendorClient

log = logging.getLogger("scimbridge.delivery")

CHANGE = "mapping"
"""What a redelivery is in ``outbox list``."""


def would_change(count: int) -> str:
    """The count as ``scimbridge status`` and the start-up log say it."""
    users = "user would" if count == 1 else "users would"
    return f"{count} delivered {users} change under the current mapping"


@dataclass(frozen=True)
class Comparison:
    """How the target's vendor compares its account keys (the client's, never a guess)."""

    account_keys: frozenset[str]
    normalise: Normalise

    @classmethod
    def of(cls, client: VendorClient) -> Comparison:
        return cls(client.account_keys, client.account_key)


def comparison_for(target: Target) -> Comparison:
    """The comparison of the target's vendor client; building it calls no vendor."""
    client = client_for(target)
    try:
        return Comparison.of(client)
    finally:
        client.close()


@dataclass(frozen=True)
class Changed:
    """A delivered user whose record the current mapping changes."""

    user: BridgeUser
    mapped: MappedRecord
    differences: tuple[Difference, ...]

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(difference.field for difference in self.differences)


@dataclass(frozen=True)
class Refused:
    """A delivered user the current mapping no longer maps; its next write is refused."""

    user: BridgeUser
    reason: str


@dataclass
class MappingChanges:
    """The stale delivered users of a target, judged against the current mapping."""

    fingerprint: str
    changed: list[Changed] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    """Link ids whose record the current mapping makes as it was sent."""
    refused: list[Refused] = field(default_factory=list)
    parked: set[str] = field(default_factory=set)
    """Link ids of changed users with a parked (failed) entry: ``outbox retry`` delivers
    them with the current mapping; a redelivery would only be parked again beside it."""


def stale(target: Target, fingerprint: str) -> ColumnElement[bool]:
    """A stale link: delivered, live, and its record made by another mapping."""
    return and_(
        links.c.target == target.name,
        links.c.delivered_once.is_(True),
        links.c.deleted_at.is_(None),
        or_(links.c.mapping_fingerprint.is_(None), links.c.mapping_fingerprint != fingerprint),
    )


def stale_links(database: Database, target: Target, fingerprint: str) -> int:
    """How many links of the target are stale: one indexed count, cheap to ask every round."""
    with database.transaction(writing=False) as session:
        return int(
            session.execute(select(func.count()).where(stale(target, fingerprint))).scalar_one()
        )


def mapping_changes(
    database: Database,
    target: Target,
    mapping: Mapping,
    directory: Directory,
    comparison: Comparison,
) -> MappingChanges:
    """Judge every stale delivered user (not deleted, a record sent, no entry open) against
    ``mapping``; writes nothing. A user with an open entry is left out: that delivery maps
    it with the current mapping and stamps its fingerprint."""
    found = MappingChanges(mapping.fingerprint)
    if not stale_links(database, target, mapping.fingerprint):
        return found
    for user in bridge_users(database, target, directory):
        if not _stale_user(user, mapping.fingerprint):
            continue
        if user.vendor_record is None:
            found.unchanged.append(user.link_id)
            continue
        try:
            mapped = wanted(mapping, user)
        except UnmappableUser as refusal:
            found.refused.append(Refused(user, refusal.detail))
            continue
        held = differences(
            mapped, user.vendor_record, comparison.account_keys, comparison.normalise
        )
        if held:
            found.changed.append(Changed(user, mapped, tuple(held)))
        else:
            found.unchanged.append(user.link_id)
    found.parked = _parked(database, [change.user.link_id for change in found.changed])
    return found


def _stale_user(user: BridgeUser, fingerprint: str) -> bool:
    return (
        user.delivered_once
        and not user.deleted
        and user.open_entry is None
        and user.mapping_fingerprint != fingerprint
    )


def _parked(database: Database, link_ids: list[str]) -> set[str]:
    with database.transaction(writing=False) as session:
        return {
            link_id
            for chunk in chunked(link_ids)
            for link_id in session.execute(
                select(outbox.c.link_id)
                .where(outbox.c.link_id.in_(chunk), outbox.c.state == "failed")
                .distinct()
            ).scalars()
        }


class Redelivery:
    """The worker's redelivery of one process (run by a target's first loop only): queues the
    users a mapping change changes, a batch at a time, only when the target has nothing else
    due and no redelivery pending, so that the IdP's own writes are never queued behind a
    mapping change.

    A pass that queues nothing (each user it changes has a parked entry, or was written
    meanwhile) is remembered with the number of stale links left, and not repeated until
    that number changes: an idle loop does not map every user again each second.
    """

    def __init__(self) -> None:
        self._idle: dict[str, int] = {}
        self._lock = threading.Lock()

    def run(
        self,
        database: Database,
        target: Target,
        mapping: Mapping,
        directory: Directory,
        client: VendorClient,
    ) -> int:
        """One step: how many users were queued again, at most a batch of the client's."""
        if not target.delivery.redeliver_on_mapping_change:
            return 0
        stale_now = stale_links(database, target, mapping.fingerprint)
        with self._lock:
            if not stale_now or self._idle.get(target.name) == stale_now:
                return 0
        if _redelivery_pending(database, target):
            return 0
        watermark = _newest_seq(database, target)
        changes = mapping_changes(database, target, mapping, directory, Comparison.of(client))
        batch = min(client.max_batch, target.delivery.batch_size or client.max_batch)
        queued = _queue(database, target, changes, watermark, batch)
        with self._lock:
            if queued:
                self._idle.pop(target.name, None)
            else:
                self._idle[target.name] = stale_links(database, target, mapping.fingerprint)
        return queued


def _queue(
    database: Database, target: Target, changes: MappingChanges, watermark: int, batch: int
) -> int:
    """Stamp the unchanged and the refused, queue up to ``batch`` changed users; in one
    transaction that leaves out a user written since the users were read (an entry newer
    than ``watermark``, or one open): the IdP's newer write is never superseded by an older
    snapshot of it."""
    due = [change for change in changes.changed if change.user.link_id not in changes.parked]
    stamped = changes.unchanged + [refused.user.link_id for refused in changes.refused]
    with database.transaction() as session:
        written = _written_since(session, [change.user.link_id for change in due], watermark)
        slice_ = [change for change in due if change.user.link_id not in written][:batch]
        _stamp(session, stamped, changes.fingerprint)
        enqueue(
            session,
            target.name,
            "upsert",
            CHANGE,
            [
                (change.user.link_id, change.user.document or {}, change.user.groups)
                for change in slice_
            ],
        )
    for refused in changes.refused:
        log.warning(
            "%s: user %s no longer maps under the current mapping: %s",
            target.name,
            refused.user.describe(),
            refused.reason,
        )
    if slice_:
        log.info(
            "%s: the mapping changed; redelivering %d of %d user(s) it changes: %s",
            target.name,
            len(slice_),
            len(due),
            ", ".join(change.user.describe() for change in slice_),
        )
    return len(slice_)


def _stamp(session: Session, link_ids: list[str], fingerprint: str) -> None:
    for chunk in chunked(link_ids):
        session.execute(
            update(links).where(links.c.id.in_(chunk)).values(mapping_fingerprint=fingerprint)
        )


def _written_since(session: Session, link_ids: list[str], watermark: int) -> set[str]:
    written: set[str] = set()
    for chunk in chunked(link_ids):
        written.update(
            session.execute(
                select(outbox.c.link_id).where(
                    outbox.c.link_id.in_(chunk),
                    or_(outbox.c.seq > watermark, outbox.c.state.in_(OPEN)),
                )
            ).scalars()
        )
    return written


def _newest_seq(database: Database, target: Target) -> int:
    with database.transaction(writing=False) as session:
        newest = session.execute(
            select(func.max(outbox.c.seq)).where(outbox.c.target == target.name)
        ).scalar_one()
    return int(newest or 0)


def _redelivery_pending(database: Database, target: Target) -> bool:
    """Whether a redelivery queued earlier is still pending (backing off, say): the next
    slice waits for it, so an unavailable vendor never gets the whole directory queued."""
    with database.transaction(writing=False) as session:
        return (
            session.execute(
                select(outbox.c.seq)
                .where(
                    and_(
                        outbox.c.target == target.name,
                        outbox.c.state == "pending",
                        outbox.c.change == CHANGE,
                    )
                )
                .limit(1)
            ).first()
            is not None
        )


class ChangeCounts:
    """How many delivered users the current mapping would change, per target, for the
    Status endpoint: computed once per process for each (fingerprint, number of stale
    links), and kept; a redelivery or a delivery of a stale user changes that number, and
    the next request computes it again. Never computed per request otherwise."""

    def __init__(self) -> None:
        self._kept: dict[str, tuple[tuple[str, int], int]] = {}
        self._comparisons: dict[str, Comparison] = {}
        self._lock = threading.Lock()

    def count(
        self, database: Database, target: Target, mapping: Mapping, directory: Directory
    ) -> int:
        key = (mapping.fingerprint, stale_links(database, target, mapping.fingerprint))
        with self._lock:
            kept = self._kept.get(target.name)
            if kept is not None and kept[0] == key:
                return kept[1]
            count = self._count(database, target, mapping, directory) if key[1] else 0
            self._kept[target.name] = (key, count)
            return count

    def _count(
        self, database: Database, target: Target, mapping: Mapping, directory: Directory
    ) -> int:
        comparison = self._comparisons.get(target.name) or comparison_for(target)
        self._comparisons[target.name] = comparison
        return len(mapping_changes(database, target, mapping, directory, comparison).changed)
