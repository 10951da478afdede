"""Rocket.Chat (6.3+): the bulk user import, and the user calls it cannot do without.

Contract: Rocket.Chat's Bulk User Import API reference (developer.rocket.chat: "Create New
Import Operation", "Add Users", "Run Import Operation", "Get Import Operation Status");
Rocket.Chat's source (``RocketChat/Rocket.Chat``: ``import.ts``, ``services/import/service.ts``,
``ApiClass.ts``).

- Every call sends ``X-User-Id`` and ``X-Auth-Token`` (a personal access token
  of a user with ``run-import``, ``view-full-other-user-info``,
  ``edit-other-user-info``, ``edit-other-user-active-status``, ``delete-user``).
- Every user is first looked up by import id (``users.info?importId=``, one call
  each: no listing shows import ids), except users the bridge never delivered whom the
  run's directory (:mod:`.rocketchat_directory`) shows nobody's user name or email matches:
  they have no account, and are imported. The directory is one listing of every user
  (``users.list?count=0``, paged on at 100 where the deployment answers fewer), read once
  for a delivery run, not per batch, and kept current with what the client writes (users
  it creates, updates, renames, deactivates or deletes); it is read again when older than
  ``options.directory_max_age_seconds`` (300), after an import reporting errors, after a
  write whose answer was not read, and in the next run (:meth:`RocketChatClient.run_ended`).
  The bridge's account needs ``view-d-room`` too (a role ``user`` permission). The import
  never updates an existing user, so a user Rocket.Chat has is updated with ``users.update``
  (only what it does not hold yet), re-activated with ``users.setActiveStatus``, deactivated
  with ``users.setActiveStatus`` (its roles untouched) and removed with ``users.delete``.
- Idempotent: the lookup comes before any write, so a first import repeated after a
  crash, a timeout or a dropped connection (the run had created the user) finds the
  user by its import id and ends as an update, with nothing to send when the user
  holds the record: one Rocket.Chat user, an ok outcome.
- ``users.update`` replaces the user's ``roles``, so it sends the user's roles
  with the managed ones replaced by the granted ones (:func:`merge_managed`):
  roles granted inside Rocket.Chat (moderator, livechat-agent) and the default
  roles every user got ("Add Users" note 4) are the user's own and stay; ``admin`` goes
  when no longer granted.
- The others are imported, all of a delivery in one operation: ``import.new`` →
  ``import.addUsers`` → ``import.run`` → ``import.status`` until done. One bad user fails a
  whole ``addUsers`` ("Add Users" note 1 and 3): a refused batch is bisected so the others
  still go in. New users carry the granted roles; the import adds the default ones ("Add
  Users" note 4).
- The run returns no per-user errors and creates nobody whose email or user name is taken
  (run note 2), but its status counts them (``count.error``). When it counts none, the run
  created every staged user, and one listing after it names each by its record's email and
  user name (:meth:`RocketChatClient.confirmed`); otherwise, and for a user the listing
  does not name, each is looked up by import id. One still missing failed for good, and
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
from collections.abc import Callable
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
    PAYLOAD_REJECTIONS,
    HttpVendorClient,
    RunDirectory,
    VendorRejected,
    compact,
    failed,
    json_object,
    nothing_to_deprovision,
    polling,
    postponed,
    retry_after_seconds,
    send_isolating,
    succeeded,
)
from scimbridge.vendors.pacing import RateLimit
from scimbridge.vendors.plugin import VendorPlugin
from scimbridge.vendors.rocketchat_directory import Directory, User, may_rule_out
from scimbridge.vendors.settings import Setting, Settings

log = logging.getLogger(__name__)

API = "/api/v1"
USERS_LIST = f"{API}/users.list"
EVERYONE = 0
"""``users.list``'s ``count`` for every user in one answer (``API_Allow_Infinite_Count``, on
by default; with it off, Rocket.Chat answers ``API_Default_Count`` users:
``getPaginationItems.ts``)."""
PAGE = 100
"""``users.list``'s largest ``count``: capped at ``API_Upper_Count_Limit``, 100 by default
(``getPaginationItems.ts``)."""
TOO_LARGE = 413
"""Content Too Large (RFC 9110 §15.5.14): a body over the server's limit, halved like a refused one."""
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
    max_batch = 10_000
    """Users per import operation, sent in one ``import.addUsers``. The documents name no
    limit (the "Add Users" notes; ``rest-typings``' ``ImportAddUsersParamsPOST.ts``: an
    array without ``maxItems``), and every operation costs ``import.new``, ``import.run`` and
    status polls on routes of 10 calls a minute: 10,000 users in one operation is one call
    of each where 100 at a time took a hundred (docs/vendors/rocketchat.md, "Limits"). A
    body Rocket.Chat finds too large (413) is halved like a refused one."""
    one_batch_at_a_time = True
    """``import.new`` aborts a running import: one operation at a time per workspace."""
    unique_fields = frozenset({"username"})
    """Rocket.Chat refuses a second user of a user name (case-insensitively)."""
    account_keys = frozenset({"username", "emails"})
    """Rocket.Chat keeps user names and email addresses unique (case-insensitively)."""
    renames_accounts = True
    """``users.update`` changes a user's name and email in place."""
    read_back = "list"
    """``users.list`` pages every user (:meth:`accounts`)."""
    settings = (
        HttpVendorClient.settings
        + polling(interval_seconds=1.0)
        + Settings(
            credentials=(
                Setting(
                    "user_id",
                    "The id of the user whose personal access token the bridge sends (X-User-Id).",
                    required=True,
                ),
                Setting(
                    "auth_token",
                    "The personal access token (X-Auth-Token).",
                    required=True,
                    secret=True,
                ),
            )
        )
    )
    known: RunDirectory[Directory]
    """The run's directory: the last listing read, with the client's own writes since."""
    rate_limits = (RateLimit("per_route", 10, 60.0, path_prefix=f"{API}/", per_route=True),)
    """Every REST route (method and path) per client: ``API_Enable_Rate_Limiter_Limit_Calls_Default``
    (10) calls per ``…_Limit_Time_Default`` (60,000 ms), a deployment's setting
    (Rocket.Chat's source: ``settings/rate.ts``, ``ApiClass.ts``)."""

    def authenticate(self) -> None:
        """A personal access token needs no login; a 401 means it was revoked or lacks rights."""

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
        """One page of ``users.list`` (:meth:`users_page`, 100 users) from the offset
        ``cursor`` (None: 0), by user name.

        Reconcile reads in pages, each resumable where it stopped (a cursor), which one
        answer of every user (as :meth:`read_directory` asks first) could not be. The next
        offset counts the users the page held, not the ``count`` asked for: a deployment may
        set ``API_Upper_Count_Limit`` below it. A page waits out the route's limit in place
        (:meth:`waiting_in_place`), so that reading 1,000 users, ten pages on a route of 10
        calls a minute, is paced rather than broken off; a wait longer than that raises
        :class:`VendorUnavailable`, and the read resumes at ``cursor``. Offsets shift when
        users come or go meanwhile: such a user may be missed or listed twice, as any offset
        paging allows. An empty page ends the read, whatever its ``total`` says.
        """
        offset = int(cursor) if cursor else 0
        with self.waiting_in_place():
            page = self.users_page(offset, PAGE)
        listed = listed_users(page)
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

    # -- the run's directory ---------------------------------------------------------------------

    def remember(self, user: User) -> None:
        """The user as the client just wrote or found it, in the run's directory."""
        known = self.known.fresh()
        if known is not None:
            known.put(user)

    def read_directory(self, worth: Callable[[int], bool]) -> Directory | None:
        """Every user, which becomes the run's directory; None when the listing is not worth
        its calls, does not fit the route's limit, is refused (a 403: the account lacks
        ``view-d-room``), or users came or went while it was paged.

        ``users.list?count=0`` first: everyone in one answer where the deployment allows it
        (``API_Allow_Infinite_Count``, on by default); with the setting off Rocket.Chat
        answers ``API_Default_Count`` users (``getPaginationItems.ts``). An answer holding
        fewer users than its ``total`` is paged on, 100 (``API_Upper_Count_Limit``) a call,
        from where it stopped, when ``worth`` says the calls of the whole listing are worth
        it and the pages left fit in the route's limit with the waits allowed now (a listing
        postponed half-way would start over, every time).
        """
        read_at = time.monotonic()
        try:
            first = self.users_page(0, EVERYONE)
        except VendorRejected as refusal:
            log.warning("%s; looking users up one by one", refusal)
            return None
        expected = total(first)
        users = listed_users(first)
        if len(users) < expected:
            left = pages(expected - len(users))
            if not worth(1 + left) or not self.pacer.fits(
                "GET", USERS_LIST, left, self.longest_wait
            ):
                return None
            for offset in range(len(users), expected, PAGE):
                page = self.users_page(offset, PAGE)
                if total(page) != expected:
                    return None
                users += listed_users(page)
        directory = Directory(users)
        if directory.total != expected:
            return None
        return self.known.keep(directory, read_at)

    def users_page(self, offset: int, count: int) -> dict[str, Any]:
        """One answer of ``users.list``, by user name (its default order)."""
        return json_object(self.call("GET", USERS_LIST, params={"count": count, "offset": offset}))

    def holders(self, field: str, values: list[str]) -> dict[str, str | None]:
        """The ``_id`` of the user of each user name (not the import id the bridge knows its
        users by, which the listing never shows: see ``VendorClient.holders``), from the run's
        directory (by lower-case user name, as Rocket.Chat keeps them unique), read when
        needed if its calls are no more than a ``users.info?username=`` per name, else one by
        one. Either waits out the route's limit in place: the batch's choosing would start
        over if postponed, and the lookups would never fit where the listing did not. A name
        taken since the directory was read looks free; the import then refuses it, and the
        user fails naming the holder (:meth:`why_not_created`)."""
        with self.waiting_in_place():
            known = self.known.fresh() or self.read_directory(lambda calls: calls <= len(values))
            if known is None:
                found = {value: self.user_where(field, value) for value in values}
            else:
                found = {value: known.by_username.get(value.lower()) for value in values}
        return {value: str(user["_id"]) if user else None for value, user in found.items()}

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
            self.import_or_postpone(to_import, self.import_users, settled_before=bool(outcomes))
        )
        return [outcomes[item.key] for item in items]

    def directory(self, candidates: list[DeliveryItem]) -> Directory | None:
        """The run's directory, for the users a listing may prove new; read when the run holds
        none (or an old one) and the listing costs no more calls than the lookups it spares
        (one before the import and one after, per candidate). None: look each up."""
        if not candidates:
            return None
        count = len(candidates)
        return self.known.fresh() or self.read_directory(lambda calls: calls <= 2 * count)

    def users_of(
        self, items: list[DeliveryItem], before: Directory | None
    ) -> tuple[dict[str, User | None], dict[str, Outcome]]:
        """Each item's user by import id (None: Rocket.Chat has none, as the directory
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
        deprovision. The run's directory follows what each write did."""
        if user is None:
            return None if item.action is Action.IMPORT else nothing_to_deprovision(item)
        user_id = str(user["_id"])
        if item.action is Action.IMPORT:
            self.update(item, user)
        elif item.action is Action.DISABLE:
            if user.get("active") is not False:
                self.set_active(user, False)
        else:
            self.post("users.delete", {"userId": user_id})
            if (known := self.known.fresh()) is not None:
                known.remove(user_id)
        return succeeded(item, user_id, importId=import_id(item))

    def update(self, item: DeliveryItem, user: User) -> None:
        """``users.update`` with what the user lacks, then re-activation (an IMPORT includes it)."""
        data = changes(item, user)
        if data:
            self.post("users.update", {"userId": str(user["_id"]), "data": data})
            user = updated(user, data)
            self.remember(user)
        if user.get("active") is False:
            self.set_active(user, True)

    def set_active(self, user: User, active: bool) -> None:
        self.post("users.setActiveStatus", {"userId": str(user["_id"]), "activeStatus": active})
        self.remember({**user, "active": active})

    def post(self, method: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        """A write; one whose answer was not read forgets the run's directory
        (:meth:`~scimbridge.vendors.http.HttpVendorClient.call`, ``written``)."""
        return self.written(self.call("POST", f"{API}/{method}", json=body))

    # -- import ----------------------------------------------------------------------------------

    def import_users(self, items: list[DeliveryItem]) -> dict[str, Outcome]:
        """Import the items in one operation. Staging waits out ``addUsers``' limit in place
        (:meth:`waiting_in_place`): a refused batch is halved until the bad users stand alone,
        and a bisection postponed half-way would start over every time."""
        if not items:
            return {}
        operation = self.post("import.new").get("operation")
        with self.waiting_in_place():
            sent = send_isolating(
                items,
                lambda batch: self.post(
                    "import.addUsers", {"users": [compact(item.record) for item in batch]}
                ),
                PAYLOAD_REJECTIONS | {TOO_LARGE},
            )
        outcomes = {item.key: failed(item, str(rejection)) for item, rejection in sent.rejected}
        staged = [item for batch, _ in sent.accepted for item in batch]
        if staged:
            final = self.run_import()
            outcomes.update(self.confirmed(staged, every_one_created(final, operation)))
        return outcomes

    def confirmed(self, staged: list[DeliveryItem], clean: bool) -> dict[str, Outcome]:
        """Each staged user's outcome.

        ``clean``: the run was this operation and reports no error, so it created every
        staged user; as Rocket.Chat keeps emails and user names unique, the user holding a
        record's email and user name after the run is the one the run created for it, and
        one listing (the run's directory from then on) names them all. Otherwise an account
        holding them may be one somebody else created meanwhile, which only the import id
        tells apart: each is looked up by import id, and the directory is read again when
        next needed. Users the listing does not name are looked up too; those the rate limit
        leaves unchecked are postponed (the next round finds them by import id)."""
        created: dict[str, User] = {}
        if clean:
            after = self.listing_after(len(staged))
            if after is None:
                self.known.forget()
            else:
                created = {item.key: user for item in staged if (user := after.named(item))}
        else:
            self.known.forget()
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

    def listing_after(self, staged: int) -> Directory | None:
        """The directory after a clean run, when it costs no more calls than looking each
        staged user up. It finishes the import (:meth:`waiting_in_place`): it waits out the
        route's limit in place when it must, as far as the polls would have. A listing the
        vendor will not give now leaves the lookups."""
        with self.waiting_in_place():
            try:
                return self.read_directory(lambda calls: calls <= staged)
            except (VendorUnavailable, VendorRejected) as failure:
                log.warning("%s; checking the imported users one by one", failure)
                return None

    def run_import(self) -> dict[str, Any]:
        """Run the staged operation; its final status, done."""
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
        return final

    def verified(self, item: DeliveryItem) -> Outcome:
        """The run returns no per-user errors (Rocket.Chat's source): a user it did not create failed."""
        user = self.user_where("importId", import_id(item))
        if user is not None:
            self.remember(user)
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
        """The user holding the item's first email, read in full: the run's directory finds
        it (no ``users.info`` takes an email), read again when needed if it fits the rate
        limit; else None."""
        emails = [str(email).lower() for email in item.record.get("emails") or [] if email]
        if not emails:
            return None
        try:
            known = self.known.fresh() or self.read_directory(lambda calls: True)
        except (VendorUnavailable, VendorRejected):
            return None
        found = known.by_email.get(emails[0]) if known is not None else None
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


def every_one_created(final: dict[str, Any], operation: Any) -> bool:
    """Whether the run that ended as ``final`` is the operation ``import.new`` answered
    (``import.status`` reports the workspace's last one, which another importer may have
    started since) and counts no per-user error: a taken email or user name is an error
    (``count.error``) and the record stays staged, so every staged user was created."""
    ran = final.get("operation")
    if not isinstance(ran, dict) or not isinstance(operation, dict) or not operation.get("_id"):
        return False
    count = ran.get("count")
    errors = count.get("error") if isinstance(count, dict) else None
    return ran.get("_id") == operation["_id"] and type(errors) is int and errors == 0


def updated(user: User, data: dict[str, Any]) -> User:
    """The user as ``users.update`` leaves it with ``data``: a new email replaces the
    user's emails (Rocket.Chat's ``setEmail``)."""
    held = {**user, **{name: data[name] for name in (*PROFILE, "roles") if name in data}}
    if "email" in data:
        held["emails"] = [{"address": data["email"], "verified": False}]
    return held


def listed_users(page: dict[str, Any]) -> list[User]:
    return [user for user in page.get("users") or [] if isinstance(user, dict)]


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
