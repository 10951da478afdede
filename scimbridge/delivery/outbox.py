"""The write side of delivery: every SCIM change of a user becomes an outbox entry, atomically.

:class:`Outbox` is a store listener: the storage calls it inside the
transaction of the SCIM write, so the resource, its external-ID link and its
outbox entry are committed together or not at all (design.md, "Why an
outbox"). It also refuses, at write time, a user the target's mapping cannot
turn into a valid vendor record, so that the IdP sees the problem as a 400
instead of a delivery that silently fails later.

An entry holds a snapshot of the whole user (and its group names) at the time
of the write: later entries of the same user therefore supersede earlier
undelivered ones without losing anything, and a deleted user can still be
delivered as a deprovisioning.

A paused user (the delivery extension's ``paused``) gets *held* entries: kept,
shown, never delivered, until the user is unpaused, whose write supersedes them
with a pending entry of the user as it then is. A deactivation or deletion is
never held: a pause must not keep an account alive at the vendor that the IdP
has taken away.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from scim2_models import InvalidValueException, Resource
from sqlalchemy import ColumnElement, Row, and_, func, select, update
from sqlalchemy.orm import Session

from scimbridge.mapping import Mapping, UnmappableUser
from scimbridge.scim.provider import DELIVERY_STATE
from scimbridge.store import StoreEvent
from scimbridge.store.delivery_tables import links, outbox

GroupsOf = Callable[[str], list[str]]
"""The display names of the groups a user (by SCIM id) is a direct member of."""
UserById = Callable[[str], Resource[Any] | None]
"""The stored user of a SCIM id, or None; read in the transaction of the write."""


def now() -> datetime:
    return datetime.now(UTC)


def snapshot(user: Resource[Any]) -> dict[str, Any]:
    """The user as stored (the storage already dropped any password)."""
    return user.model_dump()


def held_back(event: str, document: dict[str, Any]) -> bool:
    """Whether an entry waits for its user to be unpaused (see the module docstring)."""
    paused = (document.get(DELIVERY_STATE) or {}).get("paused") is True
    return paused and event == "upsert" and document.get("active") is not False


def supersede_older(
    session: Session, link_id: str, seq: int, at: datetime, *conditions: ColumnElement[bool]
) -> None:
    """Mark a user's entries older than ``seq`` (and meeting ``conditions``) superseded.

    Each entry holds the whole user, so a newer one makes them moot; a parked
    entry keeps the time it was parked.
    """
    session.execute(
        update(outbox)
        .where(outbox.c.link_id == link_id, outbox.c.seq < seq, *conditions)
        .values(state="superseded", done_at=func.coalesce(outbox.c.done_at, at))
    )


def member_ids(group: Resource[Any] | None) -> set[str]:
    if group is None:
        return set()
    return {member.value for member in getattr(group, "members", None) or [] if member.value}


def affected_members(event: StoreEvent) -> set[str]:
    """The users whose mapped record a group change can alter.

    Added and removed members always; every member when the group's name
    changed or the group was deleted, since mappings key on group names.
    """
    before, after = member_ids(event.before), member_ids(event.after)
    renamed = (
        event.before is None
        or event.after is None
        or getattr(event.before, "display_name", None) != getattr(event.after, "display_name", None)
    )
    return (before | after) if renamed else (before ^ after)


class Outbox:
    """Listener for one target's storage (see :class:`scimbridge.store.SqlStorage`)."""

    def __init__(self, target: str, mapping: Mapping, groups_of: GroupsOf, user_by_id: UserById):
        self.target = target
        self.mapping = mapping
        self.groups_of = groups_of
        self.user_by_id = user_by_id

    def __call__(self, session: Session, event: StoreEvent) -> None:
        if event.resource_type == "User":
            self._user_changed(session, event)
        elif event.resource_type == "Group":
            self._group_changed(session, event)

    def _user_changed(self, session: Session, event: StoreEvent) -> None:
        if event.after is None:
            link = self._link_of(session, event.resource_id)
            if link is not None:
                session.execute(update(links).where(links.c.id == link.id).values(deleted_at=now()))
                self._enqueue(session, link.id, "delete", snapshot(event.before), [])
            return
        user = snapshot(event.after)
        groups = self.groups_of(event.resource_id)
        self._check(user, groups)
        link_id = self._link_for_write(session, event)
        self._enqueue(session, link_id, "upsert", user, groups)

    def _group_changed(self, session: Session, event: StoreEvent) -> None:
        for user_id in sorted(affected_members(event)):
            user = self.user_by_id(user_id)
            if user is None:
                continue
            link = self._link_of(session, user_id)
            link_id = link.id if link is not None else self._create_link(session, user)
            self._enqueue(session, link_id, "upsert", snapshot(user), self.groups_of(user_id))

    def _check(self, user: dict[str, Any], groups: list[str]) -> None:
        """RFC 7644 §3.12 ``invalidValue``: the user is valid SCIM but not for this vendor.

        A deactivation is never refused (design.md: deprovisioning is never refused at
        write time): the vendor must lose the account even when the user's attributes no
        longer map, so the worker then deprovisions the account the vendor holds.
        """
        if user.get("active") is False:
            return
        try:
            self.mapping.check(user, groups)
        except UnmappableUser as refusal:
            raise InvalidValueException(detail=refusal.detail) from None

    def _link_of(self, session: Session, scim_id: str) -> Row[Any] | None:
        return session.execute(
            select(links).where(links.c.target == self.target, links.c.scim_id == scim_id)
        ).first()

    def _link_for_write(self, session: Session, event: StoreEvent) -> str:
        """The link of a user; a re-provisioned user takes over the tombstone of its former self.

        design.md, "External IDs and re-import": the link of a deleted user is kept as a
        tombstone, and a new SCIM user who is the same person takes it over, with its
        vendor identity, so the vendor sees the same user again.
        """
        user = event.after
        link = self._link_of(session, event.resource_id)
        if link is None:
            link = self._tombstone_of(session, user)
        if link is None:
            return self._create_link(session, user)
        session.execute(
            update(links)
            .where(links.c.id == link.id)
            .values(
                scim_id=event.resource_id,
                external_id=user.external_id,
                user_name=user.user_name.casefold(),
                deleted_at=None,
            )
        )
        return link.id

    def _tombstone_of(self, session: Session, user: Resource[Any]) -> Row[Any] | None:
        """The most recently deleted link of the same person, or None.

        The same person has the same ``externalId`` when both sides have one; the
        ``userName`` decides only where one side has none. A new person who reuses a
        userName (an IdP gives ``john`` to somebody else) never gets the former user's
        link, and so never the former user's vendor account.
        """
        same_name = links.c.user_name == user.user_name.casefold()
        if user.external_id:
            keys = [
                links.c.external_id == user.external_id,
                and_(same_name, links.c.external_id.is_(None)),
            ]
        else:
            keys = [same_name]
        for key in keys:
            found = session.execute(
                select(links)
                .where(links.c.target == self.target, links.c.deleted_at.is_not(None), key)
                .order_by(links.c.deleted_at.desc())
            ).first()
            if found is not None:
                return found
        return None

    def _create_link(self, session: Session, user: Resource[Any]) -> str:
        link_id = uuid.uuid4().hex
        session.execute(
            links.insert().values(
                id=link_id,
                target=self.target,
                scim_id=user.id,
                external_id=user.external_id,
                user_name=user.user_name.casefold(),
                status="pending",
                created_at=now(),
            )
        )
        return link_id

    def _enqueue(
        self,
        session: Session,
        link_id: str,
        event: str,
        document: dict[str, Any],
        groups: list[str],
    ) -> None:
        """Queue the user as it now is; it replaces whatever the user had held."""
        state = "held" if held_back(event, document) else "pending"
        at = now()
        inserted = session.execute(
            outbox.insert().values(
                target=self.target,
                link_id=link_id,
                event=event,
                document=document,
                groups=groups,
                state=state,
                attempts=0,
                created_at=at,
                next_attempt_at=at,
            )
        )
        supersede_older(
            session, link_id, inserted.inserted_primary_key[0], at, outbox.c.state == "held"
        )
        session.execute(update(links).where(links.c.id == link_id).values(status=state))
