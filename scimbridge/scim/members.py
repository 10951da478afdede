"""Group members in responses carry ``display``: the member's name, read when answering.

RFC 7643 §4.2 describes ``display`` as "a human-readable name, primarily used for
display purposes", and Group responses without it read as bare ids to an admin comparing
them with the IdP's view (issue 25; Microsoft's reference collection asserts nothing
about it, so this is a courtesy, not a conformance fix). Identity providers send members as ``{"value": "<id>"}``, so
the bridge fills in what the member is called when it answers: a User's
``displayName``, else its ``userName``; a Group's ``displayName``. The name is read
from the member at that moment, never stored with the membership, so it follows a
rename; a member whose id names no stored resource keeps what was sent. A ``display``
the client sent is kept as sent.

A response whose request chose its attributes (``attributes`` or
``excludedAttributes``) is left as the library made it: the chosen set is the client's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"

NameLookup = Callable[[list[str]], dict[str, str]]
"""The names of the resources of some ids that exist, by id
(:meth:`scimbridge.store.SqlStorage.display_names`)."""


def groups_in(body: Any) -> Iterable[dict[str, Any]]:
    """The Group representations of a response body: the body itself, or a listing's."""
    if not isinstance(body, dict):
        return []
    listed = body.get("Resources")
    candidates = listed if isinstance(listed, list) else [body]
    return [
        resource
        for resource in candidates
        if isinstance(resource, dict) and GROUP_SCHEMA in resource.get("schemas", [])
    ]


def add_member_display(body: Any, names: NameLookup) -> None:
    """Fill in, in place, the ``display`` of every member of the body's Groups that has none,
    with one lookup for the whole body."""
    members = [
        member
        for group in groups_in(body)
        for member in group.get("members") or []
        if isinstance(member, dict) and "display" not in member and member.get("value")
    ]
    if not members:
        return
    found = names(sorted({str(member["value"]) for member in members}))
    for member in members:
        name = found.get(str(member["value"]))
        if name:
            member["display"] = name
