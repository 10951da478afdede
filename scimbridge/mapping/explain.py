"""What a mapping does with one user, step by step: ``scimbridge mapping preview --explain``.

An admin who wrote ``transform: [{split: "@"}, first, normalize_diacritics]`` and
got the wrong user name wants to see which step went wrong: each field's source
value, the fallback if it took over, the value after each transform, the
default, and for ``first_available`` every candidate. Values a ``redact``
transform marked show as ``<redacted>``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from scimbridge.comparison import group_name_key
from scimbridge.mapping.context import MappingContext
from scimbridge.mapping.expressions import (
    Candidates,
    Expression,
    FirstAvailable,
    Groups,
    Shaped,
    holds,
    is_nothing,
)
from scimbridge.mapping.mapping import Mapping
from scimbridge.mapping.redaction import REDACTED, redacted_view

REDACT = "redact"
"""The transform's name as a file writes it."""


def shown(value: Any) -> str:
    """A value as JSON, redacted values hidden; None as "nothing"."""
    if value is None:
        return "nothing"
    return json.dumps(redacted_view(value), ensure_ascii=False)


def explain(
    mapping: Mapping, user: dict[str, Any], groups: Iterable[str], context: MappingContext
) -> list[str]:
    """The lines that tell, field by field, how ``mapping`` builds the record of ``user``."""
    memberships = frozenset(group_name_key(name) for name in groups if isinstance(name, str))
    lines: list[str] = []
    for name, expression in mapping.fields:
        lines.append(f"{name}:")
        _explain(expression, user, memberships, context, lines, "  ")
    return lines


def _explain(
    expression: Expression,
    user: dict[str, Any],
    groups: Groups,
    context: MappingContext,
    lines: list[str],
    indent: str,
) -> None:
    # A field that ends in `redact` hides every step: its source is the secret itself.
    secret = isinstance(expression, Shaped) and REDACT in expression.transform_names

    def note(step: str, value: Any) -> None:
        lines.append(f"{indent}{step} → {REDACTED if secret else shown(value)}")

    if isinstance(expression, FirstAvailable):
        for number, candidate in enumerate(expression.candidates, 1):
            lines.append(f"{indent}candidate {number}:")
            _explain(candidate, user, groups, context, lines, indent + "  ")
        candidates = expression.evaluate(user, groups, context)
        values = candidates.all() if isinstance(candidates, Candidates) else [candidates]
        refused = (
            f" (the record shape refuses {shown(candidates.refused)})"
            if isinstance(candidates, Candidates) and candidates.refused
            else ""
        )
        lines.append(
            f"{indent}= the first of {shown(values)} that nobody else holds{refused}, "
            "chosen at the first delivery with the vendor and kept"
        )
        return
    if isinstance(expression, Shaped):
        _steps(expression, user, groups, context, note)
    lines.append(f"{indent}= {shown(expression.evaluate(user, groups, context))}")


def _steps(
    shaped: Shaped,
    user: dict[str, Any],
    groups: Groups,
    context: MappingContext,
    note: Callable[[str, Any], None],
) -> None:
    """Tell ``note`` the steps of :meth:`Shaped.evaluate`, in its order (its docstring); the
    field's value is what ``evaluate`` gives, shown after these lines."""
    for key, condition, wanted in (("when", shaped.when, True), ("unless", shaped.unless, False)):
        if condition is not None:
            value = condition.evaluate(user, groups, context)
            note(f"{key} {condition.source}", value)
            if holds(value) is not wanted:
                return
    value = shaped.inner.evaluate(user, groups, context)
    note(shaped.inner.source, value)
    if is_nothing(value) and shaped.fallback is not None:
        value = shaped.fallback.evaluate(user, groups, context)
        note(f"fallback {shaped.fallback.source}", value)
    for name, transform in zip(shaped.transform_names, shaped.transforms, strict=True):
        if is_nothing(value):
            return
        value = transform(value)
        note(name, value)
    if is_nothing(value) and shaped.default is not None:
        note("default", shaped.default)
