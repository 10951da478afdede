"""VMware Aria Operations (VCF Operations): users imported from an auth source, via the Suite API.

Contract: Broadcom's "Import Users Using POST" reference (https://developer.broadcom.com/xapis/vmware-vrealize-operations-api/latest/api/auth/sources/id/users/post);
the VCF Operations OpenAPI (``vmware/vcf-api-specs``,
``specifications/vcf-operations/vcf-operations-openapi.json``: ``acquireToken``,
``releaseToken``, ``importUsers``, ``getUsers``, ``getUser``, ``modifyUser``, ``deleteUser``);
Broadcom's VMware Aria Operations API documentation (developer.broadcom.com).

- Token: ``POST {base}/api/auth/token/acquire`` ``{username, password, authSource}``,
  sent as ``Authorization: OpsToken <token>`` (``credentials.token_scheme``:
  ``vRealizeOpsToken`` on 8.x); released by :meth:`close`. ``Accept:
  application/json`` always, or the API answers XML.
- IMPORT: ``POST {base}/api/auth/sources/{options.auth_source_id}/users``
  ``{"users": [...]}``, synchronous, 201 with the users and the ids Aria gave
  them (the vendor id; matched back by username). "When a user is being
  re-imported, make sure to populate the id field" ("Import Users Using POST"): a user with a stored
  id is re-imported with it.
- Re-import of a known user: ``GET {base}/api/auth/users?id=…&id=…`` reads the users
  as Aria holds them (one call per :data:`QUERY_BUDGET` of ids), so that each managed list
  (``roleNames``, ``role-permissions`` by ``roleName``, ``groupIds``) keeps the
  values granted in Aria outside the mapping (docs/architecture.md, "What the vendor holds
  is what the IdP says"). A stored id Aria no longer has is imported afresh.
- Idempotency: a new user is imported without an id; Aria refuses a username it
  has already (ASSUMPTION, undocumented: a 400). A user refused alone is then looked
  up (``GET {base}/api/auth/users?username=…``, one call per :data:`QUERY_BUDGET` of names; the
  parameter matches substrings, so the exact case-insensitive username is
  picked) and re-imported with its id: the worker reserved the username for the user
  before the call (:mod:`scimbridge.delivery.identity`), so the account is its. A first
  import repeated after a timeout thus ends with one Aria user. A changed username is
  the same account renamed (a re-import with its id): ``on_identity_change: move``.
- DISABLE: ``GET {base}/api/auth/users/{id}``, then ``PUT {base}/api/auth/users``
  (the documented "modify user", which cannot create a user by mistake) with that
  user overlaid with the record, as a re-import would send it, and ``enabled:
  false``: a rename that comes with the deactivation arrives, the managed lists
  are merged (roles granted in Aria stay), and a list the mapping does not manage
  group by group is sent back as Aria holds it. A profile Aria refuses is logged
  and the user disabled as Aria holds it (one more PUT). REMOVE:
  ``DELETE {base}/api/auth/users/{id}`` (204). A user without a stored id is
  looked up by username first; a 404 means Aria no longer has the user: done.
- Read-back (reconcile): one unfiltered ``GET {base}/api/auth/users`` lists every
  user (``getUsers`` documents no paging); an account is inactive once ``enabled`` is
  false. The bridge's own account and Aria's built-in ``admin`` are excluded.
- Batch size: Broadcom documents no limit on the users of one import (nor a
  ``maxItems`` on ``user-list``), so a request carries up to 10,000: a claim of new users
  is one call. Aria refuses a whole import for one bad user (ASSUMPTION, undocumented),
  so a refused batch is bisected to isolate it: about 2·log2(n) more calls for each bad
  user (docs/vendors/aria.md, "Limits").
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import replace
from operator import itemgetter
from typing import Any
from urllib.parse import quote_plus

import requests

from scimbridge.config import Target
from scimbridge.mapping.context import Action
from scimbridge.vendors.base import (
    AccountPage,
    DeliveryItem,
    Outcome,
    VendorAccount,
    VendorError,
    VendorUnavailable,
    merge_managed,
)
from scimbridge.vendors.http import (
    PAYLOAD_REJECTIONS,
    Isolated,
    TokenLoginClient,
    VendorRejected,
    compact,
    failed,
    json_object,
    nothing_to_deprovision,
    send_isolating,
    succeeded,
)
from scimbridge.vendors.plugin import VendorPlugin
from scimbridge.vendors.settings import Setting, Settings

JSON = {"Accept": "application/json"}
USERS = "/api/auth/users"
IMPORT_REJECTIONS = frozenset({*PAYLOAD_REJECTIONS, 404})
"""An import answers 404 for an ``id`` or a role Aria does not have: the payload's fault, to isolate."""
LIST_KEYS: dict[str, Callable[[Any], Any] | None] = {
    "roleNames": None,
    "role-permissions": itemgetter("roleName"),
    "groupIds": None,
}
"""How a value of each list field of the ``user`` schema is identified when lists are merged."""
WRITABLE_FIELDS = (
    "id",
    "username",
    "firstName",
    "lastName",
    "emailAddress",
    "distinguishedName",
    "enabled",
    "groupIds",
    "roleNames",
    "role-permissions",
)
"""The ``user`` fields a modify sends back (not the read-only ``links`` and ``lastLoginTime``),
which are also the fields of the import record (``records/aria.json``)."""
PERMISSION_FIELDS = ("roleName", "allowAllObjects", "scopeId")
"""The keys of a ``role-permission`` the record holds (not the deprecated
``traversal-spec-instances``)."""
QUERY_BUDGET = 6_000
"""The most characters of repeated ``id`` or ``username`` parameters one ``GET
/api/auth/users`` carries: Broadcom documents no limit, but web servers commonly refuse a
request line over 8 KB (ASSUMPTION), and 10,000 ids would take some 400 KB."""
SYSTEM_ACCOUNTS = frozenset({"admin"})
"""Aria's built-in local administrator, the one account the OpenAPI names (``admin`` with
``authSource: LOCAL`` in its examples, e.g. an action task's ``submittedBy``)."""


def query_chunks(parameter: str, values: list[str]) -> Iterator[list[str]]:
    """``values`` cut into runs whose ``parameter=value&…`` query fits :data:`QUERY_BUDGET`."""
    chunk: list[str] = []
    size = 0
    for value in values:
        length = len(parameter) + len(quote_plus(value)) + 2
        if chunk and size + length > QUERY_BUDGET:
            yield chunk
            chunk, size = [], 0
        chunk.append(value)
        size += length
    if chunk:
        yield chunk


def username(item: DeliveryItem) -> str:
    return str(item.record.get("username") or (item.previous or {}).get("username") or "")


def updating(item: DeliveryItem, current: dict[str, Any]) -> DeliveryItem:
    """The item as a re-import of the Aria user ``current``: with its id, and each managed
    list merged into the user's, so values granted in Aria outside the mapping survive."""
    record = {**item.record, "id": str(current["id"])}
    for name, managed in item.managed.items():
        record[name] = merge_managed(
            current.get(name) or [], item.record.get(name) or [], managed, key=LIST_KEYS.get(name)
        )
    return replace(item, vendor_id=str(current["id"]), record=record)


def as_new(item: DeliveryItem) -> DeliveryItem:
    """The item without the vendor id Aria no longer knows, to import the user afresh."""
    return replace(item, vendor_id=None, record={**item.record, "id": None})


def disabled(item: DeliveryItem, current: dict[str, Any]) -> dict[str, Any]:
    """The "modify user" body that disables the Aria user ``current`` and gives it the newest
    mapped profile (a rename folded into the deactivation included): Aria's user, overlaid
    with the record as a re-import sends it (:func:`updating`: Aria's id, each managed list
    merged, so roles granted in Aria stay), then ``enabled: false``. A list field the
    mapping does not manage group by group (the record last sent, laid under a deprovision
    whose user no longer maps) is kept as Aria holds it: a PUT replaces a list whole, and a
    deprovision never revokes what the bridge did not grant (docs/architecture.md, "What the
    vendor holds is what the IdP says")."""
    record = updating(item, current).record
    carried = {
        name: value
        for name, value in record.items()
        if value is not None and (name not in LIST_KEYS or name in item.managed)
    }
    return {**writable(current), **carried, "enabled": False}


def writable(user: dict[str, Any]) -> dict[str, Any]:
    """The user as Aria holds it, in the fields "modify user" takes back."""
    return {name: user[name] for name in WRITABLE_FIELDS if name in user}


def as_account(user: dict[str, Any]) -> VendorAccount:
    """The Aria user in the record's shape: every record field, since the ``user`` schema
    shows them all; one Aria leaves out is empty (None, or [] for a list, which "may be
    null"); a role permission keeps the record's keys. Inactive once ``enabled`` is false,
    as DISABLE leaves it."""
    record: dict[str, Any] = {name: user.get(name) for name in WRITABLE_FIELDS}
    record["id"] = str(user["id"])
    record["groupIds"] = [str(value) for value in user.get("groupIds") or []]
    record["roleNames"] = [str(value) for value in user.get("roleNames") or []]
    record["role-permissions"] = [
        {key: permission[key] for key in PERMISSION_FIELDS if key in permission}
        for permission in user.get("role-permissions") or []
        if isinstance(permission, dict)
    ]
    return VendorAccount(record["id"], record, active=user.get("enabled") is not False)


class AriaClient(TokenLoginClient):
    vendor = "aria"
    max_batch = 10_000
    """No limit documented; a bound on one request's size (module docstring)."""
    read_back = "list"
    rate_limits = ()
    """None documented (the vRealize Operations API 8.10 "Getting Started": a 429 "Rate Limit Exceeded", no numbers);
    a 429 is retried after its ``Retry-After`` like any unavailability."""
    default_token_scheme = "OpsToken"
    account_keys = frozenset({"username"})
    renames_accounts = True
    """A re-import with the user's ``id`` replaces its fields, ``username`` included."""

    settings = TokenLoginClient.settings + Settings(
        credentials=(
            Setting("username", "The account that acquires a token.", required=True),
            Setting("password", "Its password.", required=True, secret=True),
            Setting("auth_source", "The authentication source of that account (authSource)."),
        ),
        options=(
            Setting(
                "auth_source_id",
                "The authentication source users are imported from.",
                required=True,
            ),
        ),
    )

    def __init__(self, target: Target, http: requests.Session | None = None):
        super().__init__(target, http)
        self.auth_source_id = str(target.options["auth_source_id"])

    def login(self) -> str:
        credentials = {
            "username": self.target.secret("username"),
            "password": self.target.secret("password"),
            "authSource": self.target.secret("auth_source"),
        }
        answer = json_object(
            self.login_call(
                "POST", "/api/auth/token/acquire", json=compact(credentials), headers=JSON
            )
        )
        return str(answer.get("token") or "")

    def auth_headers(self) -> dict[str, str]:
        return {**super().auth_headers(), **JSON}

    def close(self) -> None:
        """Release the token (``POST /api/auth/token/release``) so it does not linger 6 h."""
        if self.token:
            with suppress(VendorError):  # the token expires by itself; closing must not fail
                self.call(
                    "POST", "/api/auth/token/release", public=True, headers=self.auth_headers()
                )
            self.token = None
        super().close()

    # -- delivery --------------------------------------------------------------------------------

    def deliver_batch(self, items: list[DeliveryItem]) -> list[Outcome]:
        outcomes, to_import = self.settle_or_defer(items, self.deprovision)
        outcomes.update(self.import_users(to_import))
        return [outcomes[item.key] for item in items]

    @staticmethod
    def user(item: DeliveryItem) -> dict[str, Any]:
        """The record as Aria takes it: with the stored id on a re-import, without any id before."""
        return compact({**item.record, "id": item.record.get("id") or item.vendor_id})

    def listed(self, params: list[tuple[str, str]]) -> list[dict[str, Any]]:
        """The users ``GET /api/auth/users`` answers for ``params`` (OpenAPI ``getUsers``):
        every user when there are none."""
        answer = json_object(self.call("GET", USERS, params=params))
        return [user for user in answer.get("users") or [] if isinstance(user, dict)]

    def users_where(self, parameter: str, values: list[str]) -> list[dict[str, Any]]:
        """``GET /api/auth/users`` filtered by a repeated ``id`` or ``username`` parameter,
        as many calls as :data:`QUERY_BUDGET` needs. Never sent without values: the
        unfiltered call lists every user."""
        return [
            user
            for chunk in query_chunks(parameter, values)
            for user in self.listed([(parameter, value) for value in chunk])
        ]

    def users_named(self, names: list[str]) -> dict[str, dict[str, Any]]:
        """The users of these usernames, by lower-case username: ``username`` matches
        substrings (OpenAPI ``getUsers``), so only exact case-insensitive matches count."""
        wanted = {name.lower() for name in names}
        return {
            str(user.get("username", "")).lower(): user
            for user in self.users_where("username", sorted(wanted))
            if str(user.get("username", "")).lower() in wanted
        }

    def import_users(self, items: list[DeliveryItem]) -> dict[str, Outcome]:
        """Import the users: the known ones as re-imports of the users Aria holds (a user Aria
        no longer has is imported afresh), then adopt the new ones Aria refused as existing."""
        if not items:
            return {}
        current = {
            str(user.get("id")): user
            for user in self.users_where("id", [i.vendor_id for i in items if i.vendor_id])
        }
        prepared = [
            updating(item, current[item.vendor_id]) if item.vendor_id in current else as_new(item)
            for item in items
        ]
        sent = send_isolating(prepared, self.post_import, IMPORT_REJECTIONS)
        new = [(item, rejection) for item, rejection in sent.rejected if not item.vendor_id]
        known = [(item, rejection) for item, rejection in sent.rejected if item.vendor_id]
        outcomes = self.settled(Isolated(sent.accepted, known))
        outcomes.update(self.adopt(new))
        return outcomes

    def adopt(self, refused: list[tuple[DeliveryItem, VendorRejected]]) -> dict[str, Outcome]:
        """Each new user Aria refused alone: when Aria has a user of that name (a first import
        repeated after a timeout or a crash; the name is the user's, reserved for it), it is
        re-imported with its id; otherwise the refusal stands."""
        found = self.users_named([username(item) for item, _ in refused])
        outcomes: dict[str, Outcome] = {}
        adopted: list[DeliveryItem] = []
        for item, rejection in refused:
            user = found.get(username(item).lower())
            if user is None:
                outcomes[item.key] = failed(item, str(rejection))
            else:
                adopted.append(updating(item, user))
        if adopted:
            outcomes.update(self.settled(send_isolating(adopted, self.post_import)))
        return outcomes

    def settled(self, sent: Isolated[DeliveryItem, list[Any]]) -> dict[str, Outcome]:
        """The outcomes of what was sent: a refusal fails its item, for good."""
        outcomes = {item.key: failed(item, str(rejection)) for item, rejection in sent.rejected}
        for batch, imported in sent.accepted:
            outcomes.update(self.matched(batch, imported))
        return outcomes

    @staticmethod
    def matched(items: list[DeliveryItem], imported: list[Any]) -> dict[str, Outcome]:
        """Each item's outcome, its id read from the 201 user-list by username."""
        ids = {
            str(user.get("username", "")).lower(): user.get("id")
            for user in imported
            if isinstance(user, dict)
        }
        outcomes = {}
        for item in items:
            vendor_id = ids.get(username(item).lower())
            outcomes[item.key] = (
                succeeded(item, str(vendor_id))
                if vendor_id
                else failed(item, "aria: the import answer does not list this user")
            )
        return outcomes

    def post_import(self, items: list[DeliveryItem]) -> list[Any]:
        answer = json_object(
            self.call(
                "POST",
                f"/api/auth/sources/{self.auth_source_id}/users",
                json={"users": [self.user(item) for item in items]},
                expect=(200, 201),
            )
        )
        users = answer.get("users")
        if not isinstance(users, list):
            raise VendorUnavailable("aria: the import answer holds no user list")
        return users

    # -- deprovisioning --------------------------------------------------------------------------

    def deprovision(self, item: DeliveryItem) -> Outcome | None:
        """Disable or remove the user; None for an IMPORT, which goes to the batch import.

        Without a stored id the user is looked up by username: an account another user of
        the bridge holds is not this user's, and only Aria's "no such user" means there is
        nothing to deprovision.
        """
        if item.action is Action.IMPORT:
            return None
        vendor_id = item.vendor_id or self.own_account(item)
        if vendor_id is None:
            return nothing_to_deprovision(item)
        if item.action is Action.DISABLE:
            self.disable(item, vendor_id)
        else:
            self.call_unless_gone("DELETE", f"{USERS}/{vendor_id}", expect=(200, 204))
        return succeeded(item, vendor_id)

    def own_account(self, item: DeliveryItem) -> str | None:
        """The id of the Aria user of the item's username (reserved for the user), if any."""
        user = self.users_named([username(item)]).get(username(item).lower())
        return str(user["id"]) if user is not None else None

    def disable(self, item: DeliveryItem, vendor_id: str) -> None:
        """PUT the user as Aria holds it, with the item's profile and ``enabled: false``
        (:func:`disabled`), or without the profile where Aria refuses it (a role it does not
        have is a 404, like a missing user); a user Aria no longer has (404) is as disabled
        as it gets."""
        current = self.call_unless_gone("GET", f"{USERS}/{vendor_id}")
        if current is not None:
            user = json_object(current)
            bare = {**writable(user), "enabled": False}
            self.deprovision_carrying("PUT", USERS, disabled(item, user), bare)

    # -- reading back ----------------------------------------------------------------------------

    def accounts(self, cursor: str | None = None) -> AccountPage:
        """Every Aria user, from one unfiltered ``GET /api/auth/users``: ``getUsers`` takes no
        paging parameter and its ``user-list`` carries no ``pageInfo`` (OpenAPI 9.1.0.0), so
        the one answer is the whole listing and no cursor is ever handed out."""
        users = self.listed([])
        return AccountPage([as_account(user) for user in users], next_cursor=None, total=len(users))

    def excluded(self, account: VendorAccount) -> str | None:
        """The bridge's own account (``credentials.username``) and Aria's built-in ``admin``
        (:data:`SYSTEM_ACCOUNTS`), by username as Aria compares it."""
        name = self.account_key("username", str(account.record.get("username") or ""))
        service = self.target.secret("username")
        if service and name == self.account_key("username", service):
            return "the bridge's own service account (credentials.username)"
        if name in SYSTEM_ACCOUNTS:
            return f"Aria's built-in {name} account"
        return None


PLUGIN = VendorPlugin.packaged(
    __package__,
    "aria",
    "VMware Aria Operations",
    AriaClient,
    emulator="scimbridge_emulators.aria:AriaEmulator",
    documentation="docs/vendors/aria.md",
)
"""Registered in pyproject.toml under ``scimbridge.vendors`` (:mod:`scimbridge.vendors.plugin`)."""
