"""Mapping files: how a SCIM User becomes one vendor's documented import record (docs/mapping.md)."""

from scimbridge.mapping.context import MappedRecord, MappingContext
from scimbridge.mapping.errors import MappingFileError, UnmappableUser
from scimbridge.mapping.mapping import DeprovisionRule, Mapping, load_mapping

__all__ = [
    "DeprovisionRule",
    "MappedRecord",
    "Mapping",
    "MappingContext",
    "MappingFileError",
    "UnmappableUser",
    "load_mapping",
]
