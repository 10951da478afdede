"""The SCIM resources of one bridge target, kept in SQL (a ``scim2_server.ScimStorage``).

Each resource is a row holding its JSON document; Group members are rows of
their own, so a user's groups are one indexed query away and a large group is
not rewritten as one blob. Every write also refreshes the resource's unique
values (RFC 7643 §2.2 ``uniqueness``) and its search-index rows
(:mod:`scimbridge.store.index`), which filters and sorting are translated to
(:mod:`scimbridge.store.filters`).

A write runs in a SAVEPOINT of the transaction in progress, and the storage's
listeners are called inside it: a listener that raises undoes the write alone.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import cache
from typing import Any, cast

from scim2_models import (
    InvalidValueException,
    Meta,
    NotFoundException,
    Path,
    PreconditionFailedException,
    Resource,
    ResourceType,
    ResponseParameters,
    ScimProvider,
    SearchRequest,
)
from scim2_models.provider import _ambient_provider
from scim2_server.storage import ScimStorage, SearchPage
from scim2_server.utils import parametrize
from sqlalchemy import CursorResult, Row, and_, delete, func, insert, or_, select, true, update
from sqlalchemy.orm import Session

from scimbridge.store.database import Database, utc
from scimbridge.store.events import Listener, Operation, StoreEvent
from scimbridge.store.filters import Derived, filter_condition, sort_value
from scimbridge.store.index import index_rows, unique_values
from scimbridge.store.representation import MEMBERS, etag, response_form
from scimbridge.store.rows import (
    chunked,
    member_key,
    write_index,
    write_members,
    write_unique_values,
)
from scimbridge.store.tables import group_members, resources

MAX_INDEXED_LENGTH = 512
"""The longest userName, externalId or displayName stored: PostgreSQL indexes no longer value
(the links table indexes userName and externalId, the resources table displayName)."""

LIMITED_ATTRIBUTES = {
    "user_name": "userName",
    "external_id": "externalId",
    "display_name": "displayName",
}


def _now() -> datetime:
    return datetime.now(UTC)


def _display_name(resource: Resource[Any]) -> str | None:
    """The displayName column, once the values that end up in an index are checked.

    :raises InvalidValueException: for a userName, externalId or displayName too long to index.
    """
    for attribute, name in LIMITED_ATTRIBUTES.items():
        value = getattr(resource, attribute, None)
        if value is not None and len(value) > MAX_INDEXED_LENGTH:
            raise InvalidValueException(
                detail=f"{name} is longer than {MAX_INDEXED_LENGTH} characters"
            )
    return getattr(resource, "display_name", None)


IN_OPERATION = "scimbridge_in_operation"
"""The ``Session.info`` key set while :meth:`SqlStorage.operation` holds a savepoint."""

LOCKED_ROWS = "scimbridge_locked_rows"
"""The ``Session.info`` key of the rows :meth:`SqlStorage.lock` holds, by (target, type, id)."""


def _locked_rows(session: Session) -> dict[tuple[str, str, str | None], Row[Any]]:
    """The rows locked in this transaction and not written since, by (target, type, id):
    they are current."""
    locked: dict[tuple[str, str, str | None], Row[Any]] = session.info.setdefault(LOCKED_ROWS, {})
    return locked


def _type_name(resource_type: ResourceType) -> str:
    """A served resource type's name: the model types it as optional, but RFC 7643 §6
    requires it, and the provider finds a type's model by it."""
    return cast(str, resource_type.name)


@cache
def _members_urn(model: type[Resource[Any]]) -> str:
    binding = parametrize(Path, model)(MEMBERS).resolve()
    assert binding is not None
    return binding.urn


def _member(row: Row[Any]) -> dict[str, Any]:
    member = {"value": row.value, "type": row.type, "display": row.display, "$ref": row.ref}
    return {key: value for key, value in member.items() if value is not None}


def _has_members(model: type[Resource[Any]]) -> bool:
    return MEMBERS in model.model_fields


def _returns_members(
    model: type[Resource[Any]], response_parameters: ResponseParameters[Any] | None
) -> bool:
    """Whether the response keeps the members, so they are worth loading."""
    if not _has_members(model):
        return False
    if response_parameters is None:
        return True
    kept = parametrize(Path, model).iter_paths(
        include_subattributes=False,
        include_extensions=False,
        attributes=response_parameters.attributes,
        excluded_attributes=response_parameters.excluded_attributes,
    )
    return any(
        (binding := path.resolve()) is not None and binding.field_name == MEMBERS for path in kept
    )


class SqlStorage(ScimStorage):
    """The resources of one bridge target.

    :param database: where they are kept.
    :param target: the bridge target (configuration ``targets[].name``): part of
        every key and every query, so targets never see each other's resources.
    :param listeners: called inside the transaction after each write.
    :param provider: the SCIM provider whose models the stored documents are
        read back into. Without one, the provider scim2-server's handler opens
        around each request is used.
    """

    supports_cursors = False

    def __init__(
        self,
        database: Database,
        target: str,
        listeners: Sequence[Listener] = (),
        *,
        provider: ScimProvider | None = None,
    ):
        self.database = database
        self.target = target
        self.listeners = tuple(listeners)
        self.provider = provider

    def model_of(self, resource_type: ResourceType | str) -> type[Resource[Any]]:
        """The model of a resource type (or of its name, as ``meta.resourceType`` holds it)."""
        provider = self.provider or _ambient_provider()
        model = provider.model_for(resource_type) if provider is not None else None
        if model is None:
            raise LookupError(f"no model for resource type {resource_type!r}: pass a provider")
        # model_for answers any ScimObject (a schema URI names an extension); a resource
        # type, or its name, names a resource model.
        return cast(type[Resource[Any]], model)

    @contextmanager
    def operation(self) -> Iterator[None]:
        """One SCIM operation in a SAVEPOINT: a failed Bulk operation rolls back alone (RFC 7644 §3.7).

        In a reading transaction there is nothing to roll back, and no savepoint.
        """
        if self.database.reading:
            yield
            return
        with self.database.transaction() as session, session.begin_nested():
            session.info[IN_OPERATION] = True
            try:
                yield
            finally:
                session.info.pop(IN_OPERATION, None)

    @contextmanager
    def _write(self) -> Iterator[Session]:
        """The savepoint of one write: the operation's when there is one, else its own, so
        that a listener that raises undoes this write alone."""
        with self.database.transaction() as session:
            if session.info.get(IN_OPERATION):
                yield session
                return
            with session.begin_nested():
                yield session

    def get(
        self,
        resource_type: ResourceType,
        resource_id: str,
        *,
        response_parameters: ResponseParameters[Any] | None = None,
    ) -> Resource[Any]:
        model = self.model_of(resource_type)
        with self.database.transaction(writing=False) as session:
            row = self._stored_row(session, _type_name(resource_type), resource_id)
            members = _returns_members(model, response_parameters)
            return self._hydrate(session, [row], members=members)[0]

    def representation(
        self, resource_type: ResourceType, resource_id: str
    ) -> dict[str, Any] | None:
        """The resource as a read without ``attributes`` or ``excludedAttributes`` returns
        it (RFC 7644 §3.4.1), but ``meta.location``: its stored document, which is its
        dump, with ``id`` and ``meta``, built without the models.

        Validating a document into its model and dumping it again is most of the cost of
        a read. It is skipped only when it would change nothing: not for a resource with
        members or ``$ref`` values (the response turns references into URLs) or with an
        attribute a default response leaves out. Then, as for a resource that does not
        exist, the answer is None, and the read goes the models' way.
        """
        model = self.model_of(resource_type)
        if _has_members(model):
            return None
        with self.database.transaction(writing=False) as session:
            try:
                row = self._stored_row(session, _type_name(resource_type), resource_id)
            except NotFoundException:
                return None
        return response_form(model, row)

    def search(
        self,
        resource_types: list[ResourceType],
        search_request: SearchRequest[Any],
        *,
        position: Any = None,
    ) -> SearchPage:
        models = self._models_of(resource_types)
        with self.database.transaction(writing=False) as session:
            total, rows = self._found(session, models, search_request)
            members = any(_returns_members(model, search_request) for model in models.values())
            return SearchPage(total, self._hydrate(session, rows, members=members))

    def search_representations(
        self, resource_types: list[ResourceType], search_request: SearchRequest[Any]
    ) -> tuple[int, list[dict[str, Any]]] | None:
        """The total and the page of a search, each resource as :meth:`representation`
        gives it; None when one of them needs the models, for the search to go their way."""
        models = self._models_of(resource_types)
        with self.database.transaction(writing=False) as session:
            total, rows = self._found(session, models, search_request)
        page = [response_form(models[row.resource_type], row) for row in rows]
        if any(resource is None for resource in page):
            return None
        return total, cast(list[dict[str, Any]], page)

    def _models_of(self, resource_types: list[ResourceType]) -> dict[str, type[Resource[Any]]]:
        return {
            _type_name(resource_type): self.model_of(resource_type)
            for resource_type in resource_types
        }

    def _found(
        self,
        session: Session,
        models: dict[str, type[Resource[Any]]],
        search_request: SearchRequest[Any],
    ) -> tuple[int, Sequence[Row[Any]]]:
        """The number of resources a search finds, and the rows of the page it asks for."""
        matching = self._matching(models, search_request)
        total = session.execute(
            select(func.count()).select_from(resources).where(matching)
        ).scalar_one()
        query = select(resources).where(matching)
        sort = sort_value(search_request, models)
        if sort is not None:
            descending = search_request.sort_order == SearchRequest.SortOrder.descending
            query = query.order_by(
                sort.desc().nulls_first() if descending else sort.asc().nulls_last()
            )
        query = query.order_by(resources.c.pk).offset(search_request.start_index_0 or 0)
        if search_request.count is not None:
            query = query.limit(search_request.count)
        return total, session.execute(query).all()

    def create(self, resource_type: ResourceType, resource: Resource[Any]) -> Resource[Any]:
        with self._write() as session:
            now = _now()
            stored = resource.model_copy()
            stored.id = uuid.uuid4().hex
            stored.meta = Meta(
                resource_type=resource_type.name, created=now, last_modified=now, version=etag(1)
            )
            created = self._save(session, stored, version=1)
            self._notify(session, "create", None, created)
            return created

    def update(
        self,
        resource_type: ResourceType,
        resource: Resource[Any],
        *,
        expected_version: str | None = None,
    ) -> Resource[Any]:
        with self._write() as session:
            row = self._stored_row(session, _type_name(resource_type), resource.id, for_update=True)
            self._check_version(row, expected_version)
            return self._replace(session, row, resource)

    def delete(
        self,
        resource_type: ResourceType,
        resource_id: str,
        *,
        expected_version: str | None = None,
    ) -> None:
        with self._write() as session:
            row = self._stored_row(session, _type_name(resource_type), resource_id, for_update=True)
            self._check_version(row, expected_version)
            (before,) = self._hydrate(session, [row], members=True)
            session.execute(delete(resources).where(resources.c.pk == row.pk))
            _locked_rows(session).pop((self.target, row.resource_type, row.id), None)
            self._notify(session, "delete", before, None)
            self._remove_from_groups(session, resource_id)

    def lock(self, resource_type: ResourceType, resource_id: str) -> None:
        """Hold the resource's row until the transaction ends, so that concurrent writes of
        it take turns (``SELECT … FOR UPDATE`` on PostgreSQL; on SQLite a writing
        transaction already holds the database's one write lock).

        :raises NotFoundException: when there is no such resource.
        """
        with self.database.transaction() as session:
            row = self._stored_row(session, _type_name(resource_type), resource_id, for_update=True)
            _locked_rows(session)[(self.target, row.resource_type, row.id)] = row

    def get_many(self, resource_type: ResourceType, resource_ids: list[str]) -> list[Resource[Any]]:
        """The resources of some ids that exist, in a few queries: a group change reads
        its members this way."""
        found = []
        with self.database.transaction(writing=False) as session:
            for chunk in chunked(resource_ids):
                rows = session.execute(
                    select(resources).where(
                        resources.c.target == self.target,
                        resources.c.resource_type == resource_type.name,
                        resources.c.id.in_(chunk),
                    )
                ).all()
                found += self._hydrate(session, rows, members=True)
        return found

    def groups_of(self, user_ids: list[str]) -> dict[str, list[tuple[str, str | None]]]:
        """(id, displayName) of the groups listing each user as a direct member, by user id."""
        found: dict[str, list[tuple[str, str | None]]] = {}
        with self.database.transaction(writing=False) as session:
            for chunk in chunked(user_ids):
                rows = session.execute(
                    select(group_members.c.value, resources.c.id, resources.c.display_name)
                    .join(group_members, group_members.c.group_pk == resources.c.pk)
                    .where(group_members.c.target == self.target, group_members.c.value.in_(chunk))
                    .distinct()
                    .order_by(resources.c.display_name, resources.c.id)
                )
                for row in rows:
                    found.setdefault(row.value, []).append((row.id, row.display_name))
        return found

    def display_names(self, resource_ids: list[str]) -> dict[str, str]:
        """What the resources of some ids are called, by id: a User's displayName, else its
        userName; a Group's displayName. The columns only, no resource is built: a Group
        response names each of its members this way (:mod:`scimbridge.scim.members`)."""
        user_name = resources.c.document["userName"].as_string()
        names: dict[str, str] = {}
        with self.database.transaction(writing=False) as session:
            for chunk in chunked(resource_ids):
                rows = session.execute(
                    select(resources.c.id, resources.c.display_name, user_name).where(
                        resources.c.target == self.target, resources.c.id.in_(chunk)
                    )
                )
                for resource_id, display_name, name in rows:
                    if display_name or name:
                        names[resource_id] = display_name or name
        return names

    def derived_attributes(self, resource_type: str) -> Derived:
        """The attributes of a resource type that a subclass joins in instead of storing
        them, as SQL values that filters compare (none here)."""
        return {}

    def _matching(
        self, models: dict[str, type[Resource[Any]]], search_request: SearchRequest[Any]
    ) -> Any:
        """The target's resources of the searched types that the filter keeps."""
        scim_filter = search_request.filter
        by_type = [
            and_(
                resources.c.resource_type == name,
                true()
                if scim_filter is None
                else filter_condition(
                    scim_filter.ast, model, self.target, name, self.derived_attributes(name)
                ),
            )
            for name, model in models.items()
        ]
        if scim_filter is None:
            return and_(resources.c.target == self.target, or_(*by_type))
        # The filter's rows are found through the search index; left to choose, SQLite
        # (it keeps no statistics) walks the target's whole index of resources instead
        # and tests each one, which grows with the tenant. A comparison on an expression
        # of a column picks no index (SQLite's "+column" idiom), so the filter leads.
        return and_(resources.c.target.concat("") == self.target, or_(*by_type))

    def _stored_row(
        self,
        session: Session,
        resource_type: str,
        resource_id: str | None,
        *,
        for_update: bool = False,
    ) -> Row[Any]:
        """The row of a resource: the one :meth:`lock` read, while it holds it unchanged."""
        locked = _locked_rows(session).get((self.target, resource_type, resource_id))
        if locked is not None:
            return locked
        query = select(resources).where(
            resources.c.target == self.target,
            resources.c.resource_type == resource_type,
            resources.c.id == resource_id,
        )
        row = session.execute(query.with_for_update() if for_update else query).first()
        if row is None:
            raise NotFoundException(detail=f"{resource_type} {resource_id!r} not found")
        return row

    @staticmethod
    def _check_version(row: Row[Any], expected_version: str | None) -> None:
        """RFC 7644 §3.14: a stale If-Match fails with 412."""
        if expected_version is not None and expected_version != etag(row.version):
            raise PreconditionFailedException(detail="the resource has changed since that version")

    def _hydrate(
        self, session: Session, rows: Sequence[Row[Any]], *, members: bool
    ) -> list[Resource[Any]]:
        """The resources of some rows, with their Group members when asked for."""
        members_of: dict[int, list[dict[str, Any]]] = {}
        groups = [row.pk for row in rows if _has_members(self.model_of(row.resource_type))]
        if members and groups:
            member_rows = session.execute(
                select(group_members)
                .where(group_members.c.group_pk.in_(groups))
                .order_by(group_members.c.group_pk, group_members.c.position)
            )
            for member in member_rows:
                members_of.setdefault(member.group_pk, []).append(_member(member))
        return [self._resource(row, members_of.get(row.pk)) for row in rows]

    def _resource(self, row: Row[Any], members: list[dict[str, Any]] | None) -> Resource[Any]:
        return self._assemble(
            self.model_of(row.resource_type),
            row.document,
            members,
            row.id,
            Meta(
                resource_type=row.resource_type,
                created=utc(row.created),
                last_modified=utc(row.last_modified),
                version=etag(row.version),
            ),
        )

    @staticmethod
    def _assemble(
        model: type[Resource[Any]],
        document: dict[str, Any],
        members: list[dict[str, Any]] | None,
        resource_id: str,
        meta: Meta,
    ) -> Resource[Any]:
        """A resource from its stored parts: reading back gives exactly what was written."""
        resource = model.model_validate({**document, MEMBERS: members} if members else document)
        resource.id = resource_id
        resource.meta = meta
        return resource

    def _replace(self, session: Session, row: Row[Any], resource: Resource[Any]) -> Resource[Any]:
        """Store a new state of the resource of ``row``, with the next version."""
        (before,) = self._hydrate(session, [row], members=True)
        replacement = resource.model_copy()
        replacement.id = row.id
        replacement.meta = Meta(
            resource_type=row.resource_type,
            created=utc(row.created),
            last_modified=_now(),
            version=etag(row.version + 1),
        )
        after = self._save(session, replacement, version=row.version + 1, pk=row.pk)
        self._notify(session, "update", before, after)
        return after

    def _save(
        self, session: Session, resource: Resource[Any], *, version: int, pk: int | None = None
    ) -> Resource[Any]:
        """Write a resource (a new row when ``pk`` is None) and return it as it reads back.

        An update writes only what changed of its member, unique-value and index rows:
        adding one member to a group of thousands writes that member's rows, not the group's.
        """
        assert resource.id is not None and resource.meta is not None
        document = resource.model_dump(mode="json")
        document.pop("id", None)
        document.pop("meta", None)
        members = document.pop(MEMBERS, None) if _has_members(type(resource)) else None
        members = members or []
        saved = self._assemble(type(resource), document, members, resource.id, resource.meta)
        # _assemble gives it resource.meta, which create and _replace fill with a type name
        assert saved.meta is not None and saved.meta.resource_type is not None
        row = {
            "document": document,
            "version": version,
            "last_modified": saved.meta.last_modified,
            "display_name": _display_name(saved),
        }
        created = pk is None
        if pk is None:
            inserted = session.execute(
                insert(resources).values(
                    target=self.target,
                    resource_type=saved.meta.resource_type,
                    id=saved.id,
                    created=saved.meta.created,
                    **row,
                )
            )
            # DML executes into a CursorResult, which Session.execute types as a plain Result;
            # the key of a one-row INSERT without RETURNING is there (None is for other kinds)
            primary_key = cast(CursorResult[Any], inserted).inserted_primary_key
            assert primary_key is not None
            pk = primary_key[0]
        else:
            session.execute(update(resources).where(resources.c.pk == pk).values(**row))
            _locked_rows(session).pop((self.target, saved.meta.resource_type, saved.id), None)
        write_unique_values(session, self.target, pk, unique_values(saved), created=created)
        positions = []
        if _has_members(type(saved)):
            keys = [member_key(member) for member in members]
            positions = write_members(session, self.target, pk, keys, created=created)
        entries = index_rows(saved)
        if positions:
            # A member's index rows are numbered by its stored position, which a change of
            # other members leaves alone, so that they stay as they are.
            urn = _members_urn(type(saved))
            for entry in entries:
                path = entry["path"]
                if entry["element"] is not None and (path == urn or path.startswith(f"{urn}.")):
                    entry["element"] = positions[entry["element"]]
        write_index(session, self.target, pk, saved.meta.resource_type, entries, created=created)
        return saved

    def _remove_from_groups(self, session: Session, member_id: str) -> None:
        """A deleted resource leaves the groups that listed it; each gets a new version."""
        groups = session.execute(
            select(resources)
            .where(
                resources.c.pk.in_(
                    select(group_members.c.group_pk).where(
                        group_members.c.target == self.target, group_members.c.value == member_id
                    )
                )
            )
            .order_by(resources.c.pk)
        ).all()
        for row in groups:
            (group,) = self._hydrate(session, [row], members=True)
            # a resource type's model has members when it declares them (_has_members)
            members = getattr(group, MEMBERS) or []
            remaining = [member for member in members if member.value != member_id]
            setattr(group, MEMBERS, remaining or None)
            self._replace(session, row, group)

    def _notify(
        self,
        session: Session,
        operation: Operation,
        before: Resource[Any] | None,
        after: Resource[Any] | None,
    ) -> None:
        """Tell the listeners about a write, inside its transaction."""
        subject = after or before
        assert subject is not None and subject.meta is not None and subject.id is not None
        event = StoreEvent(
            target=self.target,
            resource_type=str(subject.meta.resource_type),
            resource_id=subject.id,
            operation=operation,
            before=before,
            after=after,
        )
        for listener in self.listeners:
            listener(session, event)
