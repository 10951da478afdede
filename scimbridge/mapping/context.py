"""What the bridge tells a mapping about a user beyond its SCIM attributes, and what a mapping returns."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scimbridge.mapping.expressions import Candidates


class Action(enum.StrEnum):
    """What the vendor must do with a user, as the mapping's deprovision rules decide."""

    IMPORT = "import"
    """Create the user, or update it when it exists (re-activation included)."""
    DISABLE = "disable"
    """Deactivate the user on the vendor side, keeping it."""
    REMOVE = "remove"
    """Remove the user from the vendor (or from the project, for ACC)."""


class IdentityChange(enum.StrEnum):
    """What a change of an account key (docs/architecture.md, "One account, one person") does
    at the vendor, as the mapping's ``on_identity_change`` says."""

    MOVE = "move"
    """The vendor renames the account: the same account carries the new key."""
    REPLACE = "replace"
    """The old account is deprovisioned (as ``on_deactivate`` does), then a new one provisioned."""
    REFUSE = "refuse"
    """The change fails, for an admin to settle: the old account stays as it was."""


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
    chosen: Mapping[str, Any] = field(default_factory=dict)
    """Per ``first_available`` field, the value chosen at the user's first delivery: it is
    the field's value from then on, whatever the candidates give."""


@dataclass(frozen=True, slots=True)
class MappedRecord:
    """What the vendor client must do, with the record that says it in the vendor's terms."""

    action: Action
    record: dict[str, Any]
    managed: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)
    """Per list field the mapping drives from group membership, every value it manages
    (see :attr:`scimbridge.vendors.base.DeliveryItem.managed`)."""
    choices: Mapping[str, Candidates] = field(default_factory=dict)
    """Per ``first_available`` field not chosen yet, its candidates in order: the delivery
    takes the first the vendor does not hold (the record holds the first meanwhile), and
    works out the next only when it must."""
