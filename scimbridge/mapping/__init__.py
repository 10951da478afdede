"""Mapping files: how a SCIM User becomes one vendor's documented import record (docs/mapping.md)."""

from scimbridge.mapping.context import Action, IdentityChange, MappedRecord, MappingContext
from scimbridge.mapping.errors import MappingFileError, UnmappableUser
from scimbridge.mapping.mapping import DeprovisionRule, Mapping, ShapeLookup, load_mapping
from scimbridge.mapping.redaction import Redacted, redacted_view

__all__ = [
    "Action",
    "DeprovisionRule",
    "IdentityChange",
    "MappedRecord",
    "Mapping",
    "MappingContext",
    "MappingFileError",
    "Redacted",
    "ShapeLookup",
    "UnmappableUser",
    "load_mapping",
    "redacted_view",
]
