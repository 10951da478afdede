"""A loaded mapping file: SCIM User (with its groups) in, vendor record and action out.

Groups are never imported as such: a group import (CloudShell's ``GroupName``)
brings in every member of the *directory* group, people the identity provider
never assigned included, whom the bridge can neither see nor revoke. The
bridge provisions exactly the users the IdP assigns (docs/mapping.md).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator

from scimbridge.mapping.context import MappedRecord, MappingContext
from scimbridge.mapping.expressions import (
    Expression,
    ExpressionCompiler,
    ExpressionError,
    evaluate_fields,
    fresh_copy,
)
from scimbridge.mapping.file_schema import validate_mapping_document
from scimbridge.mapping.shapes import RecordShape, record_shape
from scimbridge.mapping.source import MappingSource, read_mapping_source
from scimbridge.vendors.base import Action

Fields = list[tuple[str, Expression]]
CHECK_CONTEXT = MappingContext(stable_id="scimbridge-check")
"""The context ``check`` maps with: a first import, with a stand-in stable id."""


@dataclass(frozen=True)
class DeprovisionRule:
    """What ``active: false`` or DELETE means for the vendor (docs/vendors.md, "What each SCIM change does at the vendor")."""

    action: Action
    overrides: dict[str, Any]
    """Fields the rule sets on the mapped record, e.g. Rocket.Chat ``deleted: true``."""
    note: str


class Mapping:
    """One vendor's mapping, compiled; cheap to apply and safe to share between threads."""

    def __init__(
        self,
        label: str,
        vendor: str,
        fields: Fields,
        on_deactivate: DeprovisionRule,
        on_delete: DeprovisionRule,
        shape: RecordShape,
    ):
        self.label = label
        """The file's name in every message (never a server path: refusals reach the IdP)."""
        self.vendor = vendor
        self.fields = fields
        self.on_deactivate = on_deactivate
        self.on_delete = on_delete
        self.shape = shape
        self._sources = {name: expression.source for name, expression in fields}
        self._managed = {
            name: expression.managed
            for name, expression in fields
            if expression.managed is not None
        }

    def __repr__(self) -> str:
        return f"Mapping(vendor={self.vendor!r}, label={self.label!r})"

    def rule_for(self, user: dict[str, Any], context: MappingContext) -> DeprovisionRule | None:
        """The deprovision rule that applies, or None for an import (re-activation included)."""
        if context.deleted:
            return self.on_delete
        if user.get("active") is False:
            return self.on_deactivate
        return None

    def apply(
        self, user: dict[str, Any], groups: Iterable[str], context: MappingContext
    ) -> MappedRecord:
        """The vendor record for ``user``, a member of the groups named ``groups``.

        ``managed`` names, per list field of the record driven by ``from_groups``,
        every value the mapping manages there; a field the record leaves out (a
        ``when`` that does not hold) manages nothing, so the vendor keeps its values.

        :raises UnmappableUser: when the record would not have the vendor's documented shape.
        """
        memberships = frozenset(name.casefold() for name in groups if isinstance(name, str))
        record = evaluate_fields(self.fields, user, memberships, context)
        rule = self.rule_for(user, context)
        if rule is not None:
            record.update(fresh_copy(rule.overrides))
        self.shape.check(record, self._sources, self.label)
        managed = {name: values for name, values in self._managed.items() if name in record}
        return MappedRecord(rule.action if rule else Action.IMPORT, record, managed)

    def check(self, user: dict[str, Any], groups: Iterable[str]) -> None:
        """Refuse, at SCIM write time, a user this mapping cannot turn into a valid record.

        :raises UnmappableUser: naming the SCIM attribute to fix.
        """
        self.apply(user, groups, CHECK_CONTEXT)


class _MappingBuilder:
    """Turns a schema-valid mapping document into a Mapping, or a MappingFileError with its line."""

    def __init__(self, source: MappingSource):
        self.source = source
        self.document: dict[str, Any] = source.document
        self.shape = record_shape(self.document["vendor"])

    def build(self) -> Mapping:
        try:
            fields = self._fields()
        except ExpressionError as error:
            raise self.source.error(error.location, error.message) from None
        deprovision = self.document["deprovision"]
        return Mapping(
            label=self.source.label,
            vendor=self.document["vendor"],
            fields=fields,
            on_deactivate=self._rule(deprovision["on_deactivate"], "on_deactivate"),
            on_delete=self._rule(deprovision["on_delete"], "on_delete"),
            shape=self.shape,
        )

    def _fields(self) -> Fields:
        spec = self.document["record"]
        for name in spec:
            self._require_vendor_field(name, ("record", name))
        return ExpressionCompiler().fields(spec, ("record",))

    def _require_vendor_field(self, name: str, location: tuple[str, ...]) -> None:
        if name not in self.shape.fields:
            known = ", ".join(sorted(self.shape.fields))
            raise self.source.error(
                location,
                f"{name!r} is not a field of the {self.shape.vendor} record; known: {known}",
            )

    def _rule(self, spec: dict[str, Any], name: str) -> DeprovisionRule:
        overrides = spec.get("set", {})
        properties = self.shape.validator.schema["properties"]
        for field, value in overrides.items():
            location = ("deprovision", name, "set", field)
            self._require_vendor_field(field, location)
            if not Draft202012Validator(properties[field]).is_valid(value):
                raise self.source.error(
                    location, f"{value!r} is not a valid {field} for {self.shape.vendor}"
                )
        return DeprovisionRule(Action(spec["action"]), overrides, spec["note"])


def load_mapping(path: str, label: str | None = None) -> Mapping:
    """Read, validate and compile the mapping file at ``path``.

    :param label: the file's name in every message, ``path`` as given by default. Refusals
        reach identity providers in SCIM 400 details, so a server passes a name that shows
        no server path (e.g. relative to its configuration).
    :raises MappingFileError: naming the file (by ``label``), the line and the key of the problem.
    """
    source = read_mapping_source(str(path), str(path) if label is None else label)
    validate_mapping_document(source)
    return _MappingBuilder(source).build()
