"""The named transforms a mapping may apply to a value: few, total, and never raising.

Each transform takes whatever a source gave (a string, a list of values, a
boolean…) and returns a value or None; a value it has no meaning for passes
through unchanged, so that the vendor record shape check, not a stack trace,
reports the problem.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Transform = Callable[[Any], Any]

TRUE_WORDS = frozenset({"true", "yes", "1", "on"})
FALSE_WORDS = frozenset({"false", "no", "0", "off", ""})


def _on_strings(change: Callable[[str], str]) -> Transform:
    """A string transform, applied to each string of a list too."""

    def apply(value: Any) -> Any:
        if isinstance(value, str):
            return change(value)
        if isinstance(value, list):
            return [change(item) if isinstance(item, str) else item for item in value]
        return value

    return apply


def _first(value: Any) -> Any:
    if isinstance(value, list):
        return value[0] if value else None
    return value


def _truth(value: Any) -> Any:
    """SCIM booleans are JSON booleans, but Okta custom attributes often arrive as "true"/"false"."""
    if isinstance(value, str):
        word = value.strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        return value
    if isinstance(value, list):
        return bool(value)
    return bool(value) if value is not None else None


def _negation(value: Any) -> Any:
    truth = _truth(value)
    return not truth if isinstance(truth, bool) else truth


def _split(separator: str) -> Transform:
    def apply(value: Any) -> Any:
        return value.split(separator) if isinstance(value, str) else value

    return apply


def _join(separator: str) -> Transform:
    def apply(value: Any) -> Any:
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            return separator.join(value)
        return value

    return apply


SIMPLE: dict[str, Transform] = {
    "lower": _on_strings(str.lower),
    "upper": _on_strings(str.upper),
    "strip": _on_strings(str.strip),
    "first": _first,
    "bool": _truth,
    "not": _negation,
}
"""Transforms written as a bare name, e.g. ``transform: lower``."""

WITH_ARGUMENT: dict[str, Callable[[str], Transform]] = {"split": _split, "join": _join}
"""Transforms written with their argument, e.g. ``transform: {split: "@"}``."""


def compile_transform(spec: str | dict[str, str]) -> Transform:
    """The transform a (schema-validated) spec names."""
    if isinstance(spec, str):
        return SIMPLE[spec]
    ((name, argument),) = spec.items()
    return WITH_ARGUMENT[name](argument)
