"""Who Rocket.Chat has, from one listing of its users (``GET /api/v1/users.list``).

Rocket.Chat allows 10 calls a minute per route by default (Rocket.Chat's source,
``apps/meteor/server/settings/rate.ts``):
one ``users.info?importId=`` per user before the import and one after it cannot take
1,000 users through in reasonable time, while ``users.list`` pages 100 users a call.

What the listing shows, from Rocket.Chat's source (``apps/meteor/app/api/server/v1/
users.ts``, route ``users.list``; ``lib/users.ts`` ``getNonEmptyFields``;
``helpers/parseJsonQuery.ts``; ``ApiClass.ts``/``api.ts`` ``defaultFieldsToExclude``,
the same from 3.x to develop):

- per user ``_id``, ``name``, ``username``, ``emails`` (to a caller holding
  ``view-full-other-user-info``), ``roles``, ``status``, ``active``, ``avatarETag``,
  ``lastLogin``, ``type``, plus ``nameInsensitive``; and ``count``, ``offset``, ``total``;
- **never the import ids**: ``importIds`` is in ``defaultFieldsToExclude``, which
  ``parseJsonQuery`` strips from the fields a caller asks for and from the fields a
  ``query`` may filter on, for an admin too. The listing cannot find a user by import id.

So a listing never replaces ``users.info?importId=`` where the import id decides; it
replaces it where user names and emails decide, because Rocket.Chat keeps both unique
and its import creates a user with the record's:

- :meth:`Directory.rules_out`: a user the bridge never delivered (no vendor id), whose
  records (this one, and one sent before that may have landed after a timeout) name user
  names and emails nobody holds, has no account to find: it is imported without a lookup.
  The one case this misses is an account such an import created that an admin renamed,
  user name and email both, before the bridge retried; the others are looked up.
- :meth:`Directory.created`: after the import, a user the listing before did not show,
  holding the record's email and user name, is the one the import created.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from scimbridge.vendors.base import DeliveryItem

User = dict[str, Any]
"""A user as ``users.list`` or ``users.info`` answers it."""


def addresses(user: User) -> set[str]:
    return {
        str(email.get("address", "")).lower()
        for email in user.get("emails") or []
        if isinstance(email, dict) and email.get("address")
    }


def names_of(item: DeliveryItem) -> tuple[set[str], set[str]]:
    """The user names and emails of the item's record and of the record sent before."""
    records = [item.record, item.previous or {}]
    usernames = {str(record["username"]).lower() for record in records if record.get("username")}
    emails = {str(email).lower() for record in records for email in record.get("emails") or []}
    return usernames, emails - {""}


def may_rule_out(item: DeliveryItem) -> bool:
    """Whether a listing can prove the item has no account: the bridge never delivered it
    (an account it did deliver may have been renamed since, and is found by import id
    only) and its records name a user name or an email."""
    usernames, emails = names_of(item)
    return item.vendor_id is None and item.first_import and bool(usernames or emails)


@dataclass(frozen=True)
class Directory:
    """Every user one listing showed, by ``_id``, lower-case user name and email."""

    by_id: dict[str, User]
    by_username: dict[str, User]
    by_email: dict[str, User]

    @classmethod
    def of(cls, users: Iterable[User]) -> Directory:
        listed = [user for user in users if isinstance(user, dict) and user.get("_id")]
        return cls(
            by_id={str(user["_id"]): user for user in listed},
            by_username={
                str(user["username"]).lower(): user for user in listed if user.get("username")
            },
            by_email={address: user for user in listed for address in addresses(user)},
        )

    @property
    def total(self) -> int:
        return len(self.by_id)

    def rules_out(self, item: DeliveryItem) -> bool:
        """Whether the listing proves the item has no account (see the module docstring)."""
        usernames, emails = names_of(item)
        return (
            may_rule_out(item)
            and not usernames & set(self.by_username)
            and not emails & set(self.by_email)
        )

    def created(self, item: DeliveryItem, before: Directory) -> User | None:
        """The user the import created for the item: new since ``before``, holding the
        record's first email and, when the record names one, its user name."""
        emails = [str(email).lower() for email in item.record.get("emails") or [] if email]
        user = self.by_email.get(emails[0]) if emails else None
        if user is None or str(user["_id"]) in before.by_id:
            return None
        username = str(item.record.get("username") or "").lower()
        if username and str(user.get("username") or "").lower() != username:
            return None
        return user
