"""The write side of delivery: every SCIM change of a user becomes an outbox entry, atomically.

:class:`Outbox` is a store listener: the storage calls it inside the
transaction of the SCIM write, so the resource, its external-ID link and its
outbox entry are committed together or not at all (docs/architecture.md, "Why an
outbox"). It also refuses, at write time, a user the target's mapping cannot
turn into a valid vendor record, so that the IdP sees the problem as a 400
instead of a delivery that silently fails later.

An entry holds a snapshot of the whole user (and its group names) at the time
of the write: later entries of the same user therefore supersede earlier
undelivered ones without losing anything, and never the other way round
(:mod:`~scimbridge.delivery.ordering`, the one rule of which entry wins), and a
deleted user can still be delivered as a deprovisioning.

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
from sqlalchemy import (
    ColumnElement,
    Row,
    Select,
    and_,
    bindparam,
    literal,
    select,
    union_all,
    update,
)
from sqlalchemy.orm import Session

from scimbridge.comparison import user_name_key
from scimbridge.config import IdentityMatch
from scimbridge.delivery.ordering import supersede
from scimbridge.delivery.state import DELIVERY_STATE
from scimbridge.mapping import Mapping, UnmappableUser
from scimbridge.observability.context import current_request_id
from scimbridge.store import StoreEvent
from scimbridge.store.delivery_tables import links, outbox
from scimbridge.store.rows import chunked

GroupsOf = Callable[[list[str]], dict[str, list[str]]]
"""The display names of the groups each user (by SCIM id) is a direct member of."""
UsersById = Callable[[list[str]], dict[str, Resource[Any]]]
"""The stored users of some SCIM ids, by id (a missing one is left out); read in the
transaction of the write."""


def now() -> datetime:
    return datetime.now(UTC)


def _user_name_key(user: Resource[Any]) -> str:
    """The user's userName as links compare it (a User always has one: RFC 7643 §4.1.1)."""
    return user_name_key(str(getattr(user, "user_name", "") or ""))


def snapshot(user: Resource[Any]) -> dict[str, Any]:
    """The user as stored (the storage already dropped any password)."""
    return user.model_dump()


def held_back(event: str, document: dict[str, Any]) -> bool:
    """Whether an entry waits for its user to be unpaused (see the module docstring)."""
    paused = (document.get(DELIVERY_STATE) or {}).get("paused") is True
    return paused and event == "upsert" and document.get("active") is not False


def entry_state(event: str, document: dict[str, Any]) -> str:
    """The state a new entry starts in: held for a paused user, else pending."""
    return "held" if held_back(event, document) else "pending"


def change_of(event: StoreEvent) -> str:
    """What a write of an existing user did, in the words of ``outbox list``: a change of
    ``active`` is a deactivation or a reactivation, whatever else changed with it."""
    was_active = getattr(event.before, "active", None) is not False
    is_active = getattr(event.after, "active", None) is not False
    if was_active == is_active:
        return "update"
    return "reactivate" if is_active else "deactivate"


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


def _tombstone_query(*keys: ColumnElement[bool]) -> Select[Any]:
    """The most recently deleted link found by the first of ``keys`` that finds one.

    One indexed lookup per key, in a ``UNION ALL``: under an ``OR`` of them, SQLite reads
    every link of the target, and a first cycle of tens of thousands of creates slows
    down as it goes. Built once, with bound parameters: building it costs more than
    running it.
    """
    tombstones = and_(links.c.target == bindparam("target"), links.c.deleted_at.is_not(None))
    found = union_all(
        *(
            select(links, literal(rank).label("rank")).where(tombstones, key)
            for rank, key in enumerate(keys)
        )
    ).subquery()
    return (
        select(*(found.c[column.name] for column in links.c))
        .order_by(found.c.rank, found.c.deleted_at.desc())
        .limit(1)
    )


SAME_NAME = links.c.user_name == bindparam("user_name")
SAME_EXTERNAL_ID = links.c.external_id == bindparam("external_id")
NAME_WITHOUT_EXTERNAL_ID = and_(SAME_NAME, links.c.external_id.is_(None))
TOMBSTONE_BY_NAME = _tombstone_query(SAME_NAME)
TOMBSTONE_BY_EXTERNAL_ID = _tombstone_query(SAME_EXTERNAL_ID, NAME_WITHOUT_EXTERNAL_ID)
TOMBSTONE_BY_EXTERNAL_ID_AND_NAME = _tombstone_query(and_(SAME_EXTERNAL_ID, SAME_NAME))
TOMBSTONE_BY_NAME_WITHOUT_EXTERNAL_ID = _tombstone_query(NAME_WITHOUT_EXTERNAL_ID)
TOMBSTONE_QUERIES: dict[tuple[IdentityMatch, bool], Select[Any]] = {
    ("externalId", True): TOMBSTONE_BY_EXTERNAL_ID,
    ("externalId", False): TOMBSTONE_BY_NAME,
    ("externalId_and_userName", True): TOMBSTONE_BY_EXTERNAL_ID_AND_NAME,
    ("externalId_and_userName", False): TOMBSTONE_BY_NAME_WITHOUT_EXTERNAL_ID,
}
"""The tombstone query of each ``identity.match``, for a user with and without an
externalId (:meth:`Outbox._tombstone_of`)."""


class Outbox:
    """Listener for one target's storage (see :class:`scimbridge.store.SqlStorage`)."""

    def __init__(
        self,
        target: str,
        mapping: Mapping,
        groups_of: GroupsOf,
        users_by_id: UsersById,
        match: IdentityMatch = "externalId",
    ):
        """:param match: the target's ``identity.match`` (:meth:`_tombstone_of`)."""
        self.target = target
        self.mapping = mapping
        self.groups_of = groups_of
        self.users_by_id = users_by_id
        self.match = match

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
                assert event.before is not None  # a deletion's event has the user as it was
                self._enqueue(session, link.id, "delete", "delete", snapshot(event.before), [])
            return
        user = snapshot(event.after)
        # A user just created (its id was drawn for it) is in no group and has no link.
        created = event.operation == "create"
        groups = [] if created else self.groups_of([event.resource_id]).get(event.resource_id, [])
        self._check(user, groups)
        state = entry_state("upsert", user)
        link = None if created else self._link_of(session, event.resource_id)
        if link is None:
            link = self._tombstone_of(session, event.after)
        if link is None:
            link_id = self._create_link(session, event.after, state)
            self._enqueue(session, link_id, "upsert", "create", user, groups, fresh=True)
            return
        self._take_over(session, link, event.after, state)
        change = "create" if created or link.deleted_at is not None else change_of(event)
        self._enqueue(session, link.id, "upsert", change, user, groups, status_written=True)

    def _group_changed(self, session: Session, event: StoreEvent) -> None:
        """Queue every user whose record the change alters, in a few statements for them all:
        a renamed group of thousands is thousands of entries, not thousands of queries."""
        user_ids = sorted(affected_members(event))
        users = self.users_by_id(user_ids)
        if not users:
            return
        groups = self.groups_of(list(users))
        link_ids = self._links_of(session, list(users))
        entries = []
        for user_id, user in sorted(users.items()):
            link_id = link_ids.get(user_id) or self._create_link(session, user)
            entries.append((link_id, snapshot(user), groups.get(user_id, [])))
        enqueue(session, self.target, "upsert", "group", entries)

    def _check(self, user: dict[str, Any], groups: list[str]) -> None:
        """RFC 7644 §3.12 ``invalidValue``: the user is valid SCIM but not for this vendor.

        A deactivation is never refused (docs/architecture.md: deprovisioning is never refused at
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

    def _links_of(self, session: Session, scim_ids: list[str]) -> dict[str, str]:
        """The link ids of some users, by SCIM id."""
        found = {}
        for chunk in chunked(scim_ids):
            rows = session.execute(
                select(links.c.scim_id, links.c.id).where(
                    links.c.target == self.target, links.c.scim_id.in_(chunk)
                )
            )
            found.update({row.scim_id: row.id for row in rows})
        return found

    def _take_over(self, session: Session, link: Row[Any], user: Resource[Any], state: str) -> None:
        """Point the user's link at it as it now is, and show its new delivery state.

        docs/architecture.md, "External IDs and re-import": the link of a deleted user is kept as a
        tombstone, and a new SCIM user who is the same person takes it over, with its
        vendor identity, so the vendor sees the same user again.
        """
        values = {
            "scim_id": user.id,
            "external_id": user.external_id,
            "user_name": _user_name_key(user),
            "deleted_at": None,
            "status": state,
        }
        if any(getattr(link, column) != value for column, value in values.items()):
            session.execute(update(links).where(links.c.id == link.id).values(**values))

    def _tombstone_of(self, session: Session, user: Resource[Any]) -> Row[Any] | None:
        """The most recently deleted link of the same person, or None.

        docs/architecture.md, "The same person". With ``identity.match: externalId`` the
        same person has the same ``externalId`` when both sides have one; the ``userName``
        decides only where one side has none. With ``externalId_and_userName`` both sides'
        ``externalId`` and ``userName`` must match, the userName alone decides only where
        neither side has an ``externalId``, and one side without it is never the same
        person: an IdP that reuses its externalId source (Entra ID's default
        ``mailNickname``) cannot hand a new hire a former employee's link. Either way a
        new person who reuses a userName (an IdP gives ``john`` to somebody else) never
        gets the former user's link, and so never the former user's vendor account.
        """
        query = TOMBSTONE_QUERIES[self.match, bool(user.external_id)]
        keys = {"user_name": _user_name_key(user), "external_id": user.external_id}
        return session.execute(query, {"target": self.target, **keys}).first()

    def _create_link(self, session: Session, user: Resource[Any], state: str = "pending") -> str:
        link_id = uuid.uuid4().hex
        session.execute(
            links.insert().values(
                id=link_id,
                target=self.target,
                scim_id=user.id,
                external_id=user.external_id,
                user_name=_user_name_key(user),
                status=state,
                created_at=now(),
            )
        )
        return link_id

    def _enqueue(
        self,
        session: Session,
        link_id: str,
        event: str,
        change: str,
        document: dict[str, Any],
        groups: list[str],
        *,
        fresh: bool = False,
        status_written: bool = False,
    ) -> None:
        """Queue the user as it now is; it replaces whatever the user had held.

        :param fresh: the link was created for this entry, so nothing older is queued.
        :param status_written: the caller already showed the entry's state on the link.
        """
        enqueue(
            session,
            self.target,
            event,
            change,
            [(link_id, document, groups)],
            fresh=fresh,
            status_written=status_written,
        )


def enqueue(
    session: Session,
    target: str,
    event: str,
    change: str,
    entries: list[tuple[str, dict[str, Any], list[str]]],
    *,
    fresh: bool = False,
    status_written: bool = False,
) -> None:
    """Queue users (link id, document, groups) as they now are, each entry replacing whatever
    its user had held (:func:`~scimbridge.delivery.ordering.supersede`): a statement for all
    their entries, and one per state for what they replace. Every entry of the outbox is
    written here, the IdP's writes and the bridge's own (``reconcile``, ``mapping``) alike.

    :param change: what the entry is in ``outbox list``.
    :param fresh: the links were created for these entries, so nothing older is queued.
    :param status_written: the caller already showed the entries' state on the links.
    """
    at = now()
    request = current_request_id()
    rows = [
        {
            "target": target,
            "link_id": link_id,
            "event": event,
            "change": change,
            "request_id": request,
            "document": document,
            "groups": groups,
            "state": entry_state(event, document),
            "attempts": 0,
            "created_at": at,
            "next_attempt_at": at,
        }
        for link_id, document, groups in entries
    ]
    if not rows:
        return
    first = min(session.execute(outbox.insert().returning(outbox.c.seq), rows).scalars())
    if fresh:
        return
    for state in ("pending", "held"):
        link_ids = [row["link_id"] for row in rows if row["state"] == state]
        for chunk in chunked(link_ids):
            supersede(session, "written", chunk, first, at)
            if not status_written:
                session.execute(update(links).where(links.c.id.in_(chunk)).values(status=state))
