"""What a request must not carry, refused with a 400 before any parser or database sees it.

Two kinds of hostile input used to end in a 500 (docs/security.md, "Hostile input"):

- **Deep nesting.** Python's ``json`` module, and every recursive walk of a parsed
  document after it, recurses once per level: 100,000 nested arrays exhaust the
  stack. :func:`ensure_shallow` measures the depth of the raw body *without*
  parsing it (:func:`depth`), and a body nested deeper than :data:`MAX_DEPTH` is refused
  ``invalidSyntax`` (RFC 7644 §3.12) before ``json.loads`` runs.
- **NUL characters.** PostgreSQL cannot store U+0000 in a text or JSON value (it
  raises, and the request answered 500), while SQLite stores it: the same request
  must not succeed on one database and fail on the other. A NUL in any string of a
  body (a key or a value, at any depth, in a PATCH value or a Bulk operation) is
  refused ``invalidValue`` naming where it is; so is a NUL in the request's URL
  (a resource id, a query parameter). A NUL inside a filter's string literal
  (``\\u0000``) is refused ``invalidFilter`` by
  :meth:`scimbridge.scim.service.BridgeService.read_search`, with the same check.
"""

from __future__ import annotations

import json
import operator
import re
from collections.abc import Iterator, Mapping
from itertools import accumulate, count
from typing import Any

from scim2_models import InvalidSyntaxException, InvalidValueException

MAX_DEPTH = 64
"""The deepest nesting of arrays and objects a request body may have.

The deepest SCIM document the bridge reads is a Bulk request: its ``Operations``
list, an operation, its ``data``, a multi-valued attribute, one of its values — six
levels. 64 leaves room for any client and stays far below Python's recursion limit.
"""

NUL = "\x00"

_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
"""A JSON string, escapes included, matched in linear time."""
_DEPTH_STEPS = bytes.maketrans(b"[{]}", b"\x02\x02\x00\x00")
"""An opening bracket as 2 and a closing one as 0: one more than the step it makes in depth."""
_NOT_BRACKETS = bytes(sorted(set(range(256)) - set(b"[]{}")))
_NUL_ESCAPE = r"(?<!\\)(?:\\\\)*\\u0000"
"""The escape of U+0000 in a JSON string (or a filter's string literal), preceded by an even
number of backslashes: after an odd number, the first backslash of ``\\u0000`` is escaped."""
_NUL_ESCAPE_BYTES = re.compile(_NUL_ESCAPE.encode())
_NUL_ESCAPE_TEXT = re.compile(_NUL_ESCAPE)


def depth(body: bytes) -> int:
    """How deep the JSON text ``body`` nests arrays and objects, measured without parsing it.

    Strings are blanked first (a bracket inside one is no nesting); what remains is the
    sequence of brackets, each one step up or down. The running sum is taken by
    ``itertools.accumulate`` and compared by ``map``, both iterating in C: no recursion,
    and about 0.1 s for a megabyte of brackets. Unbalanced brackets are the parser's to
    refuse; they only make the measure meaningless, never an error here.
    """
    brackets = _STRING.sub(b'""', body).translate(_DEPTH_STEPS, _NOT_BRACKETS)
    # After i brackets, the sum of their (step + 1) is the depth plus i.
    return max(map(operator.sub, accumulate(brackets), count(1)), default=0)


def ensure_shallow(body: bytes) -> None:
    """:raises InvalidSyntaxException: for a body nested deeper than :data:`MAX_DEPTH`."""
    if depth(body) > MAX_DEPTH:
        raise InvalidSyntaxException(
            detail=f"The request body nests arrays and objects more than {MAX_DEPTH} levels deep"
        )


def nul_positions(document: Any) -> Iterator[str]:
    """The places of ``document`` (``Operations[0].data.userName``) whose key or string
    value holds a NUL, walked without recursion."""
    pending: list[tuple[str, Any]] = [("", document)]
    while pending:
        place, value = pending.pop()
        if isinstance(value, str) and NUL in value:
            yield place or "the body"
        elif isinstance(value, dict):
            for key, item in reversed(value.items()):
                child = f"{place}.{key}" if place else str(key)
                if NUL in key:
                    yield child.replace(NUL, "\\u0000")
                else:
                    pending.append((child, item))
        elif isinstance(value, list):
            pending.extend(
                (f"{place}[{index}]", item) for index, item in reversed(list(enumerate(value)))
            )


def ensure_no_nul_in_body(body: bytes) -> None:
    """:raises InvalidValueException: naming the first string of the body that holds a NUL.

    The raw body is searched first, so a body without one is never parsed here; a body
    that is not JSON is left for the library to refuse.
    """
    if b"\x00" not in body and not _NUL_ESCAPE_BYTES.search(body):
        return
    try:
        document = json.loads(body)
    except ValueError:
        return
    place = next(nul_positions(document), None)
    if place is not None:
        raise InvalidValueException(
            detail=f"{place} contains a NUL character (U+0000), which no value may hold"
        )


def filter_holds_nul(expression: str) -> bool:
    """Whether a filter holds a NUL, as such or escaped in a string literal."""
    return NUL in expression or _NUL_ESCAPE_TEXT.search(expression) is not None


def ensure_no_nul_in_url(path: str, query: Mapping[str, str]) -> None:
    """:raises InvalidValueException: when the URL's path or a query parameter holds a NUL."""
    if NUL in path:
        raise InvalidValueException(
            detail="The request's path contains a NUL character (U+0000), which no id may hold"
        )
    for name, value in query.items():
        if NUL in name or NUL in value:
            raise InvalidValueException(
                detail=f"The query parameter {name.replace(NUL, '')!r} contains a NUL "
                "character (U+0000), which no value may hold"
            )


def screen(body: bytes, path: str, query: Mapping[str, str]) -> None:
    """Refuse, with a 400, a request that holds what no parser or database may be given."""
    ensure_no_nul_in_url(path, query)
    if body:
        ensure_shallow(body)
        ensure_no_nul_in_body(body)
