"""What the storage tells its listeners about each write."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from scim2_models import Resource
from sqlalchemy.orm import Session

Operation = Literal["create", "update", "delete"]


@dataclass(frozen=True)
class StoreEvent:
    """One successful write of a SCIM resource, as its listeners see it.

    ``before`` is None for a creation and ``after`` is None for a deletion.
    """

    target: str
    resource_type: str
    resource_id: str
    operation: Operation
    before: Resource[Any] | None
    after: Resource[Any] | None


Listener = Callable[[Session, StoreEvent], None]
"""Called inside the transaction of the write, after it: raising rolls the write back."""
