"""The vendors' documented record shapes (JSON Schemas in ``records/``), checked before a record leaves.

A record the vendor would refuse is refused here instead, at SCIM write time,
with a sentence naming the SCIM attribute to fix (RFC 7644 §3.12
``invalidValue``), rather than failing in the outbox later.

Every record is checked with a validator fastjsonschema compiles to Python
(a few microseconds, where interpreting the schema costs tens to hundreds);
only a record that fails goes through jsonschema, whose errors say where.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from collections.abc import Mapping as Lookup
from functools import cache
from importlib import resources
from typing import Any

import fastjsonschema
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from scimbridge.mapping.errors import UnmappableUser

PROBLEMS: dict[str, Callable[[Any], str]] = {
    "type": lambda expected: f"must be of type {expected}",
    "pattern": lambda expected: f"does not have the form the vendor accepts ({expected})",
    "enum": lambda expected: f"must be one of {', '.join(map(str, expected))}",
    "const": lambda expected: f"must be {expected}",
    "minItems": lambda expected: f"needs at least {expected} value(s)",
    "minLength": lambda expected: f"needs at least {expected} character(s)",
    "maxLength": lambda expected: f"must be at most {expected} characters",
    "additionalProperties": lambda _: "has fields the vendor does not accept",
    "required": lambda _: "misses a field the vendor requires",
    "oneOf": lambda _: "needs exactly one of the alternative fields the vendor documents",
}
"""What is wrong, per JSON Schema keyword, without quoting the value (it may be a secret)."""


def _problem(error: ValidationError) -> str:
    describe = PROBLEMS.get(str(error.validator))
    if describe is None:
        return f"is refused by the vendor's record shape ({error.validator})"
    return describe(error.validator_value)


class RecordShape:
    """One vendor's record JSON Schema, compiled once."""

    def __init__(self, vendor: str, schema: dict[str, Any]):
        self.vendor = vendor
        self.validator = Draft202012Validator(schema)
        self._fast_check = fastjsonschema.compile(schema)
        self.fields: frozenset[str] = frozenset(schema.get("properties", {}))
        self.required: frozenset[str] = frozenset(schema.get("required", ()))

    def check(self, record: dict[str, Any], sources: Lookup[str, str], label: str) -> None:
        """Raise UnmappableUser for the first way ``record`` breaks the shape.

        :param sources: per record field, the SCIM attribute (or other source) it is mapped from.
        :param label: the mapping file's name in the message (the SCIM 400 ``detail``).
        """
        try:
            self._fast_check(record)
            return
        except fastjsonschema.JsonSchemaValueException:
            pass
        error = next(iter(self.validator.iter_errors(record)), None)
        if error is None:
            return
        if error.validator == "required" and not error.absolute_path:
            field = next(name for name in error.validator_value if name not in record)
            attribute = sources.get(field, field)
            raise UnmappableUser(
                attribute,
                f"{attribute} is required by {label} ({field}) but the user has none",
            )
        if error.absolute_path:
            field = str(error.absolute_path[0])
            attribute = sources.get(field, field)
            where = "".join(
                f"[{step}]" if isinstance(step, int) else f".{step}"
                for step in list(error.absolute_path)[1:]
            )
            raise UnmappableUser(
                attribute,
                f"{attribute} gives {label} a {field}{where} that {self.vendor} refuses: it {_problem(error)}",
            )
        attributes = ", ".join(sorted(set(sources.values())))
        raise UnmappableUser(
            attributes,
            f"{attributes} give {label} a record that {self.vendor} refuses: it {_problem(error)}",
        )


@cache
def record_shape(vendor: str) -> RecordShape:
    text = resources.files(__package__).joinpath("records", f"{vendor}.json").read_text("utf-8")
    return RecordShape(vendor, json.loads(text))
