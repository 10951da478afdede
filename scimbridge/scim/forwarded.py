"""The ``Forwarded`` header (RFC 7239): what the last proxy says about the request it forwards.

Each proxy appends one element (``for=192.0.2.60;proto=https;host=idm.example.com``)
to the header, separated by commas, over one or several header lines. Only the
right-most element is read, the one the trusted proxy appended: elements to its left
come from further away, from anybody — the same rule as the right-most
``X-Forwarded-*`` value (:mod:`scimbridge.scim.locations`,
:mod:`scimbridge.scim.throttle`). A header that does not parse is ignored as a
whole: a proxy that writes it wrongly is not trusted to have written its part right.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_PAIR = re.compile(
    r"""[ \t]*([!#$%&'*+.^_`|~0-9A-Za-z-]+)=("(?:[^"\\]|\\.)*"|[!#$%&'*+.^_`|~0-9A-Za-z:\[\]-]*)[ \t]*([;,]|$)"""
)
"""One ``name=value`` pair (RFC 7239 §4: a token, or a quoted-string) and what ends it."""
_ESCAPE = re.compile(r"\\(.)")

_ADDRESS = re.compile(r"^(?:\[(?P<v6>[0-9A-Fa-f:.]+)\]|(?P<v4>[0-9.]+))(?::\d{1,5})?$")
"""A ``for`` node (RFC 7239 §6): an IPv4 address or a bracketed IPv6 one, with an optional
port. ``unknown`` and obfuscated identifiers (``_hidden``) name no address."""


def last_element(lines: Sequence[str]) -> dict[str, str] | None:
    """The right-most element of the ``Forwarded`` header lines, its parameter names
    lower-cased; None without a header, or when it does not parse."""
    text = ",".join(line for line in lines if line.strip())
    if not text:
        return None
    elements: list[dict[str, str]] = [{}]
    position = 0
    while position < len(text):
        pair = _PAIR.match(text, position)
        if pair is None or pair.end() == position:
            return None
        name, value, separator = pair.groups()
        if value.startswith('"'):
            value = _ESCAPE.sub(r"\1", value[1:-1])
        elements[-1][name.lower()] = value
        if separator == ",":
            elements.append({})
        position = pair.end()
    return elements[-1] or None


def node_address(node: str | None) -> str | None:
    """The IP address of a ``for`` node (``"[2001:db8::17]:4711"`` gives ``2001:db8::17``),
    or None for ``unknown``, an obfuscated identifier or anything else."""
    if node is None:
        return None
    match = _ADDRESS.match(node)
    return (match.group("v6") or match.group("v4")) if match else None
