"""SCIM attribute paths, parsed and checked by scim2-models once, then read from a stored resource dict.

A mapping reads the same few paths for every user, so the expensive part
(parsing RFC 7644 §3.5.2 paths, resolving attribute names case-insensitively
against the User schema with the enterprise extension, checking the names in value filters) is done
when the file is loaded. What remains per user is a handful of ``dict.get``
calls on the JSON the store keeps (camelCase keys, extension attributes under
their schema URN), which is what keeps mapping in microseconds.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from scim2_models import AttributeBinding, EnterpriseUser, User
from scim2_models.exceptions import SCIMException
from scim2_models.path import (
    AttrPath,
    CompareOperator,
    Comparison,
    FilterNode,
    LogicalExpr,
    LogicalOperator,
    Not,
    Path,
    Present,
)

from scimbridge.comparison import text_key

Predicate = Callable[[dict[str, Any]], bool]

USER_PATH = Path[User[EnterpriseUser]]


class InvalidSourcePath(ValueError):
    """A source path that does not name an attribute of the resource (the message says why)."""


@dataclass(frozen=True, slots=True)
class _Attribute:
    """Where an attribute lives in the stored JSON, and how its strings compare."""

    container: str | None
    """The extension schema URN the attribute is stored under, or None for a core attribute."""
    name: str
    sub_name: str | None
    multi_valued: bool
    binding: AttributeBinding
    """The attribute as scim2-models resolved it: how its strings compare (:mod:`scimbridge.comparison`)."""


def _attribute(text: str) -> _Attribute:
    """Resolve ``text`` against the schema, giving the canonical (stored) spelling of its names."""
    try:
        path = USER_PATH(text)
        binding = path.resolve()
    except SCIMException as error:
        raise InvalidSourcePath(f"{text!r} is not a SCIM attribute path: {error.detail}") from None
    if binding is None:
        raise InvalidSourcePath(f"{text!r} is not an attribute of the SCIM User")
    schema, _, attribute = binding.urn.rpartition(":")
    name, _, sub_name = attribute.partition(".")
    if ".".join(path.parts).casefold() != attribute.casefold():
        # scim2-models also resolves Python field names (user_name); RFC 7643 names only here.
        raise InvalidSourcePath(
            f"{text!r} is not a SCIM attribute name; did you mean {attribute!r}?"
        )
    return _Attribute(
        container=None if schema == User.__schema__ else schema,
        name=name,
        sub_name=sub_name or None,
        multi_valued=binding.is_multivalued,
        binding=binding,
    )


def _normaliser(binding: AttributeBinding) -> Callable[[Any], Any]:
    """How the attribute's values compare, as the search index and ``ScimFilter.match``
    compare them (strings: :func:`scimbridge.comparison.text_key`; other types as they are)."""
    key = text_key(binding)
    return lambda value: key(value) if isinstance(value, str) else value


def _ordered(compare: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    """RFC 7644 §3.4.2.2: ordering compares strings with strings and numbers with numbers only."""

    def guarded(actual: Any, expected: Any) -> bool:
        comparable = (isinstance(actual, str) and isinstance(expected, str)) or (
            isinstance(actual, int | float)
            and isinstance(expected, int | float)
            and not isinstance(actual, bool)
        )
        return comparable and compare(actual, expected)

    return guarded


def _textual(compare: Callable[[str, str], bool]) -> Callable[[Any, Any], bool]:
    return lambda actual, expected: (
        isinstance(actual, str) and isinstance(expected, str) and compare(actual, expected)
    )


COMPARATORS: dict[CompareOperator, Callable[[Any, Any], bool]] = {
    CompareOperator.eq: operator.eq,
    CompareOperator.ne: operator.ne,
    CompareOperator.co: _textual(lambda actual, expected: expected in actual),
    CompareOperator.sw: _textual(str.startswith),
    CompareOperator.ew: _textual(str.endswith),
    CompareOperator.gt: _ordered(operator.gt),
    CompareOperator.ge: _ordered(operator.ge),
    CompareOperator.lt: _ordered(operator.lt),
    CompareOperator.le: _ordered(operator.le),
}


class _FilterCompiler:
    """Turns the filter of a value selection (``emails[type eq "work"]``) into a predicate on one entry."""

    def __init__(self, attribute: str):
        self.attribute = attribute

    def compile(self, node: FilterNode) -> Predicate:
        if isinstance(node, Comparison):
            return self._comparison(node)
        if isinstance(node, Present):
            read = self._reader(node.attr_path)[0]
            return lambda entry: read(entry) not in (None, "", [])
        if isinstance(node, Not):
            inner = self.compile(node.expr)
            return lambda entry: not inner(entry)
        if isinstance(node, LogicalExpr):
            terms = [self.compile(term) for term in node.terms]
            combine = all if node.op == LogicalOperator.and_ else any
            return lambda entry: combine(term(entry) for term in terms)
        raise InvalidSourcePath(f"the filter {node} cannot be used in a mapping")

    def _reader(
        self, attr_path: AttrPath
    ) -> tuple[Callable[[dict[str, Any]], Any], AttributeBinding]:
        names = [attr_path.attr, *([attr_path.sub_attr] if attr_path.sub_attr else [])]
        resolved = _attribute(".".join([self.attribute, *names]))
        key = resolved.sub_name or resolved.name
        return (lambda entry: entry.get(key)), resolved.binding

    def _comparison(self, node: Comparison) -> Predicate:
        read, binding = self._reader(node.attr_path)
        compare = COMPARATORS[node.op]
        normalised = _normaliser(binding)
        expected = normalised(node.value)
        return lambda entry: compare(normalised(read(entry)), expected)


def _primary_first(entries: list[Any]) -> list[Any]:
    """RFC 7643 §2.4: the ``primary`` value is the preferred one, so it comes first."""
    return sorted(
        entries, key=lambda entry: not (isinstance(entry, dict) and entry.get("primary") is True)
    )


class SourcePath:
    """One compiled SCIM path: ``read(resource)`` gives a value, a list (multi-valued) or None.

    Values of a multi-valued attribute come primary first; empty strings and
    absent values are left out, since a mapping treats them as "the user has none".
    """

    __slots__ = ("_attribute", "_select", "text")

    def __init__(self, text: str):
        self.text = text
        self._attribute = _attribute(text)
        value_filter = USER_PATH(text).value_filter
        self._select: Predicate | None = (
            _FilterCompiler(self._attribute.name).compile(value_filter)
            if value_filter is not None
            else None
        )

    def read(self, resource: dict[str, Any]) -> Any:
        attribute = self._attribute
        holder = resource if attribute.container is None else resource.get(attribute.container)
        if not isinstance(holder, dict):
            return None
        value = holder.get(attribute.name)
        if attribute.multi_valued:
            return self._read_entries(value)
        if attribute.sub_name is not None:
            value = value.get(attribute.sub_name) if isinstance(value, dict) else None
        return None if value == "" else value

    def _read_entries(self, value: Any) -> list[Any] | None:
        if not isinstance(value, list):
            return None
        entries = [entry for entry in value if isinstance(entry, dict)]
        if self._select is not None:
            entries = [entry for entry in entries if self._select(entry)]
        entries = _primary_first(entries)
        sub_name = self._attribute.sub_name
        values: list[Any] = entries if sub_name is None else [e.get(sub_name) for e in entries]
        found = [value for value in values if value not in (None, "")]
        return found or None
