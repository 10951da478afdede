"""Quali CloudShell: external (AD/LDAP) users imported through the Admin REST API.

Contract: Quali's "Import external users" reference (http://help.quali.com/api-guide/cs-admin-rest-api/import-external-users)
and the other CloudShell Admin REST API pages (source: QualiSystems/cloudshell-help
``cs-admin-rest-api``).

- Token: ``PUT {base}/Api/Auth/Login`` ``{Username, Password, Domain}`` answers the
  token as a quoted JSON string, sent as ``Authorization: Basic <token>``
  (``credentials.token_scheme``: one doc page says Bearer).
- IMPORT: ``POST {base}/api/v1/integrations/IdentityManagement/users`` with one
  ``UserName`` a call (max_batch 1: the API imports one user per call); 200
  ``{"Users": [...], "Errors": [...]}``: the user's ``Id`` is the vendor id, and a
  user absent from ``Users`` failed with the ``Errors`` text. The client decides
  ``AllowUpdate`` itself: true once it holds the user's ``Id`` (docs/architecture.md), absent
  on a first import, so that CloudShell answers "already exists" rather than
  updating an account nobody checked.
- Idempotency: a first import CloudShell refuses is followed by a lookup of the
  name (``GET {base}/api/v1/users?paginationProperties.filter=<name>``, a
  case-insensitive substring filter, so the exact name is picked, following
  ``Cursor``); an account found is imported again with ``AllowUpdate: true`` and
  becomes this user's: the worker reserved the name for the user before the call
  (:mod:`scimbridge.delivery.identity`). ``UserName`` is a directory account's name,
  which CloudShell cannot change: a new name is a new account
  (``on_identity_change: replace``).
- A claim holds :attr:`CloudShellClient.claim_size` users, sent one call after another in
  one :meth:`~CloudShellClient.deliver`: the worker claims, maps and settles them in one
  database transaction each rather than one per user. Each user keeps its own outcome;
  when CloudShell becomes unavailable in mid-claim (a 429, an outage), the users
  delivered keep their outcomes and the rest wait.
- An imported user found inactive is re-activated (an IMPORT includes
  re-activation): ``PUT {base}/api/v1/users/{id}`` with the imported user and
  ``IsActive: true``.
- DISABLE: ``PUT {base}/api/v1/users/{id}`` with the full user (read first, so no
  field is wiped) and ``IsActive: false``; REMOVE: ``DELETE {base}/api/v1/users/{id}``.
  A user without a stored ``Id`` is looked up by name first; a 404 means
  CloudShell no longer has the user: done.
- Read-back (reconcile, docs/vendors/cloudshell.md): ``GET {base}/api/v1/users`` ("Get all
  users"), 250 a page, following ``Cursor`` until it is null; each user reads back as the
  record ``{"UserName": Username}``, inactive when ``IsActive`` is false. The login account
  (``credentials.username``) and CloudShell's built-in ``admin`` are excluded.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from scimbridge.mapping.context import Action
from scimbridge.vendors.base import (
    AccountPage,
    DeliveryItem,
    Outcome,
    VendorAccount,
)
from scimbridge.vendors.http import (
    TokenLoginClient,
    failed,
    json_object,
    json_of,
    nothing_to_deprovision,
    succeeded,
)
from scimbridge.vendors.plugin import VendorPlugin
from scimbridge.vendors.settings import Setting, Settings

IMPORT_USERS = "/api/v1/integrations/IdentityManagement/users"
USERS = "/api/v1/users"
PAGE_LIMIT = 250
"""The largest ``paginationProperties.limit`` (Quali's CloudShell Admin REST API pages)."""
EDITABLE_FIELDS = (
    "Username",
    "Email",
    "IsActive",
    "IsAdmin",
    "GroupIds",
    "TimeZoneInfoId",
    "MaxReservationDuration",
    "MaxConcurrentReservations",
    "MaxScheduledSandboxes",
    "MaxOwnedBlueprints",
    "MaxSavedSandboxes",
)
"""The body of "edit user" (Quali's CloudShell Admin REST API, edit-user); ``Password`` is left out for directory users (ASSUMPTION)."""
SYSTEM_ADMIN = "admin"
"""CloudShell's built-in system administrator, user ``Id`` 1 in Quali's "Get all users" example."""


def error_messages(errors: Any) -> str:
    """``Errors[]`` items are not documented: strings or ``{"Message": ...}`` objects (ASSUMPTION)."""
    if not isinstance(errors, list) or not errors:
        return "no error given"
    return "; ".join(
        str(error.get("Message", error)) if isinstance(error, dict) else str(error)
        for error in errors
    )


def user_name(item: DeliveryItem) -> str:
    return str(item.record.get("UserName") or (item.previous or {}).get("UserName") or "")


def named(users: Any, name: str) -> dict[str, Any] | None:
    """The user of that name (case-insensitive: the directory may spell it in another case)."""
    return next(
        (
            user
            for user in users or []
            if isinstance(user, dict)
            and "Id" in user
            and str(user.get("Username", "")).lower() == name.lower()
        ),
        None,
    )


def listed(users: Any) -> list[dict[str, Any]]:
    """The users of a listing page that carry an ``Id`` (the vendor id of every outcome)."""
    return [user for user in users or [] if isinstance(user, dict) and "Id" in user]


def read_back(user: dict[str, Any]) -> VendorAccount:
    """A listed user in the record shape: ``UserName`` is the listing's ``Username``;
    ``AllowUpdate`` is an instruction to the import, which no user shows. Inactive is
    ``IsActive: false``, which the mapping's ``disable`` leaves (:meth:`CloudShellClient.deactivate`)."""
    return VendorAccount(
        vendor_id=str(user["Id"]),
        record={"UserName": user.get("Username")},
        active=user.get("IsActive") is not False,
    )


def refused(item: DeliveryItem, errors: Any) -> Outcome:
    return failed(item, f"cloudshell: the import refused the user: {error_messages(errors)}")


class CloudShellClient(TokenLoginClient):
    vendor = "cloudshell"
    max_batch = 1
    claim_size = 500
    """Users one :meth:`deliver` takes, each its own call: enough that the worker's
    bookkeeping per claim no longer costs more than the calls, and that a claim's calls
    last about as long as a large SCIM Bulk request holds SQLite's write lock (the claim and
    the settle each wait for one); few enough that a claim finishes well within the
    worker's lease."""
    rate_limits = ()
    """None documented (Quali's CloudShell Admin REST API pages); a 429 is retried like any unavailability."""
    default_token_scheme = "Basic"
    account_keys = frozenset({"UserName"})
    read_back = "list"
    settings = TokenLoginClient.settings + Settings(
        credentials=(
            Setting("username", "The account that logs in (PUT /Api/Auth/Login).", required=True),
            Setting("password", "Its password.", required=True, secret=True),
            Setting("domain", "The CloudShell domain it logs in to.", default="Global"),
        )
    )

    def login(self) -> str:
        credentials = {
            "Username": self.target.secret("username"),
            "Password": self.target.secret("password"),
            "Domain": self.target.secret("domain") or "Global",
        }
        token = json_of(self.login_call("PUT", "/Api/Auth/Login", json=credentials))
        return token if isinstance(token, str) else ""

    def deliver_batch(self, items: list[DeliveryItem]) -> list[Outcome]:
        return [self.per_item(item, partial(self.deliver_one, item)) for item in items]

    def deliver_one(self, item: DeliveryItem) -> Outcome:
        """Import, disable or remove the user. Without a stored ``Id`` the user is looked up
        by name (reserved for the user); only CloudShell's "no such user" means there is
        nothing to deprovision."""
        if item.action is Action.IMPORT:
            return self.import_user(item)
        vendor_id = item.vendor_id or self.own_account(item)
        if vendor_id is None:
            return nothing_to_deprovision(item)
        if item.action is Action.DISABLE:
            self.deactivate(vendor_id)
        else:
            self.call_unless_gone("DELETE", f"{USERS}/{vendor_id}")
        return succeeded(item, vendor_id)

    # -- import ----------------------------------------------------------------------------------

    def import_user(self, item: DeliveryItem) -> Outcome:
        """Import the user: a first import without ``AllowUpdate``, a known user with it.
        A known user answered under another ``Id`` (the account was deleted in CloudShell and
        the name imported again) is the user's new account."""
        name = user_name(item)
        user, errors = self.post_import(name, allow_update=item.vendor_id is not None)
        if user is None:
            return refused(item, errors) if item.vendor_id else self.adopt(item, name, errors)
        return self.activated(item, user)

    def adopt(self, item: DeliveryItem, name: str, errors: Any) -> Outcome:
        """A first import CloudShell refused: when it has a user of that name (a first import
        repeated after a timeout or a crash), the user is imported again with ``AllowUpdate``
        and becomes this one's; otherwise the refusal stands."""
        if self.find(name) is None:
            return refused(item, errors)
        user, errors = self.post_import(name, allow_update=True)
        return self.activated(item, user) if user else refused(item, errors)

    def post_import(self, name: str, allow_update: bool) -> tuple[dict[str, Any] | None, Any]:
        """The user CloudShell imported under that name (None when it is not in ``Users``),
        and the answer's ``Errors``."""
        request: dict[str, Any] = {"UserName": name}
        if allow_update:
            request["AllowUpdate"] = True
        answer = json_object(self.call("POST", IMPORT_USERS, json=request, expect=(200, 202)))
        return named(answer.get("Users"), name), answer.get("Errors")

    def activated(self, item: DeliveryItem, user: dict[str, Any]) -> Outcome:
        """The imported user's outcome, after re-activating it: an import leaves
        ``IsActive`` alone (ASSUMPTION: Quali does not document it)."""
        vendor_id = str(user["Id"])
        if user.get("IsActive") is False and not self.put_active(user, active=True):
            return failed(
                item,
                f"cloudshell: user {vendor_id} was deleted while being re-activated; "
                "the next attempt imports it again",
                retryable=True,
            )
        return succeeded(item, vendor_id, Sid=user.get("Sid"))

    # -- users -----------------------------------------------------------------------------------

    def find(self, name: str) -> dict[str, Any] | None:
        """The CloudShell user of that name: ``paginationProperties.filter`` matches
        substrings, so pages are followed (``Cursor``) until the exact name shows up."""
        cursor = None
        while True:
            users, following = self.users_page(cursor, name)
            found = named(users, name)
            if found or following is None:
                return found
            cursor = following

    def users_page(
        self, cursor: str | None, pattern: str | None = None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of "Get all users" (``GET /api/v1/users``, at most :data:`PAGE_LIMIT`
        users), those whose ``Username`` contains ``pattern`` if given, and the cursor of the
        next page: None after the last one (``Cursor`` null), and also when CloudShell hands
        back the cursor it was given, which would read the same page for ever."""
        params: dict[str, Any] = {"paginationProperties.limit": PAGE_LIMIT}
        if pattern is not None:
            params["paginationProperties.filter"] = pattern
        if cursor is not None:
            params["paginationProperties.cursor"] = cursor
        page = json_object(self.call("GET", USERS, params=params))
        following = page.get("Cursor")
        next_cursor = str(following) if following and following != cursor else None
        return listed(page.get("Users")), next_cursor

    def accounts(self, cursor: str | None = None) -> AccountPage:
        """One page of every CloudShell user, local and system users included (Quali's
        "Get all users" lists them all); CloudShell gives no total."""
        users, following = self.users_page(cursor)
        return AccountPage([read_back(user) for user in users], following)

    def excluded(self, account: VendorAccount) -> str | None:
        """The account the bridge logs in as (``credentials.username``, a CloudShell system
        admin: Quali's "How to use" page) and the built-in ``admin`` are CloudShell's own."""
        name = self.account_key("UserName", str(account.record.get("UserName") or ""))
        login = self.target.secret("username")
        if login and name == self.account_key("UserName", login):
            return "the bridge's service account (credentials.username)"
        if name == SYSTEM_ADMIN:
            return "CloudShell's built-in system administrator"
        return None

    def own_account(self, item: DeliveryItem) -> str | None:
        """The ``Id`` of the CloudShell user of the item's name (reserved for the user), if any."""
        found = self.find(user_name(item))
        return str(found["Id"]) if found is not None else None

    def deactivate(self, vendor_id: str) -> None:
        """Read the user and PUT it back with ``IsActive: false``; a user CloudShell no
        longer has (404) is as inactive as it gets."""
        current = self.call_unless_gone("GET", f"{USERS}/{vendor_id}")
        if current is not None:
            self.put_active(json_object(current), active=False)

    def put_active(self, user: dict[str, Any], active: bool) -> bool:
        """PUT the full user (so no field is wiped) with ``IsActive``; False when CloudShell
        no longer has the user."""
        edited = {field: user[field] for field in EDITABLE_FIELDS if field in user}
        answer = self.call_unless_gone(
            "PUT", f"{USERS}/{user['Id']}", json={**edited, "IsActive": active}, expect=(200, 204)
        )
        return answer is not None


PLUGIN = VendorPlugin.packaged(
    __package__,
    "cloudshell",
    "Quali CloudShell",
    CloudShellClient,
    emulator="scimbridge_emulators.cloudshell:CloudShellEmulator",
    documentation="docs/vendors/cloudshell.md",
)
"""Registered in pyproject.toml under ``scimbridge.vendors`` (:mod:`scimbridge.vendors.plugin`)."""
