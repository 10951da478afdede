"""Recording what the vendor did with each entry of a batch: delivered, rescheduled or parked.

Two kinds of failure are told apart (config ``Delivery``):

- *unavailable*: the vendor could not be reached or asked to wait (connection,
  timeout, 5xx, 429, a token it will not issue now, an import not confirmed yet).
  Nothing is wrong with the user, so nothing is counted: the entry backs off, the
  wait capped at ``max_backoff_seconds``, and is parked only once the vendor has been
  unavailable to it for ``give_up_after_seconds`` since its first failed try
  (``failing_since``): an outage of hours parks nobody.
- *failed*: the vendor refused the user, or delivering it raised an unexpected
  error. Counted in ``failures``; parked at ``max_attempts``.
- *credentials refused*: the vendor refused the bridge's own credentials. Not counted
  at all (neither ``attempts`` nor ``failures``) and never parked: the entry waits
  for the target's next login (:mod:`~scimbridge.delivery.recovery`).

Each try is also kept in the entry's ``history`` (the last :data:`HISTORY_KEPT`), with
its error, which a delivery keeps too: ``outbox list --history`` shows why an entry
took the tries it took.

Every write is fenced by the batch's claim (:func:`~scimbridge.delivery.claiming.still_held`):
the outcome of a worker whose entries were taken over is discarded and logged.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, and_, select, update
from sqlalchemy.orm import Session

from scimbridge.config import Target
from scimbridge.delivery.backoff import retry_delay
from scimbridge.delivery.claiming import Batch, Claimed, still_held
from scimbridge.delivery.ordering import supersede
from scimbridge.delivery.state import CREDENTIALS, CREDENTIALS_REFUSED, FAILED, UNAVAILABLE
from scimbridge.store import utc
from scimbridge.store.delivery_tables import links, outbox
from scimbridge.vendors.base import Outcome

log = logging.getLogger("scimbridge.delivery")


FORGOTTEN: dict[str, Any] = {
    "vendor_id": None,
    "vendor_record": None,
    "sent_at": None,
    "delivered_once": False,
    "mapping_fingerprint": None,
}
"""A link's account, forgotten once the vendor holds none of the user's."""
HISTORY_KEPT = 10
"""How many of an entry's tries its ``history`` keeps: the newest, enough to see what an
outage or a refusal did to it without the table growing with every retry."""


def first_imports_sent(session: Session, link_ids: list[str], now: datetime) -> None:
    """Mark the users never delivered among ``link_ids`` as sent an import ``now``: the
    vendor may hold them from this moment, whatever becomes of the worker sending it."""
    session.execute(
        update(links)
        .where(links.c.id.in_(link_ids), links.c.delivered_once.is_(False))
        .values(sent_at=now)
    )


class Settlement:
    """The settling of one batch, inside one transaction, at one moment ``now``."""

    def __init__(
        self,
        session: Session,
        target: Target,
        batch: Batch,
        now: datetime,
        fingerprint: str | None = None,
    ):
        """:param fingerprint: that of the mapping the batch's records were made with
        (:attr:`~scimbridge.mapping.Mapping.fingerprint`), kept with each record
        delivered, so that a later mapping change is noticed
        (:mod:`~scimbridge.delivery.redelivery`)."""
        self.session = session
        self.target = target
        self.batch = batch
        self.now = now
        self.fingerprint = fingerprint
        self.outcomes: Counter[str] = Counter()
        """What each entry came to (``scimbridge_deliveries_total``'s outcomes), counted by
        the worker once the settlement is committed."""

    def _write(self, entry: Claimed, **values: Any) -> bool:
        """Update the entry if the batch still holds it; False (and a log line) if not."""
        result = self.session.execute(
            update(outbox).where(outbox.c.seq == entry.seq, still_held(self.batch)).values(**values)
        )
        # an UPDATE's result is a CursorResult, which Session.execute types as a Result
        written = cast(CursorResult[Any], result).rowcount
        if not written:
            self.outcomes["discarded"] += 1
            log.warning(
                "%s: outcome for user %s (outbox #%d) discarded: the lease of batch %s ran "
                "out and another worker took the entry over",
                self.target.name,
                entry.document.get("userName"),
                entry.seq,
                self.batch.token,
            )
        return bool(written)

    def delivered(
        self,
        entry: Claimed,
        outcome: Outcome,
        record: dict[str, Any] | None,
        *,
        gone: bool = False,
    ) -> bool:
        """Record the delivery; False when the batch's claim no longer holds the entry.

        :param gone: the vendor holds no account of the user now (it was removed, or there
            was none to deprovision): the link forgets the account (:meth:`forget_account`).
        """
        skipped = "skipped" in outcome.details
        reference = None if skipped else next(iter(outcome.details.values()), None)
        vendor_id = outcome.vendor_id or entry.vendor_id
        if not self._write(
            entry,
            state="delivered",
            done_at=self.now,
            claimed_by=None,
            claimed_until=None,
            outage=False,
            attempts=entry.attempts + 1,
            last_attempt_at=self.now,
            history=self.tried(entry, "delivered"),
            vendor_ref=str(reference) if reference is not None else None,
            delivered_vendor_id=vendor_id,
        ):
            return False
        supersede(self.session, "delivered", [entry.link_id], entry.seq, self.now)
        held = (
            {}
            if record is None or skipped
            else {
                "vendor_record": record,
                "sent_at": self.now,
                "mapping_fingerprint": self.fingerprint,
            }
        )
        account = (
            FORGOTTEN
            if gone
            else {"vendor_id": vendor_id, "delivered_once": entry.delivered_once or not skipped}
        )
        self.session.execute(
            update(links)
            .where(links.c.id == entry.link_id)
            .values(
                status=self._status_after(entry, "delivered"),
                last_attempt=self.now,
                last_error=None,
                **{**held, **account},
            )
        )
        self.outcomes["delivered"] += 1
        log.info(
            "%s: delivered %s %s (outbox #%d, vendor id %s)",
            self.target.name,
            entry.event,
            entry.document.get("userName"),
            entry.seq,
            vendor_id,
        )
        return True

    def forget_account(self, entry: Claimed) -> bool:
        """The vendor holds no account of the user any more: it was removed, or retired for
        an identity change (:mod:`~scimbridge.delivery.identity`). The link forgets it, so
        that the user's next import provisions a new account and never addresses the old
        one, whose keys another person may hold by then. False when the batch's claim no
        longer holds the entry."""
        held = self.session.execute(
            select(outbox.c.seq).where(outbox.c.seq == entry.seq, still_held(self.batch))
        ).first()
        if held is None:
            return False
        self.session.execute(update(links).where(links.c.id == entry.link_id).values(**FORGOTTEN))
        return True

    def failed(
        self,
        entry: Claimed,
        error: str,
        kind: str,
        retry_after: float | None = None,
        record: dict[str, Any] | None = None,
        outage: bool = False,
    ) -> None:
        """Reschedule the entry, or park it once it has failed for good.

        :param kind: :data:`UNAVAILABLE` or :data:`FAILED` (the module docstring).
        :param record: the record sent, when the vendor may have applied it (a timeout):
            remembered as what the vendor may hold.
        :param outage: the vendor was out and named no wait: the entry is due again as soon
            as the vendor answers (:func:`~scimbridge.delivery.recovery.wake`).
        """
        policy = self.target.delivery
        attempts = entry.attempts + 1
        failures = entry.failures + (kind == FAILED)
        # time the credentials were refused is not time the vendor was unavailable
        since = entry.failing_since if entry.error_kind != CREDENTIALS else None
        failing_since = utc(since) if since else self.now
        if kind == FAILED:
            parked = failures >= policy.max_attempts
        else:
            failing = (self.now - failing_since).total_seconds()
            parked = failing >= policy.give_up_after_seconds
            if parked:
                error += (
                    f" (given up: the vendor has been unavailable to this entry for "
                    f"{failing / 3600:.1f} hours; delivery.give_up_after_seconds)"
                )
        delay = retry_delay(attempts, policy, retry_after)
        if not self._write(
            entry,
            state="failed" if parked else "pending",
            attempts=attempts,
            last_attempt_at=self.now,
            failures=failures,
            failing_since=failing_since,
            next_attempt_at=self.now + timedelta(seconds=delay),
            claimed_by=None,
            claimed_until=None,
            last_error=error,
            error_kind=kind,
            outage=outage and kind == UNAVAILABLE and not parked,
            done_at=self.now if parked else None,
            history=self.tried(entry, kind, error),
        ):
            return
        self._may_hold(entry, record)
        self.session.execute(
            update(links)
            .where(links.c.id == entry.link_id)
            .values(
                status=self._status_after(entry, "failed" if parked else "pending"),
                last_attempt=self.now,
                last_error=error,
            )
        )
        self.outcomes["parked" if parked else "retried" if kind == FAILED else "unavailable"] += 1
        level = logging.ERROR if parked else logging.WARNING
        log.log(
            level,
            "%s: user %s (outbox #%d) %s: %s",
            self.target.name,
            entry.document.get("userName"),
            entry.seq,
            "parked as failed" if parked else f"will be tried again in {delay:.0f} s",
            error,
        )

    def refused(self, entry: Claimed, error: str, until: datetime) -> None:
        """The vendor refused the bridge's credentials: the entry waits, uncounted, until the
        target's next login ``until`` (:mod:`~scimbridge.delivery.recovery`), and is never
        parked for it. ``failing_since`` says since when the credentials are refused."""
        since = entry.failing_since if entry.error_kind == CREDENTIALS else None
        if not self._write(
            entry,
            next_attempt_at=until,
            last_attempt_at=self.now,
            failing_since=utc(since) if since else self.now,
            claimed_by=None,
            claimed_until=None,
            last_error=error,
            error_kind=CREDENTIALS,
            outage=False,
            history=self.tried(entry, CREDENTIALS_REFUSED, error),
        ):
            return
        self.session.execute(
            update(links)
            .where(links.c.id == entry.link_id)
            .values(status=self._status_after(entry, "pending"), last_error=error)
        )
        self.outcomes["credentials_refused"] += 1

    def tried(self, entry: Claimed, outcome: str, error: str | None = None) -> list[dict[str, Any]]:
        """The entry's history with this try added: when, what came of it (``delivered``,
        :data:`UNAVAILABLE`, :data:`FAILED` or :data:`CREDENTIALS_REFUSED`) and its error."""
        tried = {"at": self.now.isoformat(), "outcome": outcome, "error": error}
        return [*(entry.history or []), tried][-HISTORY_KEPT:]

    def released(self, entry: Claimed, record: dict[str, Any] | None) -> None:
        """Give the entry back, due now and uncounted: the worker stopped before an outcome."""
        if self._write(entry, claimed_until=None, claimed_by=None, next_attempt_at=self.now):
            self.outcomes["given_back"] += 1
            self._may_hold(entry, record)

    def _may_hold(self, entry: Claimed, record: dict[str, Any] | None) -> None:
        """Remember a record whose outcome is unknown: the vendor may hold it now."""
        if record is not None:
            self.session.execute(
                update(links)
                .where(links.c.id == entry.link_id)
                .values(vendor_record=record, sent_at=self.now)
            )

    def _status_after(self, entry: Claimed, status: str) -> str:
        """A newer pending or held entry decides the user's status, whatever happened to this one."""
        newer = self.session.execute(
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
