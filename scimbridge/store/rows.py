"""The rows a resource's write adds, keeps and removes beside its own: Group members,
search-index rows and unique values, each written as a difference from what is stored.

A write that leaves most of them as they were (adding one member to a group of
thousands, a PATCH of a user's display name) then writes only what changed, instead
of deleting and inserting them all with their index entries.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from scim2_models import UniquenessException
from sqlalchemy import delete, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from scimbridge.store.tables import group_members, search_index
from scimbridge.store.tables import unique_values as unique_values_table

MemberKey = tuple[str | None, str | None, str | None, str | None]


def member_key(member: dict[str, Any]) -> MemberKey:
    return member.get("value"), member.get("type"), member.get("display"), member.get("$ref")


def member_rows(
    group_pk: int, target: str, members: list[MemberKey], positions: list[int]
) -> list[dict[str, Any]]:
    return [
        {
            "group_pk": group_pk,
            "position": position,
            "target": target,
            "value": value,
            "type": kind,
            "display": display,
            "ref": ref,
        }
        for position, (value, kind, display, ref) in zip(positions, members, strict=True)
    ]


INDEX_VALUES = (
    "path",
    "element",
    "representative",
    "present",
    "text",
    "text_key",
    "number",
    "flag",
    "moment",
)
"""The columns of a search-index row that hold its content, as opposed to its keys."""

IN_CHUNK = 500
"""Keys per ``IN (…)`` list: well under every database's limit of bound parameters."""


def chunked(keys: list[Any]) -> Iterator[list[Any]]:
    """``keys`` in lists short enough for one ``IN (…)`` each."""
    for start in range(0, len(keys), IN_CHUNK):
        yield keys[start : start + IN_CHUNK]


def insert_or_skip(session: Session) -> Any:
    """The dialect's ``INSERT`` that has ``ON CONFLICT DO NOTHING``."""
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


def write_members(
    session: Session, target: str, pk: int, members: list[MemberKey], *, created: bool
) -> list[int]:
    """Store a group's members as a difference from the stored ones; their positions.

    The members kept in their order keep their rows; new ones are appended after the
    last position. Any other change (a member's display, a new order) rewrites the rows
    from the first member that differs.
    """
    query = (
        select(
            group_members.c.position,
            group_members.c.value,
            group_members.c.type,
            group_members.c.display,
            group_members.c.ref,
        )
        .where(group_members.c.group_pk == pk)
        .order_by(group_members.c.position)
    )
    stored = [] if created else session.execute(query).all()
    kept: list[int] = []
    removed: list[int] = []
    for stored_row in stored:
        if len(kept) < len(members) and members[len(kept)] == tuple(stored_row)[1:]:
            kept.append(stored_row.position)
        else:
            removed.append(stored_row.position)
    for chunk in chunked(removed):
        session.execute(
            delete(group_members).where(
                group_members.c.group_pk == pk, group_members.c.position.in_(chunk)
            )
        )
    start = stored[-1].position + 1 if stored else 0
    appended = members[len(kept) :]
    added = list(range(start, start + len(appended)))
    if appended:
        session.execute(insert(group_members), member_rows(pk, target, appended, added))
    return kept + added


def write_index(
    session: Session,
    target: str,
    pk: int,
    resource_type: str,
    entries: list[dict[str, Any]],
    *,
    created: bool,
) -> None:
    """Make the resource's search-index rows ``entries``, touching only those that changed."""
    stored: dict[tuple[Any, ...], list[int]] = {}
    columns = [search_index.c[name] for name in INDEX_VALUES]
    query = select(search_index.c.pk, *columns).where(search_index.c.resource_pk == pk)
    for stored_row in [] if created else session.execute(query):
        stored.setdefault(tuple(stored_row)[1:], []).append(stored_row.pk)
    keys = {"resource_pk": pk, "target": target, "resource_type": resource_type}
    missing = []
    for entry in entries:
        same = stored.get(tuple(entry[name] for name in INDEX_VALUES))
        if same:
            same.pop()
        else:
            missing.append({**keys, **entry})
    obsolete = [row_pk for pks in stored.values() for row_pk in pks]
    for chunk in chunked(obsolete):
        session.execute(delete(search_index).where(search_index.c.pk.in_(chunk)))
    if missing:
        session.execute(insert(search_index), missing)


def write_unique_values(
    session: Session, target: str, pk: int, values: dict[str, str], *, created: bool
) -> None:
    """Claim the resource's unique values, or fail with 409 (RFC 7644 §3.3) if one is taken.

    One statement claims them all: an insert that skips a value some other resource
    holds, and returns the ones it claimed. A concurrent claim of the same value waits
    for the other transaction and is skipped if it commits.
    """
    query = select(unique_values_table.c.urn, unique_values_table.c.value).where(
        unique_values_table.c.resource_pk == pk
    )
    stored: dict[str, str] = {} if created else dict(session.execute(query).all())
    changed = [urn for urn in stored if values.get(urn) != stored[urn]]
    if changed:
        session.execute(
            delete(unique_values_table).where(
                unique_values_table.c.resource_pk == pk,
                unique_values_table.c.urn.in_(changed),
            )
        )
    wanted = {urn: value for urn, value in values.items() if stored.get(urn) != value}
    if not wanted:
        return
    statement = insert_or_skip(session)(unique_values_table)
    claimed = session.execute(
        statement.on_conflict_do_nothing().returning(unique_values_table.c.urn),
        [
            {"resource_pk": pk, "target": target, "urn": urn, "value": value}
            for urn, value in wanted.items()
        ],
    ).scalars()
    taken = sorted(set(wanted) - set(claimed))
    if taken:
        raise UniquenessException(detail=f"the value of {taken[0]} is already taken")
