"""The identity providers' PATCH dialects, brought to RFC 7644 §3.5.2 before the handler sees them.

scim2-models already absorbs most documented deviations: capitalised ``op``
values (Entra ID sends ``"Replace"``/``"Add"``), booleans sent as strings
(``"active": "False"``), operations without a path whose value holds dotted
or URN-qualified keys, and value-filter paths such as
``emails[type eq "work"].value``. The rules below cover what it refuses, each
citing the documented request it exists for. Every rule is a pure function of
one operation (or, for POST and PUT bodies, of one resource), so a request
that needs none passes through unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

ENTERPRISE_USER = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
MANAGER_PATH = f"{ENTERPRISE_USER}:manager"
CORE_SCHEMA_PREFIX = "urn:ietf:params:scim:schemas:core:"

Operation = dict[str, Any]
Rule = Callable[[str, Operation], Iterator[Operation]]
Document = dict[str, Any]
ResourceRule = Callable[[Document], Document]


def _op_name(operation: Operation) -> str:
    op = operation.get("op")
    return op.lower() if isinstance(op, str) else ""


def _path(operation: Operation) -> str:
    path = operation.get("path")
    return path if isinstance(path, str) else ""


def qualify_manager_path(endpoint: str, operation: Operation) -> Iterator[Operation]:
    """Entra ID's "Update User [Add Manager]" and "[Remove Manager]" requests name the
    path ``manager``, which only the enterprise extension defines (RFC 7643 §4.3)."""
    if endpoint == "Users" and _path(operation).lower() == "manager":
        operation = {**operation, "path": MANAGER_PATH}
    yield operation


def unwrap_manager_value(endpoint: str, operation: Operation) -> Iterator[Operation]:
    """Entra ID sends the manager as ``[{"$ref": null, "value": "<id>"}]`` (a list) or as
    the bare id, where the schema has a single complex value ``{"value": "<id>"}``."""
    value = operation.get("value")
    if endpoint == "Users" and _path(operation).lower() == MANAGER_PATH.lower():
        if isinstance(value, list) and len(value) == 1 and isinstance(value[0], dict):
            value = value[0]
        if isinstance(value, str):
            value = {"value": value}
        if isinstance(value, dict):
            value = {key: item for key, item in value.items() if item is not None}
        operation = {**operation, "value": value}
    yield operation


def split_member_removal(endpoint: str, operation: Operation) -> Iterator[Operation]:
    """Entra ID ("Update Group [Remove Members]") and Okta remove group members with
    ``{"op": "Remove", "path": "members", "value": [{"value": "<id>"}]}``; RFC 7644
    §3.5.2.2 selects the members with a value filter in the path instead."""
    members = operation.get("value")
    if (
        endpoint == "Groups"
        and _op_name(operation) == "remove"
        and _path(operation).lower() == "members"
        and isinstance(members, list)
        and members
        and all(
            isinstance(member, dict) and isinstance(member.get("value"), str) for member in members
        )
    ):
        for member in members:
            yield {"op": "remove", "path": f"members[value eq {json.dumps(member['value'])}]"}
        return
    yield operation


RULES: tuple[Rule, ...] = (qualify_manager_path, unwrap_manager_value, split_member_removal)


def normalise_operations(endpoint: str, operations: list[Any]) -> list[Any]:
    """Apply every rule to every operation, keeping anything that is not an operation as is,
    so that the library still reports it as the error it is."""
    result: list[Any] = []
    for operation in operations:
        steps = [operation]
        if isinstance(operation, dict):
            for rule in RULES:
                steps = [produced for step in steps for produced in rule(endpoint, step)]
        result.extend(steps)
    return result


def drop_null_attributes(document: Document) -> Document:
    """The tutorial's "Provision a user" example (Example 2) sends unmapped attributes as
    ``null`` (``"addresses": null``, ``"manager": null``...), some of them not even User
    attributes; RFC 7643 §2.5 makes null equivalent to unassigned, so they are dropped."""
    return {key: value for key, value in document.items() if value is not None}


def _is_core_schema(schema: Any) -> bool:
    return isinstance(schema, str) and schema.startswith(CORE_SCHEMA_PREFIX)


def drop_empty_extension_schemas(document: Document) -> Document:
    """Beside a core schema, drop the ``schemas`` URIs that hold no attribute in the body.

    Entra ID's "Create Group" request (tutorial, "Group Operations") lists
    ``http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group``, and its
    "Provision a user" example lists the misspelt ``...:enterprise:2.0User``; neither carries
    an attribute (RFC 7643 §3: extension attributes sit under their schema URI), so dropping
    them loses nothing, where keeping them makes the library refuse the whole resource.
    A body naming no core schema is left for the library to refuse.
    """
    schemas = document.get("schemas")
    if not isinstance(schemas, list) or not any(_is_core_schema(schema) for schema in schemas):
        return document
    kept = [
        schema
        for schema in schemas
        if not isinstance(schema, str) or _is_core_schema(schema) or schema in document
    ]
    return {**document, "schemas": kept}


RESOURCE_RULES: tuple[ResourceRule, ...] = (drop_null_attributes, drop_empty_extension_schemas)


def normalise_resource(body: Any) -> Any:
    """Normalise a resource sent by POST or PUT (RFC 7644 §3.3, §3.5.1); anything else is untouched."""
    if not isinstance(body, dict):
        return body
    for rule in RESOURCE_RULES:
        body = rule(body)
    return body


def normalise_patch(endpoint: str, body: Any) -> Any:
    """Normalise the ``Operations`` of a PatchOp body; anything else is returned untouched."""
    if isinstance(body, dict) and isinstance(body.get("Operations"), list):
        return {**body, "Operations": normalise_operations(endpoint, body["Operations"])}
    return body


def _normalise_bulk_operation(operation: Any) -> Any:
    if not (isinstance(operation, dict) and isinstance(operation.get("path"), str)):
        return operation
    method = str(operation.get("method", "")).upper()
    if method == "PATCH":
        endpoint = operation["path"].strip("/").split("/")[0]
        return {**operation, "data": normalise_patch(endpoint, operation.get("data"))}
    if method in ("POST", "PUT"):
        return {**operation, "data": normalise_resource(operation.get("data"))}
    return operation


def normalise_bulk(body: Any) -> Any:
    """Normalise the operations inside a Bulk request (RFC 7644 §3.7) as if sent alone."""
    if not (isinstance(body, dict) and isinstance(body.get("Operations"), list)):
        return body
    return {**body, "Operations": [_normalise_bulk_operation(op) for op in body["Operations"]]}
