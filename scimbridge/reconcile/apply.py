"""``reconcile --apply``: corrections go through the outbox, like any write of the IdP.

Each user a plan found to correct gets an outbox entry of itself as it now is (change
``reconcile``), so identity, ordering, pacing, retries and metrics are the delivery's own.
An entry is queued only for a user with no delivery still to come (the one on its way
carries the user as it now is), and under the user's link locked (PostgreSQL), so that a
SCIM write racing the apply is queued after it, never before it with an older snapshot.

A user the vendor holds no account of has that account forgotten by its link first, as
the worker forgets a removed one: its entry then provisions an account anew. A
deprovisioned user whose active account was found by its keys (the link knew none, as
after a removal) gets that account's id first: the deprovision then addresses it.

Orphans are touched only when asked (:func:`disable_orphans`): each is disabled, as the
mapping's ``on_deactivate`` does, and never deleted.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Row, select, update
from sqlalchemy.orm import Session

from scimbridge.config import Target
from scimbridge.delivery.outbox import enqueue
from scimbridge.delivery.settling import FORGOTTEN
from scimbridge.delivery.wanted import Directory, deletions, open_entries, stand_in
from scimbridge.mapping import Action, Mapping, MappingContext
from scimbridge.reconcile.plan import CORRECTABLE, Finding, Kind, Plan
from scimbridge.store import Database
from scimbridge.store.delivery_tables import links

CHUNK = 200
"""Users corrected in one transaction."""


class OrphansNotDisabled(Exception):
    """The target's mapping deprovisions by removing: reconcile never deletes an account."""


@dataclass
class Applied:
    """What an apply queued."""

    queued: Counter[str] = field(default_factory=Counter)
    """Entries queued, per finding kind."""
    already_queued: int = 0
    """Users skipped because a delivery of theirs was queued meanwhile."""


def apply_plan(database: Database, target: Target, plan: Plan, directory: Directory) -> Applied:
    """Queue a ``reconcile`` entry for every user of ``plan`` whose finding can be corrected."""
    applied = Applied()
    findings = [f for f in plan.findings if f.kind in CORRECTABLE and f.link_id]
    for start in range(0, len(findings), CHUNK):
        with database.transaction() as session:
            for finding in findings[start : start + CHUNK]:
                if _queue(session, target, directory, finding):
                    applied.queued[finding.kind.value] += 1
                else:
                    applied.already_queued += 1
    return applied


def _queue(session: Session, target: Target, directory: Directory, finding: Finding) -> bool:
    """Queue the user of ``finding``; False when a delivery of it is on its way."""
    link = _locked_link(session, str(finding.link_id))
    if link is None or open_entries(session, [link.id]):
        return False
    if finding.kind is Kind.MISSING:
        session.execute(update(links).where(links.c.id == link.id).values(**FORGOTTEN))
    if finding.kind is Kind.ACTIVE_BUT_DEPROVISIONED and link.vendor_id is None:
        session.execute(
            update(links).where(links.c.id == link.id).values(vendor_id=finding.vendor_ids[0])
        )
    if link.deleted_at is not None:
        document = deletions(session, [link.id]).get(link.id) or stand_in(link.user_name)
        enqueue(session, target.name, "delete", "reconcile", [(link.id, document, [])])
        return True
    scim_id = str(link.scim_id)
    user = directory.users_by_id([scim_id]).get(scim_id)
    if user is None:
        return False
    groups = directory.groups_of([scim_id]).get(scim_id, [])
    enqueue(session, target.name, "upsert", "reconcile", [(link.id, user, groups)])
    return True


def _locked_link(session: Session, link_id: str) -> Row[Any] | None:
    query = select(links).where(links.c.id == link_id)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    return session.execute(query).first()


def disable_orphans(
    database: Database, target: Target, mapping: Mapping, orphans: list[Finding]
) -> int:
    """Disable the active orphans through the outbox; return how many were queued.

    Each gets a link of its own, a former user of the bridge (a tombstone named after the
    account's vendor id, which no SCIM user can take over) holding the account as read
    back, and an entry that deactivates it: the mapping's ``on_deactivate`` rule over the
    account's own record.

    :raises OrphansNotDisabled: when that rule removes accounts.
    """
    rule = mapping.rule_for({"active": False}, MappingContext(stable_id="orphan"))
    if rule is None or rule.action is Action.REMOVE:
        raise OrphansNotDisabled(
            f"target {target.name}: the mapping's on_deactivate removes accounts, and "
            "reconcile never deletes one; disable the orphans at the vendor by hand"
        )
    active = [orphan for orphan in orphans if orphan.kind is Kind.ORPHAN and orphan.active]
    now = datetime.now(UTC)
    with database.transaction() as session:
        for orphan in active:
            vendor_id = orphan.vendor_ids[0]
            link_id = uuid.uuid4().hex
            session.execute(
                links.insert().values(
                    id=link_id,
                    target=target.name,
                    user_name=f"orphan:{vendor_id}",
                    vendor_id=vendor_id,
                    vendor_record=orphan.record,
                    delivered_once=True,
                    status="pending",
                    created_at=now,
                    deleted_at=now,
                )
            )
            document = stand_in(str(orphan.account))
            enqueue(session, target.name, "upsert", "reconcile", [(link_id, document, [])])
    return len(active)
