"""What the client knows of Rocket.Chat's users for a delivery run: one listing of every user
(``GET /api/v1/users.list``), kept current with what the client itself writes.

Rocket.Chat allows 10 calls a minute per route by default (Rocket.Chat's source,
``apps/meteor/server/settings/rate.ts``): one ``users.info?importId=`` per user before the
import and one after it cannot take thousands of users through in reasonable time, while one
``users.list?count=0`` names every user (``API_Allow_Infinite_Count``, on by default).

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
- :meth:`Directory.named`: after an import whose every staged user was created (no
  ``count.error``), the user holding a staged record's email and user name is the one the
  import created for it (see :meth:`~scimbridge.vendors.rocketchat.RocketChatClient.confirmed`).

A directory may be out of date: somebody else may have taken a user name or an email since
it was read. That never hands an account to the wrong person: a user it rules out is
imported, and an import never takes over a user whose email or user name is taken (it
reports an error, and the user is looked up by import id, and fails naming the holder).
"""

from __future__ import annotations

from collections.abc import Iterable
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


class Directory:
    """Every user one listing showed, by ``_id``, lower-case user name and email, with the
    client's own writes since applied (:meth:`put`, :meth:`remove`)."""

    def __init__(self, users: Iterable[User]):
        self.by_id: dict[str, User] = {}
        self.by_username: dict[str, User] = {}
        self.by_email: dict[str, User] = {}
        for user in users:
            if isinstance(user, dict) and user.get("_id"):
                self.put(user)

    @property
    def total(self) -> int:
        return len(self.by_id)

    def put(self, user: User) -> None:
        """The user as Rocket.Chat now holds it (the client created, updated or found it):
        what it held before under its ``_id`` no longer counts."""
        user_id = str(user["_id"])
        self.remove(user_id)
        self.by_id[user_id] = user
        if user.get("username"):
            self.by_username[str(user["username"]).lower()] = user
        for address in addresses(user):
            self.by_email[address] = user

    def remove(self, user_id: str) -> None:
        """The user is gone (the client deleted it): its user name and emails are free."""
        user = self.by_id.pop(user_id, None)
        if user is None:
            return
        username = str(user.get("username") or "").lower()
        if self.by_username.get(username) is user:
            del self.by_username[username]
        for address in addresses(user):
            if self.by_email.get(address) is user:
                del self.by_email[address]

    def rules_out(self, item: DeliveryItem) -> bool:
        """Whether the listing proves the item has no account (see the module docstring)."""
        usernames, emails = names_of(item)
        return (
            may_rule_out(item)
            and not any(name in self.by_username for name in usernames)
            and not any(address in self.by_email for address in emails)
        )

    def named(self, item: DeliveryItem) -> User | None:
        """The user holding the record's first email and, when the record names one, its
        user name (both unique in Rocket.Chat)."""
        emails = [str(email).lower() for email in item.record.get("emails") or [] if email]
        user = self.by_email.get(emails[0]) if emails else None
        if user is None:
            return None
        username = str(item.record.get("username") or "").lower()
        if username and str(user.get("username") or "").lower() != username:
            return None
        return user
