"""The identity providers' dialects, brought to RFC 7644 (§3.5.2, §3.4.2.2) before the handler sees them.

scim2-models already absorbs most documented deviations: capitalised ``op``
values (Entra ID sends ``"Replace"``/``"Add"``), booleans sent as strings
(``"active": "False"``), operations without a path whose value holds dotted
or URN-qualified keys, and value-filter paths such as
``emails[type eq "work"].value``. The rules below cover what it refuses, each
citing the documented request it exists for. Every rule is a pure function of
one operation (or, for POST and PUT bodies, of one resource), so a request
that needs none passes through unchanged.

Filters have one rule of their own, :func:`quote_bare_values`: the unquoted values
Microsoft's SCIM reference tests send, read as strings where that is the only reading.
"""

from __future__ import annotations

import json
import re
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


COMPARISON_OPERATORS = frozenset({"eq", "ne", "co", "sw", "ew", "gt", "lt", "ge", "le"})
FILTER_KEYWORDS = COMPARISON_OPERATORS | {"and", "or", "not", "pr", "true", "false", "null"}
"""The words of the filter grammar (RFC 7644 §3.4.2.2), compared case-insensitively."""

_FILTER_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"?|[()\[\]]|[^\s()\[\]"]+')
"""A string literal (an unterminated one runs to the end), a bracket, or a word: the run of
characters up to the next space, bracket or quote."""
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")


def _is_word(token: str | None) -> bool:
    return token is not None and token[0] not in '"()[]' and token.lower() not in FILTER_KEYWORDS


def quote_bare_values(expression: str) -> str:
    """Quote the comparison values a filter sends without quotes, where that is unambiguous.

    RFC 7644 §3.4.2.2 requires a string value in double quotes, but Microsoft's SCIM
    reference tests and Entra ID-compatible clients send ``userName sw O`` and
    ``meta.created gt 2015-10-10T14:38:21.8617979-07:00``. The rule, applied by
    :meth:`scimbridge.scim.service.BridgeService.read_search` only to a filter the
    library refused (so a filter valid as sent is never reinterpreted):

    - the value is the word that follows a comparison operator which itself follows an
      attribute path: every character up to the next space, parenthesis, square bracket
      or double quote;
    - it is quoted as a JSON string unless it reads as a JSON number (``123``), a
      keyword of the grammar (``true``, ``false``, ``null``, ``and``, ``or``, ``not``,
      ``pr``, an operator) or begins with a double quote. An attribute-like word
      (``O``, ``john.smith``) is a string: the grammar compares an attribute with a
      value, never with another attribute.

    A value with a space (``displayName eq John Smith``) stays ambiguous, and the
    filter stays refused with the library's ``invalidFilter``; so does a number
    compared with a string attribute (``externalId eq 123``).
    """
    pieces: list[str] = []
    end = 0
    before: str | None = None
    previous: str | None = None
    for match in _FILTER_TOKEN.finditer(expression):
        token = match.group()
        follows_operator = (
            previous is not None and previous.lower() in COMPARISON_OPERATORS and _is_word(before)
        )
        if follows_operator and _is_word(token) and not _NUMBER.fullmatch(token):
            pieces += [expression[end : match.start()], json.dumps(token)]
            end = match.end()
        before, previous = previous, token
    return "".join(pieces) + expression[end:]
