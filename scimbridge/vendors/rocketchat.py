"""Rocket.Chat (6.3+): the bulk user import, and the user calls it cannot do without.

Contract: Rocket.Chat's Bulk User Import API reference (developer.rocket.chat: "Create New
Import Operation", "Add Users", "Run Import Operation", "Get Import Operation Status");
Rocket.Chat's source (``RocketChat/Rocket.Chat``: ``import.ts``, ``services/import/service.ts``,
``ApiClass.ts``).

- Every call sends ``X-User-Id`` and ``X-Auth-Token`` (a personal access token
  of a user with ``run-import``, ``view-full-other-user-info``,
  ``edit-other-user-info``, ``edit-other-user-active-status``, ``delete-user``).
- Every user is first looked up by import id (``users.info?importId=``, one call
  each: no listing shows import ids), except users the bridge never delivered that a
  listing of every user (``users.list``, 100 a page; :mod:`.rocketchat_directory`) shows
  nobody's user name or email matches: they have no account, and are imported. The
  listing is used when it costs fewer calls than the lookups it saves and fits in the
  route's rate limit now, or when choosing the batch's user names listed the users
  already (:meth:`RocketChatClient.one_batch`); the bridge's account then needs
  ``view-d-room`` too (a role ``user`` permission). The import never updates an existing user, so
  a user Rocket.Chat has is updated with ``users.update`` (only what it does not
  hold yet), re-activated with ``users.setActiveStatus``, deactivated with
  ``users.setActiveStatus`` (its roles untouched) and removed with ``users.delete``.
- Idempotent: the lookup comes before any write, so a first import repeated after a
  crash, a timeout or a dropped connection (the run had created the user) finds the
  user by its import id and ends as an update, with nothing to send when the user
  holds the record: one Rocket.Chat user, an ok outcome.
- ``users.update`` replaces the user's ``roles``, so it sends the user's roles
  with the managed ones replaced by the granted ones (:func:`merge_managed`):
  roles granted inside Rocket.Chat (moderator, livechat-agent) and the default
  roles every user got ("Add Users" note 4) are the user's own and stay; ``admin`` goes
  when no longer granted.
- The others are imported: ``import.new`` → ``import.addUsers`` → ``import.run``
  → ``import.status`` until done. One bad user fails a whole ``addUsers`` ("Add Users"
  note 1 and 3): a refused batch is bisected so the others still go in. New users
  carry the granted roles; the import adds the default ones ("Add Users" note 4).
- The run returns no per-user errors and creates nobody whose email or user name is
  taken (run note 2), so each user is checked after the run: a second listing shows the
  users it created (new since the first, with the record's email and user name), and
  the others are looked up by import id. One still missing failed for good, and
  ``users.info?username=`` names the holder of its user name: the user of the bridge
  one of the holder's import ids belongs to, else the Rocket.Chat ``_id`` of a user the
  bridge does not manage.
- A DISABLE or REMOVE of a user Rocket.Chat does not have ("User not found.") is
  done: there is nothing to deprovision, and nothing is imported.
- The vendor id is the user's Rocket.Chat ``_id``, the id an admin searches for; the
  user is found by its **import id**, the bridge's stable id (docs/architecture.md),
  which survives a user deleted and re-created in Rocket.Chat. The account keys are
  ``username`` and ``emails`` (both unique in Rocket.Chat): the worker reserves them
  before the call (:mod:`scimbridge.delivery.identity`), and a changed one is the same
  user updated (``users.update``: ``on_identity_change: move``).
- Every route is limited per client, 10 calls a minute by default, refused calls
  counted too (Rocket.Chat's source, ``settings/rate.ts``; :attr:`RocketChatClient.rate_limits`): the client paces
  itself to it (:mod:`.pacing`), and a target whose account holds
  ``api-bypass-rate-limit`` turns that off (``options.rate_limits``). A 429 carries no
  ``Retry-After``: the wait comes from ``X-RateLimit-Reset`` (epoch milliseconds), and so
  does the pause after an answer with ``X-RateLimit-Remaining: 0``. A 429 (or a wait
  too long to take in place) while looking users up or updating them keeps what was
  done and postpones the rest; one on ``import.*`` postpones the users to import (the
  whole call waits when nothing was settled before); one while verifying an import
  postpones the users not verified yet (the import was applied: the next round finds
  them by import id). No call is made that the outcome does not need: no update of a
  user holding the record, no deactivation of an inactive user.
- Read-back (reconcile, ``read_back = "list"``): :meth:`RocketChatClient.accounts` pages
  ``users.list`` (:meth:`RocketChatClient.users_page`), a cursor being the next offset, and
  waits out the route's limit in place. A user reads back in the record's shape
  (:func:`held_record`) without ``importIds`` (never listed) or a password; it is inactive
  when ``active`` is false, as ``users.setActiveStatus`` leaves it. The bridge's own
  account (``credentials.user_id``), ``rocket.cat`` and bot and app users are excluded.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any, TypeVar

import requests

from scimbridge.mapping.context import Action
from scimbridge.vendors.base import (
    AccountPage,
    DeliveryItem,
    Outcome,
    VendorAccount,
    VendorUnavailable,
    merge_managed,
)
from scimbridge.vendors.http import (
    HttpVendorClient,
    VendorRejected,
    compact,
    failed,
    json_object,
    nothing_to_deprovision,
    postponed,
    retry_after_seconds,
    send_isolating,
    succeeded,
)
from scimbridge.vendors.pacing import RateLimit
from scimbridge.vendors.plugin import VendorPlugin
from scimbridge.vendors.rocketchat_directory import Directory, User, may_rule_out

log = logging.getLogger(__name__)

API = "/api/v1"
USERS_LIST = f"{API}/users.list"
PAGE = 100
"""``users.list``'s ``count``: capped at ``API_Upper_Count_Limit``, 100 by default
(``getPaginationItems.ts``). ``count=0`` (everyone at once) depends on another deployment
setting, ``API_Allow_Infinite_Count``, and a whole workspace in one answer can outlast
the call's timeout."""
FINISHED_STATES = frozenset({"done", "error", "canceled"})
NOT_FOUND = "User not found."
"""The end of ``users.info``'s 400 when no user matches (Rocket.Chat's source)."""
ROCKET_CAT = "rocket.cat"
"""The ``_id`` (and user name) of the bot every workspace creates at its first start
(Rocket.Chat's source, ``server/startup/initialData.ts``: type ``bot``, role ``bot``)."""
SYSTEM_TYPES = frozenset({"bot", "app"})
"""User types no person holds: bots, and the users Apps-Engine creates for apps (type
``app``; Rocket.Chat's source, ``app/apps/server/bridges/users.ts``)."""
PROFILE = ("username", "name")
"""Record fields ``users.update`` takes as they are (its ``data`` object, Rocket.Chat's ``UsersUpdateParamsPOST.ts``)."""

T = TypeVar("T")


def import_id(item: DeliveryItem) -> str:
    """The user's import id: the record's (the mapping puts the bridge's stable id there),
    else the bridge's stable id itself."""
    ids = item.record.get("importIds") or []
    return str(ids[0]) if ids else item.key


def first_email(user: User) -> str | None:
    emails = user.get("emails") or []
    return emails[0].get("address") if emails and isinstance(emails[0], dict) else None


def held_record(user: User) -> dict[str, Any]:
    """The listed user in the import record's shape: the record fields ``users.list`` shows
    (its default fields, Rocket.Chat's ``getNonEmptyFields``), None or [] where the user
    has no value (the listing leaves such a field out). ``emails`` become their addresses,
    in order, as the mapping makes them. Left out, as the listing never shows them:
    ``importIds`` (``defaultFieldsToExclude``), ``password``, ``deleted`` (write-only; it
    reads back as :attr:`VendorAccount.active`), ``utcOffset``, ``statusText``, ``bio``."""
    return {
        "username": user.get("username"),
        "name": user.get("name"),
        "emails": [
            str(email["address"])
            for email in user.get("emails") or []
            if isinstance(email, dict) and email.get("address")
        ],
        "roles": list(user.get("roles") or []),
        "type": user.get("type"),
    }


def held_account(user: User) -> VendorAccount:
    """A listed user as reconcile reads it: inactive exactly when ``active`` is false, as the
    mapping's ``disable`` (``users.setActiveStatus``) leaves it and as
    :meth:`RocketChatClient.apply` reads it before deactivating."""
    return VendorAccount(str(user["_id"]), held_record(user), user.get("active") is not False)


def changes(item: DeliveryItem, user: User) -> dict[str, Any]:
    """The ``users.update`` data that makes the user hold the record, without what it holds.

    ``roles`` replace the user's, so they are the user's own with the managed values
    replaced by the granted ones (docs/architecture.md, "What the vendor holds is what the IdP
    says"); a password cannot be read back, so one in the record is always sent.
    """
    record = item.record
    data = {
        name: record[name] for name in PROFILE if record.get(name) not in (None, user.get(name))
    }
    emails = record.get("emails") or []
    if emails and str(emails[0]).lower() != str(first_email(user) or "").lower():
        data["email"] = emails[0]
    if record.get("roles") is not None:
        roles = merge_managed(
            user.get("roles") or [], record["roles"], item.managed.get("roles", ())
        )
        if sorted(roles) != sorted(user.get("roles") or []):
            data["roles"] = roles
    if record.get("password"):
        data["password"] = record["password"]
    return data


class RocketChatClient(HttpVendorClient):
    vendor = "rocketchat"
    max_batch = 100
    one_batch_at_a_time = True
    """Not documented; the run inserts users 50 at a time (UserConverter.ts), so 100 is two rounds."""
    unique_fields = frozenset({"username"})
    """Rocket.Chat refuses a second user of a user name (case-insensitively)."""
    account_keys = frozenset({"username", "emails"})
    """Rocket.Chat keeps user names and email addresses unique (case-insensitively)."""
    renames_accounts = True
    """``users.update`` changes a user's name and email in place."""
    read_back = "list"
    """``users.list`` pages every user (:meth:`accounts`)."""
    default_poll_interval_seconds = 1.0
    listed: Directory | None = None
    """The listing of every user taken for this batch (:meth:`one_batch`), if one was."""
    rate_limits = (RateLimit("per_route", 10, 60.0, path_prefix=f"{API}/", per_route=True),)
    """Every REST route (method and path) per client: ``API_Enable_Rate_Limiter_Limit_Calls_Default``
    (10) calls per ``…_Limit_Time_Default`` (60,000 ms), a deployment's setting
    (Rocket.Chat's source: ``settings/rate.ts``, ``ApiClass.ts``)."""

    def authenticate(self) -> None:
        """A personal access token needs no login; a 401 means it was revoked or lacks rights."""
        if not (self.target.secret("user_id") and self.target.secret("auth_token")):
            raise VendorUnavailable("rocketchat: credentials user_id and auth_token are required")

    def is_authenticated(self) -> bool:
        return True

    def auth_headers(self) -> dict[str, str]:
        return {
            "X-User-Id": self.target.secret("user_id") or "",
            "X-Auth-Token": self.target.secret("auth_token") or "",
        }

    def retry_after(self, response: requests.Response) -> float | None:
        reset = response.headers.get("X-RateLimit-Reset", "")
        if reset.isascii() and reset.isdigit():  # float(): a reset of 400 digits is inf, capped
            return max(0.0, float(reset) / 1000 - time.time())
        return retry_after_seconds(response)

    # -- read-back -------------------------------------------------------------------------------

    def accounts(self, cursor: str | None = None) -> AccountPage:
        """One page of ``users.list`` (:meth:`users_page`) from the offset ``cursor`` (None:
        0), by user name.

        The next offset counts the users the page held, not the ``count`` asked for: a
        deployment may set ``API_Upper_Count_Limit`` below it. A page waits out the route's
        limit in place (:meth:`waiting_in_place`), so that reading 1,000 users, ten pages on a
        route of 10 calls a minute, is paced rather than broken off; a wait longer than that
        raises :class:`VendorUnavailable`, and the read resumes at ``cursor``. Offsets shift
        when users come or go meanwhile: such a user may be missed or listed twice, as any
        offset paging allows. An empty page ends the read, whatever its ``total`` says.
        """
        offset = int(cursor) if cursor else 0
        with self.waiting_in_place():
            page = self.users_page(offset)
        listed = [user for user in page.get("users") or [] if isinstance(user, dict)]
        following = offset + len(listed)
        more = bool(listed) and following < total(page)
        return AccountPage(
            [held_account(user) for user in listed if user.get("_id")],
            str(following) if more else None,
            total(page),
        )

    def excluded(self, account: VendorAccount) -> str | None:
        """The bridge's own account (the personal access token's ``credentials.user_id``),
        ``rocket.cat`` and bot or app users (:data:`SYSTEM_TYPES`): no person of the IdP
        holds them."""
        if account.vendor_id == self.target.secret("user_id"):
            return "the bridge's own account (credentials.user_id)"
        if account.vendor_id == ROCKET_CAT:
            return "rocket.cat, the bot every Rocket.Chat workspace creates"
        if account.record.get("type") in SYSTEM_TYPES:
            return f"a Rocket.Chat {account.record['type']} user, not a person's account"
        return None

    # -- delivery --------------------------------------------------------------------------------

    def deliver_batch(self, items: list[DeliveryItem]) -> list[Outcome]:
        """Look every user up, settle those Rocket.Chat has one by one, import the others.
        A 429 or an outage keeps what each phase settled (docs/architecture.md, "a 429 in mid-batch
        keeps what was applied") and postpones the rest."""
        before = self.directory([item for item in items if may_rule_out(item)])
        users, outcomes = self.users_of(items, before)
        settled, to_import = self.settle_or_defer(
            [item for item in items if item.key in users],
            lambda item: self.apply(item, users[item.key]),
        )
        outcomes.update(settled)
        outcomes.update(
            self.import_or_postpone(
                to_import, partial(self.import_users, before=before), settled_before=bool(outcomes)
            )
        )
        return [outcomes[item.key] for item in items]

    def users_of(
        self, items: list[DeliveryItem], before: Directory | None
    ) -> tuple[dict[str, User | None], dict[str, Outcome]]:
        """Each item's user by import id (None: Rocket.Chat has none, as the listing
        ``before`` may prove without a call), as far as the ``users.info`` limit allows;
        the items left are postponed, and an item whose lookup is refused (a 403: the token
        lacks ``view-full-other-user-info``) fails with the vendor's words. When not even
        the first can be looked up, the whole call waits (:class:`VendorUnavailable`)."""

        def lookup(item: DeliveryItem) -> User | Outcome | None:
            if before is not None and before.rules_out(item):
                return None
            return self.found(item)

        first, *rest = items
        found = {first.key: lookup(first)}
        more, outcomes = until_unavailable(rest, lookup)
        found.update(more)
        users = {key: user for key, user in found.items() if not isinstance(user, Outcome)}
        refused = {key: outcome for key, outcome in found.items() if isinstance(outcome, Outcome)}
        return users, {**outcomes, **refused}

    def found(self, item: DeliveryItem) -> User | Outcome | None:
        """The item's user by its vendor id (``_id``) when the bridge knows one, else by
        import id; or the failure of a refused lookup. The vendor id finds an account the
        bridge did not import (an orphan that reconcile disables: it has no import id)."""
        if item.vendor_id:
            user = self.per_item(item, lambda: self.user_where("userId", str(item.vendor_id)))
            if user is not None:
                return user
        return self.per_item(item, lambda: self.user_where("importId", import_id(item)))

    def directory(self, candidates: list[DeliveryItem]) -> Directory | None:
        """Every user, listed in pages, when the listing can spare the candidates their
        lookups: the listings before and after the import cost fewer calls than looking
        each up before and after. None: look each up."""
        if not candidates:
            return None
        if self.listed is not None:
            listed, self.listed = self.listed, None
            return listed
        count = len(candidates)
        return self.listing_if(lambda users: pages(users) + pages(users + count) <= 2 * count)

    def listing_if(self, worth: Callable[[int], bool]) -> Directory | None:
        """Every user, when ``worth`` says a listing of that many users is worth its calls
        (the first page tells how many pages there are, as ACC's listing does) and the pages
        left fit in the route's rate limit with short waits (a listing postponed half-way
        would start over, every time); else None. A listing refused (a 403) is None too."""
        try:
            first = self.users_page(0)
        except VendorRejected as refusal:
            log.warning("%s; looking users up one by one", refusal)
            return None
        if not worth(total(first)) or not self.pacer.fits(
            "GET", USERS_LIST, pages(total(first)) - 1, self.longest_wait
        ):
            return None
        return self.listing(first)

    def listing(self, first: dict[str, Any]) -> Directory | None:
        """The listing that starts with ``first``; None when users came or went while it was
        paged (a page's ``total`` differs, or the users do not add up to it), since a user
        missed could be one the listing is asked about."""
        users = list(first.get("users") or [])
        for offset in range(PAGE, total(first), PAGE):
            page = self.users_page(offset)
            if total(page) != total(first):
                return None
            users += page.get("users") or []
        directory = Directory.of(users)
        return directory if directory.total == total(first) else None

    def users_page(self, offset: int) -> dict[str, Any]:
        """One page of ``users.list``, by user name (its default order)."""
        return json_object(self.call("GET", USERS_LIST, params={"count": PAGE, "offset": offset}))

    @contextmanager
    def one_batch(self) -> Iterator[None]:
        """A listing :meth:`holders` took serves the batch's later rounds of choosing and
        its :meth:`directory`: the same users a moment before, as no call of the bridge
        wrote in between. A later batch lists again."""
        self.listed = None
        try:
            yield
        finally:
            self.listed = None

    def holders(self, field: str, values: list[str]) -> dict[str, str | None]:
        """The ``_id`` of the user of each user name (not the import id the bridge knows its
        users by, which the listing never shows: see ``VendorClient.holders``), from one
        listing (``users.list``, by lower-case user name, as Rocket.Chat keeps them unique)
        when its pages cost fewer calls than a ``users.info?username=`` per name, else one
        by one. Either waits out the route's limit in place: the batch's choosing would
        start over if postponed, and the lookups would never fit where the listing did not."""
        with self.waiting_in_place():
            listing = self.listed or self.listing_for(len(values))
            if listing is None:
                found = {value: self.user_where(field, value) for value in values}
            else:
                self.listed = listing
                found = {value: listing.by_username.get(value.lower()) for value in values}
        return {value: str(user["_id"]) if user else None for value, user in found.items()}

    def listing_for(self, lookups: int) -> Directory | None:
        """The users, listed, when that takes no more calls than ``lookups`` ``users.info``."""
        return self.listing_if(lambda users: pages(users) <= lookups) if lookups > 1 else None

    def user_where(self, parameter: str, value: str) -> User | None:
        """``users.info`` by ``importId`` or ``username``; None only on Rocket.Chat's own
        "User not found." (ASSUMPTION from Rocket.Chat's source): any other refusal,
        a 404 of a wrong base URL included, must never pass for a user to import or for
        nothing to deprovision."""
        try:
            answer = json_object(self.call("GET", f"{API}/users.info", params={parameter: value}))
        except VendorRejected as rejection:
            if rejection.status == 400 and str(rejection).endswith(NOT_FOUND):
                return None
            raise
        user = answer.get("user")
        return user if isinstance(user, dict) and user.get("_id") else None

    def apply(self, item: DeliveryItem, user: User | None) -> Outcome | None:
        """Update, deactivate or delete the user Rocket.Chat has; None when it must be
        imported. Only Rocket.Chat's "User not found." means there is nothing to
        deprovision."""
        if user is None:
            return None if item.action is Action.IMPORT else nothing_to_deprovision(item)
        user_id = str(user["_id"])
        if item.action is Action.IMPORT:
            self.update(item, user)
        elif item.action is Action.DISABLE:
            if user.get("active") is not False:
                self.set_active(user_id, False)
        else:
            self.post("users.delete", {"userId": user_id})
        return succeeded(item, user_id, importId=import_id(item))

    def update(self, item: DeliveryItem, user: User) -> None:
        """``users.update`` with what the user lacks, then re-activation (an IMPORT includes it)."""
        data = changes(item, user)
        if data:
            self.post("users.update", {"userId": str(user["_id"]), "data": data})
        if user.get("active") is False:
            self.set_active(str(user["_id"]), True)

    def set_active(self, user_id: str, active: bool) -> None:
        self.post("users.setActiveStatus", {"userId": user_id, "activeStatus": active})

    def post(self, method: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        return json_object(self.call("POST", f"{API}/{method}", json=body))

    # -- import ----------------------------------------------------------------------------------

    def import_users(
        self, items: list[DeliveryItem], before: Directory | None
    ) -> dict[str, Outcome]:
        """Import the items; ``before`` is the listing taken before, if any."""
        if not items:
            return {}
        self.post("import.new")
        sent = send_isolating(
            items,
            lambda batch: self.post(
                "import.addUsers", {"users": [compact(item.record) for item in batch]}
            ),
        )
        outcomes = {item.key: failed(item, str(rejection)) for item, rejection in sent.rejected}
        staged = [item for batch, _ in sent.accepted for item in batch]
        if staged:
            self.run_import()
            outcomes.update(self.confirmed(staged, before))
        return outcomes

    def confirmed(self, staged: list[DeliveryItem], before: Directory | None) -> dict[str, Outcome]:
        """Each staged user's outcome: created, as a listing after the run shows, else as
        its lookup by import id says; those the rate limit leaves unchecked are postponed."""
        created = self.created(staged, before)
        outcomes = {
            item.key: succeeded(item, str(created[item.key]["_id"]), importId=import_id(item))
            for item in staged
            if item.key in created
        }
        verified, unverified = until_unavailable(
            [item for item in staged if item.key not in created],
            lambda item: self.per_item(item, lambda: self.verified(item)),
        )
        return {**outcomes, **verified, **unverified}

    def created(self, staged: list[DeliveryItem], before: Directory | None) -> dict[str, User]:
        """The users the run created, by item key, from a listing after it, when there is
        one from before to compare with and listing costs fewer calls than the lookups.
        The listing finishes the import (:meth:`waiting_in_place`): it waits out the route's
        limit in place when it must, as far as the polls would have. A listing the vendor
        will not give now leaves the lookups."""
        if before is None:
            return {}
        pages = math.ceil((before.total + len(staged)) / PAGE)
        with self.waiting_in_place():
            if pages > len(staged) or not self.pacer.fits(
                "GET", USERS_LIST, pages, self.longest_wait
            ):
                return {}
            try:
                after = self.listing(self.users_page(0))
            except (VendorUnavailable, VendorRejected) as failure:
                log.warning("%s; checking the imported users one by one", failure)
                return {}
        if after is None:
            return {}
        return {item.key: user for item in staged if (user := after.created(item, before))}

    def run_import(self) -> None:
        self.post("import.run")
        final = self.poll(
            lambda: json_object(self.call("GET", f"{API}/import.status")),
            lambda s: s.get("state") in FINISHED_STATES,
        )
        if final is None:
            raise VendorUnavailable(
                f"rocketchat: the import operation is still running after {self.max_polls} polls"
            )
        if final["state"] != "done":
            raise VendorUnavailable(f"rocketchat: the import operation ended {final['state']}")

    def verified(self, item: DeliveryItem) -> Outcome:
        """The run returns no per-user errors (Rocket.Chat's source): a user it did not create failed."""
        user = self.user_where("importId", import_id(item))
        if user is not None:
            return succeeded(item, str(user["_id"]), importId=import_id(item))
        return failed(item, self.why_not_created(item))

    def why_not_created(self, item: DeliveryItem) -> str:
        """Who holds the item's user name or email (run note 2: a taken email or user name
        is not created), so the admin knows whom to settle it with. The failure is
        permanent: the import would refuse it again."""
        username = str(item.record.get("username") or "")
        holder = self.user_where("username", username) if username else None
        if holder is not None:
            return (
                f"rocketchat: the user name {username} is taken by {self.described(item, holder)}"
            )
        holder = self.email_holder(item)
        if holder is not None:
            return f"rocketchat: the user's email is taken by {self.described(item, holder)}"
        return (
            "rocketchat: the import did not create the user, and its user name is free: "
            "its email is probably taken (Rocket.Chat gives no reason)"
        )

    def email_holder(self, item: DeliveryItem) -> User | None:
        """The user holding the item's first email, read in full: a listing finds it (no
        ``users.info`` takes an email), when the listing fits the rate limit; else None."""
        emails = [str(email).lower() for email in item.record.get("emails") or [] if email]
        if not emails:
            return None
        try:
            listing = self.listing_if(lambda users: True)
        except (VendorUnavailable, VendorRejected):
            return None
        found = listing.by_email.get(emails[0]) if listing is not None else None
        return self.user_where("userId", str(found["_id"])) if found else None

    def described(self, item: DeliveryItem, holder: User) -> str:
        """The holder as the bridge user one of its import ids belongs to, else by its ``_id``."""
        bridge_user = next(
            (
                found
                for value in holder.get("importIds") or []
                if str(value) != item.key and (found := self.bridge_users.describe(str(value)))
            ),
            None,
        )
        if bridge_user:
            return f"another user of the bridge ({bridge_user})"
        return f"a Rocket.Chat user the bridge does not manage (_id {holder['_id']})"


def total(page: dict[str, Any]) -> int:
    """How many users the listing holds, as a page of it says."""
    value = page.get("total")
    return value if isinstance(value, int) and value >= 0 else 0


def pages(users: int) -> int:
    """How many ``users.list`` calls list that many users."""
    return math.ceil(users / PAGE)


def until_unavailable(
    items: list[DeliveryItem], act: Callable[[DeliveryItem], T]
) -> tuple[dict[str, T], dict[str, Outcome]]:
    """``act`` on each item in turn until the vendor asks to wait (a route's limit is
    reached): the results so far by key, and the items left postponed with that wait."""
    done: dict[str, T] = {}
    for position, item in enumerate(items):
        try:
            done[item.key] = act(item)
        except VendorUnavailable as unavailable:
            return done, {left.key: postponed(left, unavailable) for left in items[position:]}
    return done, {}


PLUGIN = VendorPlugin.packaged(
    __package__,
    "rocketchat",
    "Rocket.Chat",
    RocketChatClient,
    emulator="scimbridge_emulators.rocketchat:RocketChatEmulator",
    documentation="docs/vendors/rocketchat.md",
)
"""Registered in pyproject.toml under ``scimbridge.vendors`` (:mod:`scimbridge.vendors.plugin`)."""
