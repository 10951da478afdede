"""What each user of a target should be at the vendor now: the stored SCIM user, mapped.

Reconcile compares it with what the vendor holds, and a mapping change with what the
vendor was last sent; both read the users here, and map them with :func:`wanted`, as the
worker maps an outbox entry (the same :class:`~scimbridge.mapping.MappingContext` from the
same link), so that a plan never expects what a delivery would not send.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Row, func, select
from sqlalchemy.orm import Session

from scimbridge.config import Target
from scimbridge.delivery.claiming import values_chosen
from scimbridge.mapping import MappedRecord, Mapping, MappingContext, UnmappableUser
from scimbridge.store import Database
from scimbridge.store.delivery_tables import links, outbox
from scimbridge.store.rows import chunked

UsersById = Callable[[list[str]], dict[str, dict[str, Any]]]
"""The stored users of some SCIM ids, as documents (an outbox entry's snapshot), by id."""
GroupsOf = Callable[[list[str]], dict[str, list[str]]]
"""The display names of the groups each user (by SCIM id) is a direct member of."""

OPEN = ("pending", "held")
"""Entry states that mean a delivery of the user is still to come."""
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"


def stand_in(user_name: str) -> dict[str, Any]:
    """A deprovisioned user whose snapshot is gone (purged, or never kept: a disabled
    orphan), as a mapping and an outbox entry take it: its name, inactive."""
    return {"schemas": [USER_SCHEMA], "userName": user_name, "active": False}


@dataclass(frozen=True)
class Directory:
    """The target's stored SCIM users and their groups (the bridge's storage)."""

    users_by_id: UsersById
    groups_of: GroupsOf


@dataclass(frozen=True)
class BridgeUser:
    """One user of the target, live or deleted, with its link and how the IdP has it now."""

    link_id: str
    scim_id: str | None
    external_id: str | None
    user_name: str
    vendor_id: str | None
    delivered_once: bool
    vendor_record: dict[str, Any] | None
    sent_at: datetime | None
    deleted: bool
    document: dict[str, Any] | None
    """The user as stored (a deleted user: as its deletion's entry holds it, None once purged)."""
    groups: list[str]
    chosen: dict[str, Any] = field(default_factory=dict)
    open_entry: str | None = None
    """``pending`` or ``held`` when a delivery of the user is still to come, else None."""
    mapping_fingerprint: str | None = None

    def describe(self) -> str:
        """The user as an admin finds it: userName, externalId, SCIM id."""
        name = (self.document or {}).get("userName") or self.user_name
        details = [f"externalId {self.external_id}"] if self.external_id else []
        details += [f"id {self.scim_id}"] if self.scim_id else []
        return f"{name} ({', '.join(details)})" if details else str(name)


def context_of(user: BridgeUser) -> MappingContext:
    """The facts a mapping reads of the user, as the worker gives them for an entry."""
    return MappingContext(
        stable_id=user.link_id,
        vendor_id=user.vendor_id,
        first_import=not user.delivered_once,
        deleted=user.deleted,
        chosen=user.chosen,
    )


def wanted(mapping: Mapping, user: BridgeUser) -> MappedRecord:
    """What the mapping makes of the user now. A deprovision whose user no longer maps (or
    whose snapshot was purged) is the rule's fields over the record last sent, as the worker
    sends it.

    :raises UnmappableUser: for a live, active user the mapping refuses.
    """
    context = context_of(user)
    document = user.document or stand_in(user.user_name)
    try:
        return mapping.apply(document, user.groups, context)
    except UnmappableUser:
        rule = mapping.rule_for(document, context)
        if rule is None:
            raise
        return MappedRecord(rule.action, {**(user.vendor_record or {}), **rule.overrides})


def bridge_users(
    database: Database, target: Target, directory: Directory, chunk: int = 500
) -> Iterator[BridgeUser]:
    """Every user of the target with a link, live ones and deleted ones, read ``chunk`` at a
    time in link order."""
    after = ""
    while True:
        with database.transaction(writing=False) as session:
            rows = session.execute(
                select(links)
                .where(links.c.target == target.name, links.c.id > after)
                .order_by(links.c.id)
                .limit(chunk)
            ).all()
            if not rows:
                return
            ids = [row.id for row in rows]
            chosen = values_chosen(session, ids)
            open_ = open_entries(session, ids)
            last = deletions(session, [row.id for row in rows if row.deleted_at is not None])
        live = [row.scim_id for row in rows if row.deleted_at is None and row.scim_id]
        documents = directory.users_by_id(live)
        groups = directory.groups_of(list(documents))
        for row in rows:
            deleted = row.deleted_at is not None
            document = last.get(row.id) if deleted else documents.get(row.scim_id or "")
            if not deleted and document is None:
                continue  # written while we read: its entry is on its way
            yield _user(row, deleted, document, groups, chosen, open_)
        after = rows[-1].id


def _user(
    row: Row[Any],
    deleted: bool,
    document: dict[str, Any] | None,
    groups: dict[str, list[str]],
    chosen: dict[str, dict[str, Any]],
    open_entries: dict[str, str],
) -> BridgeUser:
    return BridgeUser(
        link_id=row.id,
        scim_id=row.scim_id,
        external_id=row.external_id,
        user_name=row.user_name,
        vendor_id=row.vendor_id,
        delivered_once=row.delivered_once,
        vendor_record=row.vendor_record,
        sent_at=row.sent_at,
        deleted=deleted,
        document=document,
        groups=[] if deleted else groups.get(row.scim_id or "", []),
        chosen=chosen.get(row.id, {}),
        open_entry=open_entries.get(row.id),
        mapping_fingerprint=row.mapping_fingerprint,
    )


def open_entries(session: Session, link_ids: list[str]) -> dict[str, str]:
    """Per link with one, the state of its open entry (``held`` only when none is pending)."""
    found: dict[str, str] = {}
    for ids in chunked(link_ids):
        rows = session.execute(
            select(outbox.c.link_id, outbox.c.state)
            .where(outbox.c.link_id.in_(ids), outbox.c.state.in_(OPEN))
            .distinct()
        )
        for link_id, state in rows:
            if found.get(link_id) != "pending":
                found[link_id] = state
    return found


def deletions(session: Session, link_ids: list[str]) -> dict[str, dict[str, Any]]:
    """Per deleted link, the user as its newest deletion entry holds it (unless purged)."""
    found: dict[str, dict[str, Any]] = {}
    for ids in chunked(link_ids):
        newest = (
            select(func.max(outbox.c.seq))
            .where(outbox.c.link_id.in_(ids), outbox.c.event == "delete")
            .group_by(outbox.c.link_id)
        )
        rows = session.execute(
            select(outbox.c.link_id, outbox.c.document, outbox.c.purged_at).where(
                outbox.c.seq.in_(newest)
            )
        )
        found.update({row.link_id: row.document for row in rows if row.purged_at is None})
    return found
