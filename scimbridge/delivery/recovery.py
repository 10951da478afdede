"""How a target's delivery comes back: after a vendor outage, and after a refusal of the
bridge's own credentials.

Each entry postponed by an outage keeps its own backoff, up to
``delivery.max_backoff_seconds`` (15 minutes by default): left alone, a vendor back after
a short outage would get its users a quarter of an hour later. So the target's entries
waiting on the vendor are woken together, by one rule (:func:`wake`): the first answer of
the vendor after the outage (a delivery it accepted or refused, not one the bridge settled
by itself) makes every entry the outage postponed due at once. They are then claimed in
batches as usual, and paced to the vendor's rate limits by its client
(:mod:`~scimbridge.vendors.pacing`): waking them never sends more than the vendor takes.
An entry whose wait the vendor named (a 429's reset, ``Retry-After``) is not woken: that
wait is when the vendor takes calls again (:mod:`~scimbridge.delivery.backoff`).

While every entry of an outage is backing off, nothing is due, so nothing would find out
the vendor is back: the target's first loop, idle, then makes the entry due soonest due
now, at most every :data:`PROBE_SECONDS` (:func:`probe`). Its delivery is the probe: a real
one, with nothing to undo, whose success wakes the rest.

A vendor that refuses the bridge's credentials (:class:`~scimbridge.vendors.base.CredentialsRefused`)
puts the target in the state ``credentials refused``: the batch's entries wait, uncounted
and never parked (:meth:`~scimbridge.delivery.settling.Settlement.refused`), for the
target's next login, at most :data:`LOGIN_RETRY_SECONDS` later (:func:`login_retry`),
and until then the target claims nothing (:func:`refused_until`): one login per retry,
whatever the backlog, so that a wrong password never locks the bridge's vendor account out
with a login per batch. The state lives in the outbox (``error_kind`` ``credentials``), so
``scimbridge status``, the Status endpoint, ``/readyz`` and the metrics show it whichever
process delivers, and every worker waits for the same retry. The worker logs one line when
the state begins and one when it ends (:func:`refused`, :func:`accepted`), never one per
round. The first login that succeeds delivers its batch, and its success wakes the other
entries like the end of an outage.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, func, or_, select, update
from sqlalchemy.orm import Session

from scimbridge.config import Target
from scimbridge.delivery.state import CREDENTIALS, CREDENTIALS_REFUSED
from scimbridge.store import utc
from scimbridge.store.delivery_tables import outbox

log = logging.getLogger("scimbridge.delivery")

LOGIN_RETRY_SECONDS = 60.0
"""The longest wait between two logins while the vendor refuses the bridge's credentials:
an admin who fixes them sees the users arrive within a minute, and a vendor that locks an
account after failed logins sees, once the refusal has lasted a minute, at most one a
minute per worker."""
PROBE_SECONDS = 15.0
"""How often a target whose entries all back off after an outage tries one of them early:
the vendor's return is noticed within this (and the batch it takes), not at the end of a
backoff of up to ``delivery.max_backoff_seconds``."""


def _waiting(target: Target, now: datetime) -> Any:
    """The condition of the target's entries waiting for a later try, and free to claim."""
    return (
        (outbox.c.target == target.name)
        & (outbox.c.state == "pending")
        & (outbox.c.next_attempt_at > now)
        & or_(outbox.c.claimed_until.is_(None), outbox.c.claimed_until < now)
    )


def _refused(target: Target) -> Any:
    """The condition of the target's entries waiting for a login."""
    return (
        (outbox.c.target == target.name)
        & (outbox.c.state == "pending")
        & (outbox.c.error_kind == CREDENTIALS)
    )


def refused_until(session: Session, target: Target, now: datetime) -> datetime | None:
    """When the target tries its next login, while the vendor refuses its credentials and
    that time has not come (the target then claims nothing); None otherwise."""
    until = session.execute(
        select(func.min(outbox.c.next_attempt_at)).where(_refused(target))
    ).scalar()
    return utc(until) if until is not None and utc(until) > now else None


def refusing(session: Session, target: Target) -> bool:
    """Whether the target is in the state ``credentials refused``: entries wait for a login."""
    return (
        session.execute(select(outbox.c.seq).where(_refused(target)).limit(1)).first() is not None
    )


def login_retry(target: Target, refused_since: datetime | None, now: datetime) -> datetime:
    """When to log in again after a refusal: ``delivery.backoff_seconds`` after the first, the
    wait doubling with the time the refusal has lasted, :data:`LOGIN_RETRY_SECONDS` at most."""
    lasted = (now - refused_since).total_seconds() if refused_since else 0.0
    wait = min(LOGIN_RETRY_SECONDS, max(target.delivery.backoff_seconds, lasted))
    return now + timedelta(seconds=wait)


def refused(target: Target, error: str, was_refusing: bool, retry_at: datetime) -> None:
    """Log the refusal once, as the target enters the state (``was_refusing`` False)."""
    if not was_refusing:
        log.error(
            "%s: %s: %s; its entries wait, uncounted, for a login, tried again at most "
            "%.0f s apart (next at %s)",
            target.name,
            CREDENTIALS_REFUSED,
            error,
            LOGIN_RETRY_SECONDS,
            retry_at.isoformat(timespec="seconds"),
        )


def accepted(target: Target, was_refusing: bool) -> None:
    """Log the end of the refusal once, as the target leaves the state."""
    if was_refusing:
        log.warning("%s: the vendor accepts the bridge's credentials again", target.name)


def wake(session: Session, target: Target, now: datetime) -> int:
    """Make every entry of the target that waits on the vendor's return due ``now``: those
    an outage postponed (``outage``), and those waiting for a login (``credentials``).
    Returns how many; logs a line when there were any (the end of an outage)."""
    result = session.execute(
        update(outbox)
        .where(_waiting(target, now), outbox.c.outage | (outbox.c.error_kind == CREDENTIALS))
        .values(next_attempt_at=now)
    )
    # an UPDATE's result is a CursorResult, which Session.execute types as a Result
    woken = cast(CursorResult[Any], result).rowcount
    if woken:
        log.warning(
            "%s: the vendor answers again; %d waiting entr%s due now",
            target.name,
            woken,
            "y is" if woken == 1 else "ies are",
        )
    return woken


def probe(session: Session, target: Target, now: datetime) -> int | None:
    """Make the entry an outage postponed that is due soonest due ``now``: its delivery
    finds out whether the vendor is back. Returns its seq, or None when no entry waits on
    an outage."""
    seq = session.execute(
        select(outbox.c.seq)
        .where(_waiting(target, now), outbox.c.outage)
        .order_by(outbox.c.next_attempt_at, outbox.c.seq)
        .limit(1)
    ).scalar()
    if seq is not None:
        session.execute(update(outbox).where(outbox.c.seq == seq).values(next_attempt_at=now))
        log.info("%s: trying outbox #%d early: is the vendor back?", target.name, seq)
    return seq


class Probes:
    """When each target may probe next: at most every :data:`PROBE_SECONDS` per worker."""

    def __init__(self) -> None:
        self.next: dict[str, datetime] = {}

    def due(self, target: Target, now: datetime) -> bool:
        """Whether the target may probe ``now``; if so, its next probe is not before
        :data:`PROBE_SECONDS` from now."""
        if now < self.next.get(target.name, now):
            return False
        self.next[target.name] = now + timedelta(seconds=PROBE_SECONDS)
        return True
