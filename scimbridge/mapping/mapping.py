"""A loaded mapping file: SCIM User (with its groups) in, vendor record and action out.

Groups are never imported as such: a group import (CloudShell's ``GroupName``)
brings in every member of the *directory* group, people the identity provider
never assigned included, whom the bridge can neither see nor revoke. The
bridge provisions exactly the users the IdP assigns (docs/mapping.md).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any

from jsonschema import Draft202012Validator

from scimbridge.comparison import group_name_key
from scimbridge.mapping.context import Action, IdentityChange, MappedRecord, MappingContext
from scimbridge.mapping.expressions import (
    Candidates,
    Expression,
    ExpressionCompiler,
    ExpressionError,
    FirstAvailable,
    evaluate_fields,
    fresh_copy,
)
from scimbridge.mapping.file_schema import validate_mapping_document
from scimbridge.mapping.shapes import RecordShape
from scimbridge.mapping.source import MappingSource, read_mapping_source

Fields = list[tuple[str, Expression]]
ShapeLookup = Callable[[str], RecordShape]
"""The record shape of a vendor key; raises LookupError, with a sentence, for an unknown one.
The bridge passes :func:`scimbridge.vendors.record_shape` (the installed plugins): the
mapping itself knows no vendor."""
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
        on_identity_change: IdentityChange = IdentityChange.REPLACE,
        fingerprint: str = "",
    ):
        self.label = label
        """The file's name in every message (never a server path: refusals reach the IdP)."""
        self.vendor = vendor
        self.fields = fields
        self.on_deactivate = on_deactivate
        self.on_delete = on_delete
        self.on_identity_change = on_identity_change
        """What a change of the record's account keys does at the vendor (the delivery's
        identity step, :mod:`scimbridge.delivery.identity`)."""
        self.shape = shape
        self._sources = {name: expression.source for name, expression in fields}
        self._managed = {
            name: expression.managed
            for name, expression in fields
            if expression.managed is not None
        }
        self.choosers = frozenset(
            name for name, expression in fields if isinstance(expression, FirstAvailable)
        )
        """The ``first_available`` fields: their value is chosen at delivery, with the vendor."""
        self.fingerprint = fingerprint
        """What the file says, as a short hash (:func:`fingerprint_of`): each delivered link
        keeps the one of the mapping that made its record, so that a changed mapping is
        noticed (:mod:`scimbridge.delivery.redelivery`). Empty for a mapping built in code."""

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
        memberships = frozenset(group_name_key(name) for name in groups if isinstance(name, str))
        record = evaluate_fields(self.fields, user, memberships, context)
        choices = self._choose(record)
        rule = self.rule_for(user, context)
        if rule is not None:
            record.update(fresh_copy(rule.overrides))
        self.shape.check(record, self._sources, self.label)
        managed = {name: values for name, values in self._managed.items() if name in record}
        return MappedRecord(rule.action if rule else Action.IMPORT, record, managed, choices)

    def _choose(self, record: dict[str, Any]) -> dict[str, Candidates]:
        """Put each ``first_available`` field's value in ``record``: the value chosen before,
        else the first candidate the record shape takes, for now; return the candidates of
        the fields still to choose. Where the shape takes none, the record gets the first
        refused, for the shape check to say why; where none gives a value, nothing."""
        choices: dict[str, Candidates] = {}
        for name in self.choosers:
            candidates = record.get(name)  # the chosen value itself, once there is one
            if not isinstance(candidates, Candidates):
                continue
            first = candidates.at(0)
            if first is not None:
                record[name] = first
                choices[name] = candidates
            elif candidates.refused:
                record[name] = candidates.refused[0]
            else:
                del record[name]
        return choices

    def check(self, user: dict[str, Any], groups: Iterable[str]) -> None:
        """Refuse, at SCIM write time, a user this mapping cannot turn into a valid record.

        :raises UnmappableUser: naming the SCIM attribute to fix.
        """
        self.apply(user, groups, CHECK_CONTEXT)


class _MappingBuilder:
    """Turns a schema-valid mapping document into a Mapping, or a MappingFileError with its line."""

    def __init__(self, source: MappingSource, shapes: ShapeLookup):
        self.source = source
        self.document: dict[str, Any] = source.document
        try:
            self.shape = shapes(self.document["vendor"])
        except LookupError as error:
            raise source.error(("vendor",), str(error)) from None

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
            on_identity_change=self._identity_change(deprovision.get("on_identity_change")),
            fingerprint=fingerprint_of(self.document, self.shape),
        )

    def _fields(self) -> Fields:
        spec = self.document["record"]
        for name in spec:
            self._require_vendor_field(name, ("record", name))
        fields = ExpressionCompiler().fields(spec, ("record",))
        return [
            (name, self._checked_candidates(name, expression))
            if isinstance(expression, FirstAvailable)
            else (name, expression)
            for name, expression in fields
        ]

    def _checked_candidates(self, name: str, expression: FirstAvailable) -> FirstAvailable:
        """The field's candidates, passed over where the record shape refuses them."""
        if name not in self.shape.unique_fields:
            can = ", ".join(sorted(self.shape.unique_fields)) or "none"
            raise self.source.error(
                ("record", name, "first_available"),
                f"{self.shape.vendor} cannot tell which values of {name} are free "
                f"(the fields it can: {can})",
            )
        return FirstAvailable(name, expression.candidates, partial(self.shape.accepts, name))

    def _require_vendor_field(self, name: str, location: tuple[str, ...]) -> None:
        if name not in self.shape.fields:
            known = ", ".join(sorted(self.shape.fields))
            raise self.source.error(
                location,
                f"{name!r} is not a field of the {self.shape.vendor} record; known: {known}",
            )

    def _rule(self, spec: dict[str, Any], name: str) -> DeprovisionRule:
        overrides = spec.get("set", {})
        properties = self.shape.properties
        for field, value in overrides.items():
            location = ("deprovision", name, "set", field)
            self._require_vendor_field(field, location)
            if not Draft202012Validator(properties[field]).is_valid(value):
                raise self.source.error(
                    location, f"{value!r} is not a valid {field} for {self.shape.vendor}"
                )
        return DeprovisionRule(Action(spec["action"]), overrides, spec["note"])

    def _identity_change(self, spec: dict[str, Any] | None) -> IdentityChange:
        """The rule, ``replace`` when the file says none: the old account is then never left
        active, whatever the vendor can do. ``move`` only where the vendor renames accounts."""
        if spec is None:
            return IdentityChange.REPLACE
        change = IdentityChange(spec["action"])
        if change is IdentityChange.MOVE and not self.shape.renames_accounts:
            raise self.source.error(
                ("deprovision", "on_identity_change", "action"),
                f"{self.shape.vendor} cannot rename an account: a changed email or user name "
                "is a new account there (use replace or refuse)",
            )
        return change


def fingerprint_of(document: Any, shape: RecordShape) -> str:
    """16 hex digits of the SHA-256 of the parsed mapping document (canonical JSON: keys
    sorted, no whitespace) and of the vendor record shape it was checked against.

    The parsed document, not the file's bytes: an edit of comments, key order, quoting or
    anchors is no change; any value that changes, ``description`` and ``note`` included, is
    one. A plugin release that changes the record schema is one too.
    """
    canonical = json.dumps(
        {
            "mapping": document,
            "shape": {"vendor": shape.vendor, "fields": shape.properties},
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


def load_mapping(path: str, shapes: ShapeLookup, label: str | None = None) -> Mapping:
    """Read, validate and compile the mapping file at ``path``.

    :param shapes: the record shape of each vendor key (:data:`ShapeLookup`).
    :param label: the file's name in every message, ``path`` as given by default. Refusals
        reach identity providers in SCIM 400 details, so a server passes a name that shows
        no server path (e.g. relative to its configuration).
    :raises MappingFileError: naming the file (by ``label``), the line and the key of the problem.
    """
    source = read_mapping_source(str(path), str(path) if label is None else label)
    validate_mapping_document(source)
    return _MappingBuilder(source, shapes).build()
