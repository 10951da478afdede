"""The read side of delivery: claim due outbox entries, map them, send them, record the outcome.

The worker is safe to run as several threads or processes at once, and to
kill at any moment:

- entries are *claimed* with a lease (:mod:`~scimbridge.delivery.claiming`),
  checked before every vendor request and renewed while the vendor keeps the worker
  waiting (a request in flight included); a worker killed mid-batch
  leaves a lease that runs out, and the next worker delivers the entry again:
  every vendor client looks a user up before creating it, or on the vendor's
  "already exists", so a repeated import updates the user it created
  (tests/vendors, "delivered twice");
- per user, only the newest pending entry is delivered: it carries the whole
  user, so it supersedes the older ones (never the other way round); a user
  with an entry in flight is left alone until that entry is settled, and no
  entry older than one claimed for the user is ever claimed (not even one
  ``outbox retry`` queued again), so one user's changes are never reordered,
  across workers too (:mod:`~scimbridge.delivery.ordering`);
- which vendor account an entry goes to is decided before anything is sent
  (:mod:`~scimbridge.delivery.identity`): each account key value is one user's, and
  an identity change deprovisions the old account before the new one is provisioned;
- every outcome is recorded only while the batch's claim still holds
  (:mod:`~scimbridge.delivery.settling`): a worker that comes back after its
  lease was taken over never overwrites the newer outcome;
- a vendor that is unavailable fails nobody: its entries back off until it is
  back (or until ``give_up_after_seconds``), and its first answer after the outage
  makes them all due at once (:mod:`~scimbridge.delivery.recovery`); a vendor that
  refuses the bridge's own credentials fails nobody either: the target waits, uncounted,
  for a login that succeeds; a user the vendor refuses, or whose
  delivery raises an unexpected error, fails alone and is parked at
  ``max_attempts``, never holding back the others;
- a worker asked to stop (SIGTERM) stops waiting on the vendor and sends it nothing
  more, even in the middle of a batch, gives its batch back uncounted and exits;
- a vendor that runs one import at a time per tenant (Rocket.Chat) gets one
  batch at a time: no claim while another batch of the target is in flight.
"""

from __future__ import annotations

import copy
import itertools
import json
import logging
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy.exc import OperationalError

from scimbridge.config import BridgeConfig, Target
from scimbridge.delivery.choosing import NEVER_SENT, choose, never_sent
from scimbridge.delivery.claiming import Batch, Claimed, Lease, claim_due, gathering
from scimbridge.delivery.claims import LinkUsers
from scimbridge.delivery.identity import Reservations, Resolution, backfill, resolve
from scimbridge.delivery.loops import TargetLoops
from scimbridge.delivery.recovery import (
    Probes,
    accepted,
    login_retry,
    probe,
    refused,
    refused_until,
    refusing,
    wake,
)
from scimbridge.delivery.redelivery import Redelivery
from scimbridge.delivery.retention import purge
from scimbridge.delivery.settling import Settlement, first_imports_sent
from scimbridge.delivery.state import CREDENTIALS, FAILED, UNAVAILABLE
from scimbridge.delivery.wanted import Directory
from scimbridge.mapping import Action, MappedRecord, Mapping, MappingContext, UnmappableUser
from scimbridge.mapping.redaction import redacted_view
from scimbridge.observability.logs import log_fields, working_for
from scimbridge.observability.metrics import DeliveryMetrics
from scimbridge.reconcile.checks import DriftCheck
from scimbridge.store import Database, utc
from scimbridge.vendors import client_for
from scimbridge.vendors.base import (
    CredentialsRefused,
    DeliveryItem,
    Interrupted,
    Outcome,
    VendorClient,
    VendorUnavailable,
)
from scimbridge.vendors.http import chunked, failed, postponed

log = logging.getLogger("scimbridge.delivery")

Clock = Callable[[], datetime]
PURGE_INTERVAL_SECONDS = 3600.0
"""How often a worker drops the user snapshots past their retention (``delivery.retention_seconds``)."""
SETTLE_CHUNK = 500
"""Entries settled in one transaction: a batch of 10,000 settled in one would hold SQLite's
write lock for seconds, past ``busy_timeout``, and the IdP's writes meanwhile would fail.
Each entry's settle stands on its own (its claim is checked as it is written)."""
BUSY_PURGE_RETRY_SECONDS = 60.0
"""When the purge found the database locked by another writer (SQLite, beside a long SCIM
Bulk request): how soon it is tried again."""


def stop_bound_seconds(config: BridgeConfig) -> float:
    """How long a stopping worker may take: a vendor call in flight, then the settle."""
    return max(target.delivery.timeout_seconds for target in config.targets) + 5


class Worker:
    """Delivers the outbox of every target; one instance per thread or process."""

    def __init__(
        self,
        config: BridgeConfig,
        database: Database,
        mappings: dict[str, Mapping],
        clients: dict[str, VendorClient] | None = None,
        clock: Clock | None = None,
        metrics: DeliveryMetrics | None = None,
        directories: dict[str, Directory] | None = None,
    ):
        """:param clock: the time leases and retries are reckoned in; by default the
        database's clock, which every host running a worker shares.
        :param metrics: where outcomes and vendor calls are counted (the bridge's, on its
            ``/metrics``); by default a registry nobody reads.
        :param directories: each target's stored users (``Bridge.directories``), for the
            scheduled drift check (``reconcile.interval_seconds``) and the redelivery after a
            mapping change (``delivery.redeliver_on_mapping_change``); without them, none."""
        self.config = config
        self.database = database
        self.mappings = mappings
        self.clients = clients if clients is not None else {}
        self.clock = clock or database.now
        self.metrics = metrics or DeliveryMetrics()
        self.name = f"worker-{uuid.uuid4().hex[:8]}"
        self.stopping = threading.Event()
        """Set to stop: the worker claims nothing more and gives back the batch in hand."""
        self._batches = itertools.count(1)
        self._next_purge = 0.0
        self._backfilled: set[str] = set()
        self.directories = directories or {}
        self.redelivery = Redelivery()
        self.probes = Probes()
        self.drift_checks = {
            target.name: DriftCheck(
                database,
                target,
                mappings[target.name],
                directories[target.name],
                self.clock,
                self.name,
            )
            for target in config.targets
            if directories and target.reconcile.interval_seconds is not None
        }

    def client(self, target: Target, slot: int = 0) -> VendorClient:
        """The client of one of the target's loops (a client serves one thread), answering
        its questions about account holders from the links."""
        key = target.name if slot == 0 else f"{target.name}#{slot}"
        client = self.clients.get(key)
        if client is None:
            client = self.clients[key] = client_for(target)
            client.share(target.delivery.concurrency)
        client.bridge_users = LinkUsers(self.database, target)
        client.calls = self.metrics.vendor_calls(target.name, client.vendor)
        return client

    # -- The loop ---------------------------------------------------------

    def run_once(self) -> int:
        """Deliver one batch per target; return how many entries were settled or rescheduled.

        A target whose round fails unexpectedly (its database unreachable) is logged
        and skipped, so that it never holds back the others; its claimed entries are
        retried when their lease runs out.
        """
        settled = 0
        for target in self.config.targets:
            if self.stopping.is_set():
                break
            try:
                with log_fields(target=target.name, vendor=target.vendor):
                    settled += self.deliver_due(target)
            except Exception:
                log.exception("%s: delivery round failed", target.name)
        self._purge_when_due()
        return settled

    def run(self, stop: threading.Event | None = None, poll_seconds: float = 1.0) -> None:
        """Deliver until ``stop`` is set, each target in loops of its own
        (:mod:`~scimbridge.delivery.loops`): a slow or hanging vendor holds back only its own
        target. A loop sleeps only when its target had nothing due."""
        if stop is not None:
            self.stopping = stop
        loops = TargetLoops(
            self.config.targets,
            self._round,
            self.stopping,
            poll_seconds,
            on_restart=self.metrics.loop_restarted,
            on_running=self.metrics.loops_running,
        )
        try:
            loops.run(every_watch=self._purge_when_due)
        finally:
            loops.join(self.stop_bound_seconds())
            for client in self.clients.values():
                client.close()

    def _round(self, target: Target, slot: int) -> int:
        """One round of a target's loop. A database that stayed locked by another writer for
        the whole ``busy_timeout`` (SQLite, beside a long Bulk request) is an idle round:
        the loop looks again after its pause, and neither dies nor logs a traceback."""
        try:
            return self.deliver_due(target, slot, gather=True)
        except OperationalError as error:
            if not self.database.busy(error):
                raise
            log.warning("%s: the database is locked by another writer; trying again", target.name)
            return 0

    def stop_bound_seconds(self) -> float:
        return stop_bound_seconds(self.config)

    def start(self, poll_seconds: float = 1.0) -> tuple[threading.Thread, threading.Event]:
        """Run in a daemon thread of the serving process (``scimbridge serve``'s default)."""
        thread = threading.Thread(
            target=self.run, args=(None, poll_seconds), name=self.name, daemon=True
        )
        thread.start()
        return thread, self.stopping

    def _purge_when_due(self) -> None:
        if time.monotonic() < self._next_purge:
            return
        self._next_purge = time.monotonic() + PURGE_INTERVAL_SECONDS
        for target in self.config.targets:
            try:
                with self.database.transaction() as session:
                    purge(session, target, self.clock())
            except OperationalError as error:
                if not self.database.busy(error):
                    log.exception("%s: purging old outbox snapshots failed", target.name)
                    continue
                log.warning(
                    "%s: the database is locked by another writer; purging later", target.name
                )
                self._next_purge = time.monotonic() + BUSY_PURGE_RETRY_SECONDS
            except Exception:
                log.exception("%s: purging old outbox snapshots failed", target.name)

    # -- One batch --------------------------------------------------------

    def deliver_due(self, target: Target, slot: int = 0, gather: bool = False) -> int:
        """Deliver one batch of the target's due entries, with the client of loop ``slot``;
        return how many entries were settled or rescheduled (0: nothing was due).

        :param gather: let a partial batch gather while the IdP is still writing
            (``delivery.gather_seconds``, :func:`~scimbridge.delivery.claiming.gathering`),
            as the serving loops do; a direct call claims what is due at once."""
        client = self.client(target, slot)
        if target.name not in self._backfilled:
            backfill(self.database, target, client)
            self._backfilled.add(target.name)
        limit = self._claim_limit(target, client)
        with self.database.transaction(writing=False) as session:
            if refused_until(session, target, self.clock()):
                return 0  # the vendor refuses the credentials: wait for the next login
        if gather and gathering(self.database, target, limit, self.clock()):
            return 0
        batch = self._claim(target, limit, client.one_batch_at_a_time)
        if not batch.entries:
            client.run_ended()
            if slot == 0:
                self._probe(target)
                self._idle_round(target, client)
            return 0
        lease = Lease(self.database, target, batch, self.clock, self.stopping)
        with client.holding(lease):
            self._deliver(target, batch, client)
        return len(batch.entries)

    def _probe(self, target: Target) -> None:
        """Every :data:`~scimbridge.delivery.recovery.PROBE_SECONDS` while nothing is due,
        make one entry an outage postponed due: is the vendor back?"""
        now = self.clock()
        if self.probes.due(target, now):
            with self.database.transaction() as session:
                probe(session, target, now)

    def _idle_round(self, target: Target, client: VendorClient) -> None:
        """What the target's first loop does in a round with nothing to deliver: redeliver
        after a mapping change (:mod:`~scimbridge.delivery.redelivery`), and go on with the
        scheduled drift check (:mod:`~scimbridge.reconcile.checks`), whose failure is logged
        and tried again at a later round."""
        directory = self.directories.get(target.name)
        if directory is not None:
            mapping = self.mappings[target.name]
            self.redelivery.run(self.database, target, mapping, directory, client)
        check = self.drift_checks.get(target.name)
        if check is None:
            return
        try:
            check.step(client, self.stopping.is_set)
        except Interrupted:
            return
        except Exception:
            log.exception("%s: the drift check failed; trying again later", target.name)

    def _deliver(self, target: Target, batch: Batch, client: VendorClient) -> None:
        """Choose, resolve, send and record one claimed batch; a batch interrupted is given
        back. The old accounts of identity changes go first (:mod:`.identity`): a user whose
        old account could not be deprovisioned is not provisioned anew, so the vendor never
        holds both active."""
        try:
            mapped, outcomes = self._items(target, batch.entries, client)
        except Interrupted as interruption:
            log.warning("%s: batch %s given back: %s", target.name, batch.token, interruption)
            self._give_back(target, batch, {})
            return
        except CredentialsRefused as refusal:
            self._record(target, batch, [], {}, {}, Resolution(), client.redact(str(refusal)))
            return
        entries = {entry.link_id: entry for entry in batch.entries}
        resolution = resolve(
            self.database,
            target,
            client,
            self.mappings[target.name],
            [(entries[item.key], item) for item in mapped],
        )
        outcomes += resolution.settled
        items = resolution.sending
        for item in items:
            with self._working_on(entries[item.key]):
                shown = json.dumps(redacted_view(item.record))  # a `redact` value never shows
                log.debug("%s: sending %s %s", target.name, item.action, shown)
        retired: dict[str, DeliveryItem] = {}
        sent: dict[str, dict[str, Any]] = {}
        now = self.clock()
        with self._sending([entries[item.key] for item in items]):
            if items:
                log.info(
                    "%s: sending %d user(s) to %s (outbox %s)",
                    target.name,
                    len(items),
                    client.vendor,
                    ", ".join(f"#{entries[item.key].seq}" for item in items),
                )
            try:
                for old, outcome in self._retire(client, resolution.retiring):
                    waiting = self._import_unconfirmed(target, entries[old.key], outcome, now)
                    if outcome.ok and not waiting:
                        retired[old.key] = old
                        continue
                    outcomes.append(failed(old, waiting, retryable=True) if waiting else outcome)
                    items = [item for item in items if item.key != old.key]
                sent = {item.key: item.record for item in items}
                self._first_imports_going_out(items)
                outcomes += self._send(client, items)
            except Interrupted as interruption:
                log.warning("%s: batch %s given back: %s", target.name, batch.token, interruption)
                self._give_back(target, batch, sent, retired, resolution)
                return
            except VendorUnavailable as unavailable:
                log.warning("%s: vendor unavailable (%s); will retry", target.name, unavailable)
                outcomes += [postponed(item, unavailable) for item in items]
            except CredentialsRefused as refusal:
                refusal_text = client.redact(str(refusal))
                self._record(target, batch, outcomes, sent, retired, resolution, refusal_text)
                return
        self._record(target, batch, outcomes, sent, retired, resolution)

    def _first_imports_going_out(self, items: list[DeliveryItem]) -> None:
        """Record, before they are sent, that first imports go out: a worker killed while the
        vendor acts on one (ACC's asynchronous import) leaves the link saying so, and a
        deprovision that then finds no account waits for the import to land
        (:meth:`_import_unconfirmed`) instead of calling the user done."""
        first = [item.key for item in items if item.action is Action.IMPORT and item.first_import]
        if first:
            with self.database.transaction() as session:
                first_imports_sent(session, first, self.clock())

    def _retire(
        self, client: VendorClient, old_accounts: list[DeliveryItem]
    ) -> list[tuple[DeliveryItem, Outcome]]:
        """Deprovision the old accounts of identity changes; each with its outcome."""
        if not old_accounts:
            return []
        by_key = {outcome.key: outcome for outcome in self._send(client, old_accounts)}
        return [(old, by_key[old.key]) for old in old_accounts]

    @staticmethod
    def _claim_limit(target: Target, client: VendorClient) -> int:
        """The most entries one batch takes: what the client takes in one delivery, at most
        the target's ``delivery.batch_size``."""
        limit = client.claim_size or client.max_batch
        return min(limit, target.delivery.batch_size or limit)

    def _claim(self, target: Target, limit: int, exclusive: bool = False) -> Batch:
        token = f"{self.name}/{next(self._batches)}"
        return claim_due(self.database, target, limit, exclusive, token, self.clock())

    def _send(self, client: VendorClient, items: list[DeliveryItem]) -> list[Outcome]:
        """The client's outcomes; an unexpected error fails only the item that raises it.

        A batch that raises is halved until the item that raises stands alone (the
        clients are idempotent, so the others may be sent again): a bug triggered by
        one user's data never holds back the rest of the target.
        """
        try:
            return client.deliver(items)
        except (VendorUnavailable, CredentialsRefused, Interrupted):
            raise
        except Exception as error:
            if len(items) == 1:
                log.exception("%s: delivering user %s raised", client.vendor, items[0].key)
                return [unexpected_outcome(client, items[0], error)]
        middle = len(items) // 2
        outcomes: list[Outcome] = []
        for half in (items[:middle], items[middle:]):
            try:
                outcomes += self._send(client, half)
            except VendorUnavailable as unavailable:
                if not outcomes:
                    raise
                outcomes += [postponed(item, unavailable) for item in half]
        return outcomes

    def _items(
        self, target: Target, claimed: list[Claimed], client: VendorClient
    ) -> tuple[list[DeliveryItem], list[Outcome]]:
        """Map every claimed entry, and choose its ``first_available`` values with the vendor
        (:mod:`~scimbridge.delivery.choosing`). An import the mapping refuses fails; so does
        an entry whose mapping raises an unexpected error (a mapping bug), alone.

        :raises Interrupted: when the batch must be given back while the vendor is asked.
        """
        mapping = self.mappings[target.name]
        entries = {entry.link_id: entry for entry in claimed}
        mapped: dict[str, tuple[Claimed, MappedRecord]] = {}
        settled: list[Outcome] = []
        for entry in claimed:
            try:
                with self._working_on(entry):
                    result = self._mapped(mapping, entry)
            except Exception as error:
                with self._working_on(entry):
                    log.exception("%s: mapping outbox #%d raised", target.name, entry.seq)
                result = Outcome(
                    key=entry.link_id,
                    ok=False,
                    error=f"unexpected error while mapping the user: {type(error).__name__}: {error}",
                )
            if isinstance(result, Outcome):
                settled.append(result)
            else:
                mapped[entry.link_id] = (entry, result)
        items = []
        results = choose(self.database, client, target, mapped, self._working_on)
        for key in mapped:  # in claim order
            chosen = results[key]
            if isinstance(chosen, Outcome):
                settled.append(chosen)
                continue
            entry = entries[key]
            items.append(
                DeliveryItem(
                    key=key,
                    action=chosen.action,
                    record=chosen.record,
                    vendor_id=entry.vendor_id,
                    first_import=not entry.delivered_once,
                    previous=entry.vendor_record,
                    managed=chosen.managed,
                )
            )
        return items, settled

    def _mapped(self, mapping: Mapping, entry: Claimed) -> MappedRecord | Outcome:
        context = MappingContext(
            stable_id=entry.link_id,
            vendor_id=entry.vendor_id,
            first_import=not entry.delivered_once,
            deleted=entry.event == "delete",
            chosen=entry.chosen,
        )
        try:
            return mapping.apply(entry.document, entry.groups, context)
        except UnmappableUser as refusal:
            return self._unmapped_deprovision(mapping, entry, context, refusal)

    @staticmethod
    def _unmapped_deprovision(
        mapping: Mapping, entry: Claimed, context: MappingContext, refusal: UnmappableUser
    ) -> MappedRecord | Outcome:
        """The deprovision of a user whose attributes no longer map (docs/architecture.md: never refused).

        The vendor account is the one the vendor was last sent, so the deprovision
        rule's fields are laid over that record (over nothing where no record is kept:
        the client finds the account by its vendor id); a user nothing was ever sent of
        (:func:`~scimbridge.delivery.choosing.never_sent`) has nothing there to
        deprovision. An import that does not map fails.
        """
        rule = mapping.rule_for(entry.document, context)
        if rule is None:
            return Outcome(key=entry.link_id, ok=False, error=refusal.detail)
        if never_sent(entry):
            return Outcome(key=entry.link_id, ok=True, details=dict(NEVER_SENT))
        sent = entry.vendor_record or {}
        return MappedRecord(rule.action, copy.deepcopy({**sent, **rule.overrides}))

    # -- Settling ---------------------------------------------------------

    def _record(
        self,
        target: Target,
        batch: Batch,
        outcomes: list[Outcome],
        sent: dict[str, dict[str, Any]],
        retired: dict[str, DeliveryItem],
        resolution: Resolution,
        refusal: str | None = None,
    ) -> None:
        """Settle the batch's outcomes, then what they say of the vendor: its credentials
        refused (``refusal``: every entry without an outcome of its own waits for a login),
        or its answer, which wakes the entries waiting on it (:mod:`.recovery`)."""
        by_key = {outcome.key: outcome for outcome in outcomes}
        now = self.clock()
        actions = {item.key: item.action for item in resolution.sending}
        fingerprint = self.mappings[target.name].fingerprint
        counted: Counter[str] = Counter()
        with self.database.transaction(writing=False) as session:
            was_refusing = refusing(session, target)
        retry_at = login_retry(target, self._refused_since(batch), now)
        for entries in chunked(batch.entries, SETTLE_CHUNK):
            with self.database.transaction() as session:
                settle = Settlement(session, target, batch, now, fingerprint)
                reservations = Reservations(session, target)
                for entry in entries:
                    outcome = by_key.get(entry.link_id) or Outcome(
                        key=entry.link_id,
                        ok=False,
                        error=refusal or "the vendor client reported nothing",
                        retryable=refusal is not None,
                    )
                    if refusal is not None and outcome.retryable:
                        with self._working_on(entry):
                            settle.refused(entry, refusal, retry_at)
                        continue
                    with self._working_on(entry):
                        if entry.link_id in retired:
                            entry = self._retired(
                                settle, reservations, entry, retired[entry.link_id], resolution
                            )
                        self._settle(
                            settle,
                            reservations,
                            entry,
                            outcome,
                            sent.get(entry.link_id),
                            resolution,
                            actions.get(entry.link_id),
                        )
            counted += settle.outcomes
        retries = sum(1 for entry in batch.entries if entry.attempts)
        self.metrics.settled(target, counted, retries)
        if refusal is not None:
            refused(target, refusal, was_refusing, retry_at)
        elif any(self._answered(by_key.get(key)) for key in sent) or retired:
            with self.database.transaction() as session:
                wake(session, target, now)
            accepted(target, was_refusing)

    @staticmethod
    def _answered(outcome: Outcome | None) -> bool:
        """Whether the outcome of an item sent is the vendor's answer: it accepted the item or
        refused it for good (an outage or a wait postpones it)."""
        return outcome is not None and (outcome.ok or not outcome.retryable)

    @staticmethod
    def _refused_since(batch: Batch) -> datetime | None:
        """Since when the vendor refuses the credentials, as the batch's entries remember it."""
        since = [
            utc(entry.failing_since)
            for entry in batch.entries
            if entry.error_kind == CREDENTIALS and entry.failing_since
        ]
        return min(since, default=None)

    def _settle(
        self,
        settle: Settlement,
        reservations: Reservations,
        entry: Claimed,
        outcome: Outcome,
        record: dict[str, Any] | None,
        resolution: Resolution,
        action: Action | None,
    ) -> None:
        """Record one entry's outcome: delivered (its account keys settled), rescheduled, or
        failed; a deprovision that found no user waits for an import still unconfirmed."""
        waiting = self._import_unconfirmed(settle.target, entry, outcome, settle.now)
        if waiting:
            settle.failed(entry, waiting, UNAVAILABLE)
        elif outcome.ok:
            found = "skipped" not in outcome.details
            gone = not found or action is Action.REMOVE
            if settle.delivered(entry, outcome, record, gone=gone) and action:
                reservations.settled(
                    entry.link_id,
                    action,
                    resolution.keys[entry.link_id],
                    resolution.previous_keys[entry.link_id],
                    found=found,
                )
        elif outcome.retryable:
            settle.failed(
                entry,
                outcome.error or "failed",
                UNAVAILABLE,
                outcome.retry_after,
                record,
                outage=outcome.retry_after is None,
            )
        else:
            settle.failed(entry, outcome.error or "failed", FAILED)

    @staticmethod
    def _retired(
        settle: Settlement,
        reservations: Reservations,
        entry: Claimed,
        old: DeliveryItem,
        resolution: Resolution,
    ) -> Claimed:
        """Record that the old account of an identity change was deprovisioned: the user has
        no vendor account now but the one its entry provisions."""
        if settle.forget_account(entry):
            reservations.retired(entry.link_id, old.action, resolution.old_keys[entry.link_id])
            log.info(
                "%s: the old account of %s (vendor id %s) was deprovisioned for an identity change",
                settle.target.name,
                entry.document.get("userName"),
                entry.vendor_id,
            )
        return replace(
            entry, vendor_id=None, vendor_record=None, delivered_once=False, sent_at=None
        )

    def _give_back(
        self,
        target: Target,
        batch: Batch,
        sent: dict[str, dict[str, Any]],
        retired: dict[str, DeliveryItem] | None = None,
        resolution: Resolution | None = None,
    ) -> None:
        """Release what the batch still holds, uncounted; what was sent may be at the vendor,
        and an old account deprovisioned is recorded as such."""
        with self.database.transaction() as session:
            settle = Settlement(session, target, batch, self.clock())
            reservations = Reservations(session, target)
            for entry in batch.entries:
                with self._working_on(entry):
                    if retired and resolution and entry.link_id in retired:
                        entry = self._retired(
                            settle, reservations, entry, retired[entry.link_id], resolution
                        )
                    settle.released(entry, sent.get(entry.link_id))
        self.metrics.settled(target, settle.outcomes, 0)

    @staticmethod
    def _working_on(entry: Claimed) -> AbstractContextManager[None]:
        """Log lines name the entry and its user, with the id of the SCIM request that wrote it."""
        return working_for(
            entry.request_id,
            seq=entry.seq,
            scim_id=entry.document.get("id"),
            user_name=entry.document.get("userName"),
        )

    @staticmethod
    def _sending(entries: list[Claimed]) -> AbstractContextManager[None]:
        """Log lines about a vendor call carrying ``entries``: one entry's own context; for
        several, their seqs and request ids (and the request id they share, if they do)."""
        if len(entries) == 1:
            return Worker._working_on(entries[0])
        requests = {entry.request_id for entry in entries}
        return working_for(
            next(iter(requests)) if len(requests) == 1 else None,
            seqs=[entry.seq for entry in entries],
            request_ids=sorted(request for request in requests if request),
        )

    @staticmethod
    def _import_unconfirmed(
        target: Target, entry: Claimed, outcome: Outcome, now: datetime
    ) -> str | None:
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
        age = (now - utc(entry.sent_at)).total_seconds()
        if age >= target.delivery.unconfirmed_import_seconds:
            return None
        return (
            f"the vendor does not show the user, but an import sent {age:.0f} s ago "
            "was never confirmed; looking again before deprovisioning is called done"
        )


def unexpected_outcome(client: VendorClient, item: DeliveryItem, error: Exception) -> Outcome:
    """The item failed on an error nobody foresaw (a bug): counted, and shown to the admin."""
    detail = client.redact(f"{type(error).__name__}: {error}")
    return failed(item, f"unexpected error while delivering to {client.vendor}: {detail}")
