"""What the bridge tells a mapping about a user beyond its SCIM attributes, and what a mapping returns."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from scimbridge.vendors.base import Action


@dataclass(frozen=True, slots=True)
class MappingContext:
    """The bridge's own facts about the user, readable in a mapping file as ``bridge.<name>``."""

    stable_id: str
    """The bridge's identity of the user: it survives DELETE and re-provisioning (docs/architecture.md, "External IDs and re-import")."""
    vendor_id: str | None = None
    """The vendor's identity of the user, once a delivery has learnt it."""
    first_import: bool = True
    """True until the vendor has accepted the user once."""
    deleted: bool = False
    """True when the SCIM resource was deleted: the file's ``on_delete`` rule applies."""


@dataclass(frozen=True, slots=True)
class MappedRecord:
    """What the vendor client must do, with the record that says it in the vendor's terms."""

    action: Action
    record: dict[str, Any]
    managed: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)
    """Per list field the mapping drives from group membership, every value it manages
    (see :attr:`scimbridge.vendors.base.DeliveryItem.managed`)."""
