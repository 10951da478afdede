"""A vendor's documented record shape (a JSON Schema its plugin ships), checked before a record leaves.

A record the vendor would refuse is refused here instead, at SCIM write time,
with a sentence naming the SCIM attribute to fix (RFC 7644 §3.12
``invalidValue``), rather than failing in the outbox later.

Every record is checked with a validator fastjsonschema compiles to Python
(a few microseconds, where interpreting the schema costs tens to hundreds);
only a record that fails goes through jsonschema, whose errors say where.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Mapping as Lookup
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

    def __init__(
        self,
        vendor: str,
        schema: dict[str, Any],
        unique_fields: frozenset[str] = frozenset(),
        renames_accounts: bool = False,
    ):
        """:param unique_fields: the fields whose free values the vendor can be asked
        about, which a mapping may fill with ``first_available``.
        :param renames_accounts: whether the vendor can change an account's keys (its email
            or user name) in place, which a mapping's ``on_identity_change: move`` needs."""
        self.vendor = vendor
        self.unique_fields = unique_fields
        self.renames_accounts = renames_accounts
        self.validator = Draft202012Validator(schema)
        self._fast_check = fastjsonschema.compile(schema)
        self.properties: dict[str, Any] = schema.get("properties", {})
        """The schema of each field."""
        self.definitions: dict[str, Any] = schema.get("$defs", {})
        self._fields_compiled: dict[str, Callable[[Any], Any]] = {}
        self.fields: frozenset[str] = frozenset(self.properties)
        self.required: frozenset[str] = frozenset(schema.get("required", ()))

    def accepts(self, field: str, value: Any) -> bool:
        """Whether the field's own schema takes ``value`` (a fast check, with no reason)."""
        try:
            self._field_checks(field)(value)
        except fastjsonschema.JsonSchemaException:
            return False
        return True

    def _field_checks(self, field: str) -> Callable[[Any], Any]:
        check = self._fields_compiled.get(field)
        if check is None:
            schema = {**self.properties[field], "$defs": self.definitions}
            check = self._fields_compiled[field] = fastjsonschema.compile(schema)
        return check

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
