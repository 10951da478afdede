"""Who holds a vendor account, as the links table knows it: the bridge's side of ``vendors.base.Claims``.

A vendor client that finds an account where it meant to create one (a retried
first import, an IdP that reuses a userName) asks here before taking it over.
docs/architecture.md, "the same person": the account may become this user's only when no
other user of the target holds it. A former user's tombstone holds its account
too, unless the target allows takeovers (``delivery.allow_takeover``), and a
live user's account is never anybody else's.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, func, select, update

from scimbridge.config import Target
from scimbridge.store import Database
from scimbridge.store.delivery_tables import links


def describe(link: Row[Any]) -> str:
    """A bridge user as an admin finds it: userName, externalId, SCIM id, and when it was deleted."""
    parts = [f"userName {link.user_name}", f"externalId {link.external_id or '(none)'}"]
    if link.scim_id:
        parts.append(f"SCIM id {link.scim_id}")
    if link.deleted_at is not None:
        parts.append(f"deleted {link.deleted_at:%Y-%m-%d %H:%M} UTC")
    return ", ".join(parts)


def same_vendor_id(vendor_id: str) -> Any:
    """Vendor ids compare case-insensitively: emails (Confide, ACC) and UUIDs (Aria) both do."""
    return func.lower(links.c.vendor_id) == vendor_id.lower()


class LinkClaims:
    """The claims on one target's vendor accounts."""

    def __init__(self, database: Database, target: Target):
        self.database = database
        self.target = target

    def holder(self, vendor_id: str, key: str) -> str | None:
        query = select(links).where(
            links.c.target == self.target.name, links.c.id != key, same_vendor_id(vendor_id)
        )
        if self.target.delivery.allow_takeover:
            query = query.where(links.c.deleted_at.is_(None))
        with self.database.transaction() as session:
            found = session.execute(query.order_by(links.c.created_at)).first()
        return describe(found) if found is not None else None


def release_taken_over(session: Any, target: str, key: str, vendor_id: str) -> None:
    """Forget the vendor account on the tombstones of former users once ``key`` holds it.

    Only a takeover the target allows gets here; afterwards the former user, if
    re-provisioned, is a new account at the vendor, never a second owner of this one.
    """
    session.execute(
        update(links)
        .where(
            links.c.target == target,
            links.c.id != key,
            links.c.deleted_at.is_not(None),
            same_vendor_id(vendor_id),
        )
        .values(vendor_id=None)
    )
