"""A loaded mapping file: SCIM User (with its groups) in, vendor record and action out."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator

from scimbridge.mapping.context import MappedRecord, MappingContext
from scimbridge.mapping.errors import UnmappableUser
from scimbridge.mapping.expressions import (
    Expression,
    ExpressionCompiler,
    ExpressionError,
    evaluate_fields,
    fresh_copy,
)
from scimbridge.mapping.file_schema import validate_mapping_document
from scimbridge.mapping.paths import GROUP_PATH, USER_PATH
from scimbridge.mapping.shapes import RecordShape, record_shape
from scimbridge.mapping.source import MappingSource, read_mapping_source
from scimbridge.vendors.base import Action

Fields = list[tuple[str, Expression]]
CHECK_CONTEXT = MappingContext(stable_id="scimbridge-check")
"""The context ``check`` maps with: a first import, with a stand-in stable id."""


@dataclass(frozen=True)
class DeprovisionRule:
    """What ``active: false`` or DELETE means for the vendor (vendors.md, "Deprovision")."""

    action: Action
    overrides: dict[str, Any]
    """Fields the rule sets on the mapped record, e.g. Rocket.Chat ``deleted: true``."""
    note: str


class Mapping:
    """One vendor's mapping, compiled; cheap to apply and safe to share between threads."""

    def __init__(
        self,
        file: str,
        vendor: str,
        fields: Fields,
        group_fields: Fields | None,
        on_deactivate: DeprovisionRule,
        on_delete: DeprovisionRule,
        shape: RecordShape,
    ):
        self.file = file
        self.vendor = vendor
        self.fields = fields
        self.group_fields = group_fields
        self.on_deactivate = on_deactivate
        self.on_delete = on_delete
        self.shape = shape
        self._sources = {name: expression.source for name, expression in fields}
        self._group_sources = {name: expression.source for name, expression in group_fields or []}

    def __repr__(self) -> str:
        return f"Mapping(vendor={self.vendor!r}, file={self.file!r})"

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

        :raises UnmappableUser: when the record would not have the vendor's documented shape.
        """
        memberships = frozenset(name.casefold() for name in groups if isinstance(name, str))
        record = evaluate_fields(self.fields, user, memberships, context)
        rule = self.rule_for(user, context)
        if rule is not None:
            record.update(fresh_copy(rule.overrides))
        self.shape.check(record, self._sources, self.file)
        return MappedRecord(rule.action if rule else Action.IMPORT, record)

    def check(self, user: dict[str, Any], groups: Iterable[str]) -> None:
        """Refuse, at SCIM write time, a user this mapping cannot turn into a valid record.

        :raises UnmappableUser: naming the SCIM attribute to fix.
        """
        self.apply(user, groups, CHECK_CONTEXT)

    def apply_group(
        self, group: dict[str, Any], context: MappingContext | None = None
    ) -> MappedRecord:
        """The vendor record importing the SCIM Group ``group`` as a whole.

        :raises UnmappableUser: when the file has no ``group_record``, or the record is not valid.
        """
        if self.group_fields is None:
            raise UnmappableUser(
                "displayName",
                f"{self.file} has no group_record: {self.vendor} does not import groups",
            )
        context = context or MappingContext(stable_id=str(group.get("id", "")))
        record = evaluate_fields(self.group_fields, group, frozenset(), context)
        self.shape.check(record, self._group_sources, self.file)
        return MappedRecord(Action.IMPORT, record)


class _MappingBuilder:
    """Turns a schema-valid mapping document into a Mapping, or a MappingFileError with its line."""

    def __init__(self, source: MappingSource):
        self.source = source
        self.document: dict[str, Any] = source.document
        self.shape = record_shape(self.document["vendor"])

    def build(self) -> Mapping:
        try:
            fields = self._fields("record", USER_PATH)
            group_fields = (
                self._fields("group_record", GROUP_PATH)
                if "group_record" in self.document
                else None
            )
        except ExpressionError as error:
            raise self.source.error(error.location, error.message) from None
        deprovision = self.document["deprovision"]
        return Mapping(
            file=self.source.file,
            vendor=self.document["vendor"],
            fields=fields,
            group_fields=group_fields,
            on_deactivate=self._rule(deprovision["on_deactivate"], "on_deactivate"),
            on_delete=self._rule(deprovision["on_delete"], "on_delete"),
            shape=self.shape,
        )

    def _fields(self, section: str, path_type: type) -> Fields:
        spec = self.document[section]
        for name in spec:
            self._require_vendor_field(name, (section, name))
        return ExpressionCompiler(path_type).fields(spec, (section,))

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


def load_mapping(path: str) -> Mapping:
    """Read, validate and compile a mapping file.

    :raises MappingFileError: naming the file, the line and the key of the problem.
    """
    source = read_mapping_source(str(path))
    validate_mapping_document(source)
    return _MappingBuilder(source).build()
