"""The bridge's users as an admin knows them, for the messages that name them.

Who may hold which vendor account is decided by :mod:`scimbridge.delivery.identity`,
before anything is sent; this module only says who a bridge user is: the
``BridgeUsers`` a vendor client is given (``vendors.base``) names the user behind a
stable id the vendor shows (Rocket.Chat's import ids), so that an admin reading a
failure knows whom to settle it with.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, select

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


class LinkUsers:
    """One target's bridge users, found by their stable ids (the links)."""

    def __init__(self, database: Database, target: Target):
        self.database = database
        self.target = target

    def describe(self, stable_id: str) -> str | None:
        with self.database.transaction() as session:
            found = session.execute(
                select(links).where(links.c.target == self.target.name, links.c.id == stable_id)
            ).first()
        return describe(found) if found is not None else None
