"""What a resource writes into the search index and the unique-values table.

The search index holds one row per attribute value, keyed by the attribute's
URN as scim2-models resolves it (``…:User:emails.type``), so a filter
(:mod:`scimbridge.store.filters`) becomes EXISTS/IN subqueries on indexed
columns instead of a scan of the documents. Values are stored in the form
:func:`scimbridge.comparison.comparable` gives, the one ``ScimFilter.match`` compares:
NFC, and lower-cased unless the attribute is ``caseExact`` (RFC 7643 §2.2).

Rows of a multi-valued attribute carry their ``element`` index, so a value
filter (``emails[type eq "work" and value co "@x"]``) can require both
conditions of the same entry. A complex value gets a row without a value of
its own (a *marker*), which is what ``pr`` and ``eq null`` test, and what a
value filter iterates over.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from typing import Any

from pydantic import BaseModel
from scim2_models import AttributeBinding, Path, Resource, Uniqueness
from scim2_models.path import attribute_host
from scim2_server.utils import parametrize

from scimbridge.comparison import comparable
from scimbridge.store.tables import TEXT_KEY_LENGTH

COMMON_PATHS = ("id", "meta", "meta.resourceType", "meta.created", "meta.lastModified")
"""RFC 7643 §3.1 attributes every resource has, which ``Path.iter_paths`` leaves out."""

MOMENT_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def moment(value: datetime) -> str:
    """A dateTime as fixed-width UTC text, so text order is time order on every database."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime(MOMENT_FORMAT)


def value_columns(binding: AttributeBinding, value: Any) -> dict[str, Any]:
    """The search-index columns holding ``value``, in its compared form.

    Each SCIM type has its own column, so values of different types never
    compare equal, as in Python. A complex value has none (it is a marker), and
    neither has a string the comparison policy refuses: ``ScimFilter.match``
    finds it equal to nothing.
    """
    if isinstance(value, bool):
        return {"flag": value}
    if isinstance(value, int | float | Decimal):
        return {"number": float(value)}
    if isinstance(value, datetime):
        return {"moment": moment(value)}
    if isinstance(value, bytes):
        return {"text": base64.b64encode(value).decode()}
    if isinstance(value, str):
        try:
            return {"text": comparable(binding, value)}
        except ValueError:
            return {}
    return {}


def is_present(value: Any) -> bool:
    """RFC 7644 §3.4.2.2 ``pr``: a non-empty value, or a complex value with one."""
    if value is None:
        return False
    if isinstance(value, str | bytes):
        return len(value) > 0
    if isinstance(value, BaseModel):
        return any(is_present(getattr(value, name)) for name in type(value).model_fields)
    if isinstance(value, list):
        return any(is_present(item) for item in value)
    return True


@cache
def indexed_attributes(model: type[Resource[Any]]) -> tuple[AttributeBinding, ...]:
    """Every attribute and sub-attribute of a resource model, extensions included."""
    path_type = parametrize(Path, model)
    paths = [*path_type.iter_paths(), *(path_type(name) for name in COMMON_PATHS)]
    bindings = (path.resolve() for path in paths)
    return tuple(binding for binding in bindings if binding is not None)


def representative(entries: list[Any]) -> int:
    """The entry sorting uses: the primary one, else the first (RFC 7644 §3.4.2.3)."""
    return next(
        (index for index, entry in enumerate(entries) if getattr(entry, "primary", None)), 0
    )


def attribute_values(
    resource: Resource[Any], binding: AttributeBinding
) -> Iterator[tuple[int | None, bool, Any]]:
    """The (element, representative, value) of an attribute, for the values that are set."""
    host = attribute_host(resource, binding)
    head = getattr(host, binding.field_name, None) if host is not None else None
    if head is None:
        return
    sub = binding.sub_field_name
    if not isinstance(head, list):
        value = getattr(head, sub, None) if sub else head
        if value is not None:
            yield None, True, value
        return
    chosen = representative(head)
    for element, entry in enumerate(head):
        value = getattr(entry, sub, None) if sub else entry
        if value is not None:
            yield element, element == chosen, value


def index_rows(resource: Resource[Any]) -> list[dict[str, Any]]:
    """The search-index rows of a resource (without the keys tying them to it)."""
    rows = []
    for binding in indexed_attributes(type(resource)):
        for element, chosen, value in attribute_values(resource, binding):
            columns = {"text": None, "number": None, "flag": None, "moment": None}
            columns.update(value_columns(binding, value))
            text = columns["text"]
            rows.append(
                {
                    "path": binding.urn,
                    "element": element,
                    "representative": chosen,
                    "present": is_present(value),
                    "text_key": None if text is None else text[:TEXT_KEY_LENGTH],
                    **columns,
                }
            )
    return rows


@cache
def unique_attributes(model: type[Resource[Any]]) -> tuple[AttributeBinding, ...]:
    """The attributes whose ``uniqueness`` is ``server`` or ``global`` (RFC 7643 §2.2)."""
    paths = parametrize(Path, model).iter_paths(
        include_subattributes=False, uniqueness=[Uniqueness.server, Uniqueness.global_]
    )
    bindings = (path.resolve() for path in paths)
    return tuple(binding for binding in bindings if binding is not None)


def unique_values(resource: Resource[Any]) -> dict[str, str]:
    """The unique values of a resource, in compared form, by attribute URN.

    As in scim2-server's in-memory storage (RFC 7643 erratum 8279), the URN
    holds the schema, so resources of any type using that schema clash; a
    missing value or one the policy cannot compare never clashes.
    """
    values = {}
    for binding in unique_attributes(type(resource)):
        for _, _, value in attribute_values(resource, binding):
            try:
                compared = comparable(binding, value)
            except ValueError:
                continue
            values[binding.urn] = unique_key(compared)
    return values


def unique_key(compared: Any) -> str:
    """How a compared value is held under the unique constraint: long ones by their digest."""
    text = compared if isinstance(compared, str) else repr(compared)
    if len(text) <= TEXT_KEY_LENGTH:
        return text
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()
