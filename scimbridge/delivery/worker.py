"""The read side of delivery: claim due outbox entries, map them, send them, record the outcome.

The worker is safe to run as several threads or processes at once, and to
kill at any moment:

- entries are *claimed* with a lease (``claimed_until``); a worker killed
  mid-batch leaves a lease that expires, and the next worker delivers the
  entry again: every vendor client looks a user up before creating it, or on
  the vendor's "already exists", so a repeated import updates the user it
  created (tests/vendors, "delivered twice");
- per user, only the newest pending entry is delivered: it carries the whole
  user, so it supersedes the older ones (never the other way round), and a
  user with an entry in flight is left alone until that entry is settled, so
  one user's changes are never reordered;
- on PostgreSQL the claim uses ``SELECT … FOR UPDATE SKIP LOCKED``, so
  concurrent workers never claim the same entries (design.md, "Scale");
- a vendor that runs one import at a time per tenant (Rocket.Chat) gets one
  batch at a time: no claim while another batch of the target is in flight.
"""

from __future__ import annotations

import copy
import json
import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Row, and_, func, or_, select, update

from scimbridge.config import BridgeConfig, Target
from scimbridge.delivery.backoff import retry_delay
from scimbridge.delivery.claims import LinkClaims, release_taken_over
from scimbridge.delivery.outbox import supersede_older
from scimbridge.mapping import MappedRecord, Mapping, MappingContext, UnmappableUser
from scimbridge.store import Database, utc
from scimbridge.store.delivery_tables import links, outbox
from scimbridge.vendors import client_for
from scimbridge.vendors.base import DeliveryItem, Outcome, VendorClient, VendorUnavailable

log = logging.getLogger("scimbridge.delivery")

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Claimed:
    """One claimed entry with the link it belongs to."""

    seq: int
    attempts: int
    event: str
    document: dict[str, Any]
    groups: list[str]
    link_id: str
    vendor_id: str | None
    delivered_once: bool
    vendor_record: dict[str, Any] | None
    sent_at: datetime | None


class Worker:
    """Delivers the outbox of every target; one instance per thread or process."""

    def __init__(
        self,
        config: BridgeConfig,
        database: Database,
        mappings: dict[str, Mapping],
        clients: dict[str, VendorClient] | None = None,
        clock: Clock = utcnow,
    ):
        self.config = config
        self.database = database
        self.mappings = mappings
        self.clients = clients if clients is not None else {}
        self.clock = clock
        self.name = f"worker-{uuid.uuid4().hex[:8]}"

    def client(self, target: Target) -> VendorClient:
        """The target's client, answering its questions about account holders from the links."""
        client = self.clients.get(target.name)
        if client is None:
            client = self.clients[target.name] = client_for(target)
        client.claims = LinkClaims(self.database, target)
        return client

    # -- The loop ---------------------------------------------------------

    def run_once(self) -> int:
        """Deliver one batch per target; return how many entries were settled or rescheduled.

        A target whose round fails unexpectedly is logged and skipped, so that
        it never holds back the others; its claimed entries are retried when
        their lease expires.
        """
        settled = 0
        for target in self.config.targets:
            try:
                settled += self.deliver_due(target)
            except Exception:
                log.exception("%s: delivery round failed", target.name)
        return settled

    def run(self, stop: threading.Event, poll_seconds: float = 1.0) -> None:
        """Deliver until ``stop`` is set; sleep only when there was nothing to do."""
        while not stop.is_set():
            if not self.run_once():
                stop.wait(poll_seconds)
        for client in self.clients.values():
            client.close()

    def start(self, poll_seconds: float = 1.0) -> tuple[threading.Thread, threading.Event]:
        """Run in a daemon thread of the serving process (``scimbridge serve``'s default)."""
        stop = threading.Event()
        thread = threading.Thread(
            target=self.run, args=(stop, poll_seconds), name=self.name, daemon=True
        )
        thread.start()
        return thread, stop

    # -- One batch --------------------------------------------------------

    def deliver_due(self, target: Target) -> int:
        client = self.client(target)
        claimed = self._claim(target, client.max_batch, client.one_batch_at_a_time)
        if not claimed:
            return 0
        items, refused = self._items(target, claimed)
        outcomes = list(refused)
        for item in items:
            log.debug("%s: sending %s %s", target.name, item.action, json.dumps(item.record))
        sent = {item.key: item.record for item in items}
        if items:
            try:
                outcomes += client.deliver(items)
            except VendorUnavailable as unavailable:
                log.warning("%s: vendor unavailable (%s); will retry", target.name, unavailable)
                self._reschedule(target, claimed, sent, unavailable)
                return len(claimed)
        self._record(target, claimed, outcomes, sent)
        return len(claimed)

    def _claim(self, target: Target, limit: int, exclusive: bool = False) -> list[Claimed]:
        now = self.clock()
        lease = timedelta(seconds=target.delivery.lease_seconds)
        free = or_(outbox.c.claimed_until.is_(None), outbox.c.claimed_until < now)
        postgresql = self.database.engine.dialect.name == "postgresql"
        with self.database.transaction():
            session = self.database.session
            in_flight = select(outbox.c.link_id).where(
                outbox.c.target == target.name,
                outbox.c.state == "pending",
                outbox.c.claimed_until >= now,
            )
            if exclusive:
                if postgresql:
                    # Serialise the claims of this target, so that two workers never
                    # both find nothing in flight (released when the claim commits).
                    session.execute(select(func.pg_advisory_xact_lock(func.hashtext(target.name))))
                if session.execute(in_flight.limit(1)).first() is not None:
                    return []
            query = (
                select(
                    outbox,
                    links.c.vendor_id,
                    links.c.delivered_once,
                    links.c.vendor_record,
                    links.c.sent_at,
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
                query = query.with_for_update(skip_locked=True, of=outbox)
            newest: dict[str, Row[Any]] = {}
            for row in session.execute(query):
                newest[row.link_id] = row
            chosen = sorted(newest.values(), key=lambda row: row.seq)[:limit]
            for row in chosen:
                supersede_older(
                    session, row.link_id, row.seq, now, outbox.c.state == "pending", free
                )
            session.execute(
                update(outbox)
                .where(outbox.c.seq.in_([row.seq for row in chosen]))
                .values(claimed_by=self.name, claimed_until=now + lease)
            )
        return [
            Claimed(
                seq=row.seq,
                attempts=row.attempts,
                event=row.event,
                document=row.document,
                groups=row.groups,
                link_id=row.link_id,
                vendor_id=row.vendor_id,
                delivered_once=row.delivered_once,
                vendor_record=row.vendor_record,
                sent_at=row.sent_at,
            )
            for row in chosen
        ]

    def _items(
        self, target: Target, claimed: list[Claimed]
    ) -> tuple[list[DeliveryItem], list[Outcome]]:
        """Map every claimed entry; an import the mapping refuses fails for good."""
        mapping = self.mappings[target.name]
        items, settled = [], []
        for entry in claimed:
            context = MappingContext(
                stable_id=entry.link_id,
                vendor_id=entry.vendor_id,
                first_import=not entry.delivered_once,
                deleted=entry.event == "delete",
            )
            try:
                mapped = mapping.apply(entry.document, entry.groups, context)
            except UnmappableUser as refusal:
                fallback = self._unmapped_deprovision(mapping, entry, context, refusal)
                if isinstance(fallback, Outcome):
                    settled.append(fallback)
                    continue
                mapped = fallback
            items.append(
                DeliveryItem(
                    key=entry.link_id,
                    action=mapped.action,
                    record=mapped.record,
                    vendor_id=entry.vendor_id,
                    first_import=not entry.delivered_once,
                    previous=entry.vendor_record,
                    managed=mapped.managed,
                )
            )
        return items, settled

    @staticmethod
    def _unmapped_deprovision(
        mapping: Mapping, entry: Claimed, context: MappingContext, refusal: UnmappableUser
    ) -> MappedRecord | Outcome:
        """The deprovision of a user whose attributes no longer map (design.md: never refused).

        The vendor account is the one the vendor was last sent, so the deprovision
        rule's fields are laid over that record; a user the vendor was never sent
        has nothing there to deprovision. An import that does not map fails.
        """
        rule = mapping.rule_for(entry.document, context)
        if rule is None:
            return Outcome(key=entry.link_id, ok=False, error=refusal.detail)
        if entry.vendor_record is None:
            return Outcome(
                key=entry.link_id, ok=True, details={"skipped": "the vendor never had this user"}
            )
        return MappedRecord(rule.action, copy.deepcopy({**entry.vendor_record, **rule.overrides}))

    # -- Settling ---------------------------------------------------------

    def _record(
        self,
        target: Target,
        claimed: list[Claimed],
        outcomes: list[Outcome],
        sent: dict[str, dict[str, Any]],
    ) -> None:
        by_key = {outcome.key: outcome for outcome in outcomes}
        with self.database.transaction():
            for entry in claimed:
                outcome = by_key.get(entry.link_id) or Outcome(
                    key=entry.link_id,
                    ok=False,
                    retryable=True,
                    error="the vendor client reported nothing",
                )
                record = sent.get(entry.link_id)
                waiting = self._import_unconfirmed(target, entry, outcome)
                if waiting:
                    self._failed(target, entry, waiting, True, None, counted=False)
                elif outcome.ok:
                    self._delivered(target, entry, outcome, record)
                else:
                    if outcome.retryable:
                        self._may_hold(entry, record)
                    self._failed(
                        target,
                        entry,
                        outcome.error or "failed",
                        outcome.retryable,
                        outcome.retry_after,
                        counted=outcome.retry_after is None,
                    )

    def _import_unconfirmed(self, target: Target, entry: Claimed, outcome: Outcome) -> str | None:
        """Why a deprovision that found no user must look again, or None.

        The vendor's "no such user" is believed only once no import of the user can
        still land: an import sent without confirmation (a timeout, an asynchronous
        ACC import) is given ``delivery.unconfirmed_import_seconds`` to show up, so a
        deprovision never overtakes the import it follows.
        """
        if not (outcome.ok and "skipped" in outcome.details):
            return None
        if entry.delivered_once or entry.sent_at is None:
            return None
        age = (self.clock() - utc(entry.sent_at)).total_seconds()
        if age >= target.delivery.unconfirmed_import_seconds:
            return None
        return (
            f"the vendor does not show the user, but an import sent {age:.0f} s ago "
            "was never confirmed; looking again before deprovisioning is called done"
        )

    def _may_hold(self, entry: Claimed, record: dict[str, Any] | None) -> None:
        """Remember a record whose outcome is unknown: the vendor may hold it now."""
        if record is not None:
            self.database.session.execute(
                update(links)
                .where(links.c.id == entry.link_id)
                .values(vendor_record=record, sent_at=self.clock())
            )

    def _reschedule(
        self,
        target: Target,
        claimed: list[Claimed],
        sent: dict[str, dict[str, Any]],
        unavailable: VendorUnavailable,
    ) -> None:
        with self.database.transaction():
            for entry in claimed:
                self._may_hold(entry, sent.get(entry.link_id))
                self._failed(target, entry, str(unavailable), True, unavailable.retry_after)

    def _delivered(
        self, target: Target, entry: Claimed, outcome: Outcome, record: dict[str, Any] | None
    ) -> None:
        now = self.clock()
        session = self.database.session
        reference = next(iter(outcome.details.values()), None) if outcome.details else None
        session.execute(
            update(outbox)
            .where(outbox.c.seq == entry.seq)
            .values(
                state="delivered",
                done_at=now,
                claimed_until=None,
                last_error=None,
                attempts=entry.attempts + 1,
                vendor_ref=str(reference) if reference is not None else None,
            )
        )
        supersede_older(session, entry.link_id, entry.seq, now, outbox.c.state == "failed")
        vendor_id = outcome.vendor_id or entry.vendor_id
        skipped = "skipped" in outcome.details
        held = {} if record is None or skipped else {"vendor_record": record, "sent_at": now}
        session.execute(
            update(links)
            .where(links.c.id == entry.link_id)
            .values(
                vendor_id=vendor_id,
                delivered_once=entry.delivered_once or not skipped,
                status=self._status_after(entry, "delivered"),
                last_attempt=now,
                last_error=None,
                **held,
            )
        )
        if vendor_id:
            release_taken_over(session, target.name, entry.link_id, vendor_id)
        log.info(
            "%s: delivered %s %s (outbox #%d, vendor id %s)",
            target.name,
            entry.event,
            entry.document.get("userName"),
            entry.seq,
            vendor_id,
        )

    def _failed(
        self,
        target: Target,
        entry: Claimed,
        error: str,
        retryable: bool,
        retry_after: float | None,
        counted: bool = True,
    ) -> None:
        """Reschedule the entry, or park it once it failed for good.

        :param counted: False when nothing failed: the vendor asked to wait before the
            item was tried (a 429 in mid-batch), or a deprovision waits for an import to
            show; neither uses up an attempt.
        """
        now = self.clock()
        attempts = entry.attempts + 1 if counted else entry.attempts
        parked = not retryable or attempts >= target.delivery.max_attempts
        delay = retry_delay(max(attempts, 1), target.delivery, retry_after)
        session = self.database.session
        session.execute(
            update(outbox)
            .where(outbox.c.seq == entry.seq)
            .values(
                state="failed" if parked else "pending",
                attempts=attempts,
                next_attempt_at=now + timedelta(seconds=delay),
                claimed_until=None,
                last_error=error,
                done_at=now if parked else None,
            )
        )
        session.execute(
            update(links)
            .where(links.c.id == entry.link_id)
            .values(
                status=self._status_after(entry, "failed" if parked else "pending"),
                last_attempt=now,
                last_error=error,
            )
        )
        level = logging.ERROR if parked else logging.WARNING
        log.log(
            level,
            "%s: user %s (outbox #%d) attempt %d failed: %s",
            target.name,
            entry.document.get("userName"),
            entry.seq,
            attempts,
            error,
        )

    def _status_after(self, entry: Claimed, status: str) -> str:
        """A newer pending or held entry decides the user's status, whatever happened to this one."""
        newer = self.database.session.execute(
            select(outbox.c.state)
            .where(
                and_(
                    outbox.c.link_id == entry.link_id,
                    outbox.c.seq > entry.seq,
                    outbox.c.state.in_(("pending", "held")),
                )
            )
            .order_by(outbox.c.seq.desc())
        ).first()
        return newer.state if newer is not None else status
