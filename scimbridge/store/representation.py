"""A stored resource as a read without ``attributes`` or ``excludedAttributes`` returns it,
built from its stored document without the models.

The document a resource is stored as is the dump of its model, so validating it into
the model and dumping it again for the response changes nothing, but costs most of a
read. It is skipped only where that holds; everything else goes the models' way.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from typing import Any

from scim2_models import Path, Resource, Returned
from scim2_server.utils import parametrize
from sqlalchemy import Row

from scimbridge.store.database import utc

MEMBERS = "members"
"""The attribute kept as rows of ``group_members`` rather than in the document."""


def etag(version: int) -> str:
    """``meta.version`` as a weak entity tag (RFC 7644 §3.14)."""
    return f'W/"{version}"'


@cache
def _left_out_by_default(model: type[Resource[Any]]) -> tuple[tuple[str | None, str], ...]:
    """(extension URN or None, attribute) of the attributes a default read leaves out,
    wholly or in part: ``returned`` never or request (RFC 7643 §7)."""
    paths = parametrize(Path, model).iter_paths(returned=[Returned.never, Returned.request])
    return tuple(sorted({(path.schema, path.parts[0]) for path in paths}, key=str))


def _holds_reference(value: Any) -> bool:
    """Whether a stored value holds a ``$ref``, which a response turns into a URL."""
    if isinstance(value, dict):
        return "$ref" in value or any(_holds_reference(item) for item in value.values())
    if isinstance(value, list):
        return any(_holds_reference(item) for item in value)
    return False


def _as_stored(model: type[Resource[Any]], document: dict[str, Any]) -> bool:
    """Whether a default read returns the stored document as it is (see ``representation``)."""
    for schema, attribute in _left_out_by_default(model):
        holder = document if schema is None else document.get(schema) or {}
        if holder.get(attribute) is not None:
            return False
    return not _holds_reference(document)


def response_form(model: type[Resource[Any]], row: Row[Any]) -> dict[str, Any] | None:
    """A stored resource as a default read returns it, but ``meta.location``; None when
    only its model can say that (see :meth:`scimbridge.store.SqlStorage.representation`)."""
    if MEMBERS in model.model_fields or not _as_stored(model, row.document):
        return None
    document = dict(row.document)
    head: dict[str, Any] = {"schemas": document.pop("schemas"), "id": row.id}
    external_id = document.pop("externalId", None)
    if external_id is not None:
        head["externalId"] = external_id
    head["meta"] = {
        "resourceType": row.resource_type,
        "created": _timestamp(row.created),
        "lastModified": _timestamp(row.last_modified),
        "version": etag(row.version),
    }
    return {**head, **document}


def _timestamp(moment: datetime) -> str:
    """A dateTime as pydantic writes it in JSON: ISO 8601 in UTC, with ``Z``."""
    return utc(moment).astimezone(UTC).isoformat().replace("+00:00", "Z")
