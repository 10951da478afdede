"""Rocket.Chat (6.3+): the bulk user import and the user calls around it.

Contract: Rocket.Chat's Bulk User Import API reference (developer.rocket.chat: "Create New
Import Operation", "Add Users", "Run Import Operation", "Get Import Operation Status",
"Abort Import Operation") and Rocket.Chat's source (``RocketChat/Rocket.Chat``: ``import.ts``, ``services/import/service.ts``,
``ImportAddUsersParamsPOST.ts``, ``UserConverter.ts``, ``ApiClass.ts``).

- Every call sends ``X-User-Id`` and ``X-Auth-Token`` (a personal access token);
  otherwise 401 ``{"success": false, "error": "You must be logged in to do this.", …}``.
- One import operation per workspace: ``import.new`` (aborts any other) →
  ``import.addUsers`` (state new or ready; becomes ready) → ``import.run`` (state
  ready; returns at once, state importing) → ``import.status`` until ``done``.
  ``import.clear`` aborts.
- ``addUsers`` fails as a whole, nobody staged, when one user lacks an email or
  an import id or carries an unknown role.
- The run never updates an existing user: a taken email or user name is a
  per-user error (``count.error``) and the record stays staged; only imported
  users leave staging. ``deleted: true`` creates the user deactivated.
- ``users.info?importId=``, ``users.update``, ``users.setActiveStatus``,
  ``users.delete`` act on existing users.
- ``users.list`` (``v1/users.ts``, ``lib/users.ts``, ``helpers/getPaginationItems.ts``,
  ``helpers/parseJsonQuery.ts``) pages every user with a user name, name or email, by user
  name: ``count`` defaults to ``API_Default_Count`` (50), is capped at
  ``API_Upper_Count_Limit`` (100), and 0 means everyone while ``API_Allow_Infinite_Count``
  is on (its default; ``allow_infinite_count=False`` plays a deployment that turned it off,
  where 0 means ``API_Default_Count``); ``offset`` skips. Each user shows ``_id`` and, where set, the default
  fields ``name``, ``username``, ``emails`` (the caller holds
  ``view-full-other-user-info``), ``roles``, ``status``, ``active``, ``avatarETag``,
  ``lastLogin``, ``type``, plus ``nameInsensitive`` (the pipeline's ``$toLower`` of the
  name); **never** ``importIds`` (``defaultFieldsToExclude``). The answer is
  ``{users, count, offset, total, success}``. The deprecated ``fields`` and ``query``
  parameters and ``sort`` are not emulated: a request naming them is refused, so no
  client comes to rely on them here.
- Every authenticated route (``import.*``, ``users.*``) is rate limited per route
  (path and method) and client IP: ``rate_limit_calls`` (10,
  ``API_Enable_Rate_Limiter_Limit_Calls_Default``) per ``rate_limit_seconds`` (60,
  ``…_Time_Default`` 60000 ms). Every counted call's answer carries
  ``X-RateLimit-Limit``, ``X-RateLimit-Remaining`` and ``X-RateLimit-Reset`` (epoch
  ms when the window frees); over the limit it is 429 ``{"success": false, "error":
  "Error, too many requests. Please slow down. You must wait N seconds before
  trying this endpoint again. [error-too-many-requests]"}``, no ``Retry-After``.

How the limiter counts, from the source (``ApiClass.ts`` ``enforceRateLimit`` @
019378e3, Meteor ``packages/rate-limit/rate-limit.js``): the call is counted
(``increment``) *before* it is checked, so a refused call counts too; a rule's
counters start over when a call comes after its interval ended (a fixed window,
not a rolling one), and the call is refused when its count exceeds the limit
(the 11th of 10). The check comes after authentication: a 401 is not counted.
Meteor's first window opens when the route is registered (server start); the
emulator opens it at the first call, the less convenient reading (a full
window to wait). Nobody is exempt unless ``bypass_rate_limit`` stands for the
``api-bypass-rate-limit`` permission.

Admin controls (:meth:`RocketChatEmulator.admin_change`, :meth:`RocketChatEmulator.create_account`)
play Administration > Users: an admin renames a user, changes its email, roles or active
status, or adds a user, who then has no import id. Rocket.Chat refuses a taken user name
or email and an unknown role there as ``users.update`` does. ``workspace_users=True``
seeds what every real workspace lists besides its people: ``rocket.cat``
(``server/startup/initialData.ts``) and the token's own user, an admin.

Assumptions: the run reports ``importing`` for :attr:`async_polls` status polls,
then ``done``; the users are created when ``import.run`` is called. A user
without ``username`` gets the local part of its first email.
"""

from __future__ import annotations

import math
import secrets
import string as characters
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar, cast

from flask import Flask, Response, jsonify, request

from scimbridge_emulators.base import Bucket, Rejection, VendorEmulator
from scimbridge_emulators.state import Quota, QuotaCheck, TokenStatus, same_secret
from scimbridge_emulators.validation import BOOLEAN, STRINGS, string, violations

ROLES = frozenset(
    {"admin", "user", "bot", "app", "guest", "anonymous",
     "livechat-agent", "livechat-manager", "livechat-monitor"}
)  # fmt: skip
"""Rocket.Chat's global built-in roles."""
DEFAULT_ROLES = ("user",)

STATES = {
    "importer_new": "new",
    "importer_user_selection": "ready",
    "importer_importing_users": "importing",
    "importer_done": "done",
    "importer_import_failed": "error",
    "importer_import_cancelled": "canceled",
}
"""``import.status`` state by operation status (service.ts)."""

IMPORT_USER = {
    "type": "object",
    "required": ["emails", "importIds"],
    "properties": {
        "emails": STRINGS,
        "importIds": STRINGS,
        "username": string(),
        "name": string(),
        "utcOffset": {"type": "number"},
        "avatarUrl": string(),
        "deleted": BOOLEAN,
        "statusText": string(),
        "roles": STRINGS,
        "type": {"enum": ["user", "bot"]},
        "bio": string(),
        "password": string(),
    },
}
ADD_USERS = {
    "type": "object",
    "required": ["users"],
    "additionalProperties": False,
    "properties": {"users": {"type": "array", "items": IMPORT_USER}},
}
USER_UPDATE = {
    "type": "object",
    "required": ["userId", "data"],
    "properties": {
        "userId": string(minLength=1),
        "data": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "email": string(),
                "name": string(),
                "password": string(),
                "username": string(minLength=1),
                "active": BOOLEAN,
                "roles": STRINGS,
                "bio": string(),
                "nickname": string(),
                "statusText": string(),
                "joinDefaultChannels": BOOLEAN,
                "requirePasswordChange": BOOLEAN,
                "setRandomPassword": BOOLEAN,
                "sendWelcomeEmail": BOOLEAN,
                "verified": BOOLEAN,
                "customFields": {"type": "object"},
                "status": string(),
            },
        },
    },
}
SET_ACTIVE_STATUS = {
    "type": "object",
    "required": ["userId", "activeStatus"],
    "properties": {
        "userId": string(minLength=1),
        "activeStatus": BOOLEAN,
        "confirmRelinquish": BOOLEAN,
    },
}
USER_ID = {"type": "object", "required": ["userId"], "properties": {"userId": string(minLength=1)}}
PROFILE_FIELDS = ("name", "bio", "nickname", "statusText", "active", "roles", "username")
LISTED_FIELDS = (
    "_id", "name", "username", "emails", "roles", "status", "active", "avatarETag", "lastLogin",
    "type",
)  # fmt: skip
"""What ``users.list`` shows of a user (``getNonEmptyFields``' defaults and the ``_id``)."""
DEFAULT_COUNT = 50
UPPER_COUNT_LIMIT = 100
"""``API_Default_Count`` and ``API_Upper_Count_Limit``, the settings' defaults (general.ts)."""
UNEMULATED_LIST_PARAMETERS = ("fields", "query", "sort")
ADMIN_FIELDS = frozenset({"username", "name", "emails", "active", "roles", "type"})
"""What an admin sets on a user (Administration > Users); ``_id``, ``importIds`` and
``createdAt`` are Rocket.Chat's own."""
USER_TYPES = frozenset({"user", "bot", "app"})
ROCKET_CAT = {
    "_id": "rocket.cat",
    "username": "rocket.cat",
    "name": "Rocket.Cat",
    "active": True,
    "roles": ["bot"],
    "type": "bot",
}
"""The bot ``initialData.ts`` creates at a workspace's first start: no email, no import id."""


def meteor_id() -> str:
    """A 17-character id like Meteor's ``Random.id()``."""
    alphabet = characters.ascii_letters + characters.digits
    return "".join(secrets.choice(alphabet) for _ in range(17))


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def int_parameter(name: str, default: int) -> int:
    """A paging parameter as ``getPaginationItems`` reads it (``parseInt``; absent: the
    default). What Rocket.Chat would hand MongoDB as a negative or NaN ``$skip`` or
    ``$limit`` fails there; here it is refused."""
    raw = request.args.get(name) or ""
    if not raw:
        return default
    if not raw.isdigit():
        raise Rejection(400, f"{name} must be a whole number")
    return int(raw)


def addresses(account: dict[str, Any]) -> set[str]:
    """The account's email addresses, lower case (``rocket.cat`` has none)."""
    return {str(email["address"]).lower() for email in account.get("emails", [])}


def first_non_empty(values: list[str]) -> str | None:
    return next((value for value in values if value), None)


@dataclass
class Taken:
    """The user names and emails the workspace's users hold, lower case, kept while a run
    inserts users (what :meth:`RocketChatEmulator.taken` says, indexed for a large run)."""

    usernames: set[str]
    emails: set[str]

    @classmethod
    def of(cls, accounts: Iterable[dict[str, Any]]) -> Taken:
        taken = cls(set(), set())
        for account in accounts:
            taken.add(account)
        return taken

    def add(self, account: dict[str, Any]) -> None:
        if account.get("username"):
            self.usernames.add(str(account["username"]).lower())
        self.emails |= addresses(account)

    def holds(self, email: str, username: str) -> bool:
        return username.lower() in self.usernames or email.lower() in self.emails


@dataclass
class ImportOperation:
    """The workspace's one import operation (``IImport``)."""

    owner: str
    polls_left: int
    status: str = "importer_new"
    staged: list[dict[str, Any]] = field(default_factory=list)
    total: int = 0
    completed: int = 0
    errors: int = 0
    id: str = field(default_factory=meteor_id)
    ts: str = field(default_factory=now_iso)

    @property
    def state(self) -> str:
        return STATES[self.status]

    def public(self) -> dict[str, Any]:
        return {
            "_id": self.id,
            "type": "api",
            "importerKey": "api",
            "ts": self.ts,
            "status": self.status,
            "valid": True,
            "user": self.owner,
            "_updatedAt": now_iso(),
            "count": self.count(),
        }

    def count(self) -> dict[str, int]:
        """Progress is written when the run ends, so a running import still shows zeros."""
        running = self.state == "importing"
        return {
            "total": self.total,
            "users": self.total,
            "completed": 0 if running else self.completed,
            "error": 0 if running else self.errors,
        }


class RocketChatEmulator(VendorEmulator):
    vendor = "rocketchat"
    demo_port = 9104
    token_ttl_seconds = 90 * 24 * 3600
    """A login token's life (``Accounts_LoginExpiration``); a PAT's is until revoked."""
    unsupported_media_status = 400
    demo_credentials: ClassVar[dict[str, str]] = {
        "user_id": "rcDemoAdmin000001",
        "auth_token": "rocketchat-demo-personal-access-token",
    }
    rate_limit_options = ("rate_limit_calls", "rate_limit_seconds")

    def __init__(
        self,
        credentials: dict[str, str] | None = None,
        *,
        rate_limit_calls: int = 10,
        rate_limit_seconds: float = 60.0,
        bypass_rate_limit: bool = False,
        workspace_users: bool = False,
        allow_infinite_count: bool = True,
        **options: Any,
    ):
        """:param rate_limit_calls: calls allowed per route and client in a window.
        :param rate_limit_seconds: the window; tests scale it down, nothing switches it off.
        :param bypass_rate_limit: the account holds ``api-bypass-rate-limit``.
        :param workspace_users: hold ``rocket.cat`` and the token's own user, as every real
            workspace does; off by default, so that tests counting users count theirs.
        :param allow_infinite_count: ``API_Allow_Infinite_Count``, on by default as in
            Rocket.Chat: ``users.list?count=0`` lists everyone; off, it lists
            ``API_Default_Count`` users (``getPaginationItems.ts``)."""
        self.quota = Quota(rate_limit_calls, rate_limit_seconds)
        self.allow_infinite_count = allow_infinite_count
        self.bypass_rate_limit = bypass_rate_limit
        self.workspace_users = workspace_users
        super().__init__(credentials, **options)

    def reset_state(self) -> None:
        self.accounts: dict[str, dict[str, Any]] = {}
        """Users by ``_id``."""
        self.operation: ImportOperation | None = None
        self.tokens.issue(value=self.credentials["auth_token"])
        if self.workspace_users:
            self.seed_workspace_users()

    def seed_workspace_users(self) -> None:
        """``rocket.cat`` and the token's owner, the admin the setup wizard created."""
        owner = self.credentials["user_id"]
        self.accounts = {
            "rocket.cat": {**ROCKET_CAT, "createdAt": now_iso()},
            owner: {
                "_id": owner,
                "username": "bridge.admin",
                "emails": [{"address": "bridge.admin@example.com", "verified": True}],
                "name": "Bridge Admin",
                "active": True,
                "roles": ["admin", "user"],
                "type": "user",
                "createdAt": now_iso(),
            },
        }

    def end_state(self) -> list[dict[str, Any]]:
        return list(self.accounts.values())

    def register_routes(self, app: Flask) -> None:
        self.route(app, "/api/v1/import.new", self.new_operation, ["POST"])
        self.route(app, "/api/v1/import.addUsers", self.add_users, ["POST"])
        self.route(app, "/api/v1/import.run", self.run_operation, ["POST"])
        self.route(app, "/api/v1/import.status", self.operation_status, ["GET"])
        self.route(app, "/api/v1/import.clear", self.clear_operation, ["POST"])
        self.route(app, "/api/v1/users.info", self.user_info, ["GET"])
        self.route(app, "/api/v1/users.list", self.list_users, ["GET"])
        self.route(app, "/api/v1/users.update", self.update_user, ["POST"])
        self.route(app, "/api/v1/users.setActiveStatus", self.set_active_status, ["POST"])
        self.route(app, "/api/v1/users.delete", self.delete_user, ["POST"])

    # -- authentication --------------------------------------------------------------------------

    def error_body(self, status: int, message: str, extra: dict[str, Any]) -> Any:
        if status == 401:
            text = "You must be logged in to do this."
            return {"success": False, "error": text, "status": "error", "message": text}
        return {"success": False, "error": message, **extra}

    def rate_limit_bucket(self) -> Bucket | None:
        """One count per route (path and method) and client IP, as ``ApiClass.ts`` keys it."""
        if self.bypass_rate_limit:
            return None
        rule = request.url_rule.rule if request.url_rule else request.path
        return Bucket(f"{request.remote_addr} {request.method} {rule}", self.quota)

    def quota_headers(self, check: QuotaCheck) -> dict[str, str]:
        """Sent on every counted call, allowed or not; never ``Retry-After``."""
        return {
            "X-RateLimit-Limit": str(check.limit),
            "X-RateLimit-Remaining": str(check.remaining),
            "X-RateLimit-Reset": str(math.ceil((time.time() + check.wait_seconds) * 1000)),
        }

    def rate_limit_headers(self, retry_after: float | None) -> dict[str, str]:
        """An injected 429 looks like the limiter's; without ``retry_after``, a full window."""
        wait = retry_after if retry_after is not None else self.quota.seconds
        return self.quota_headers(QuotaCheck(False, self.quota.calls, 0, wait))

    def too_many_requests(self, wait_seconds: float | None) -> str:
        wait = wait_seconds if wait_seconds is not None else self.quota.seconds
        return (
            "Error, too many requests. Please slow down. You must wait "
            f"{math.ceil(wait)} seconds before trying this endpoint again. "
            "[error-too-many-requests]"
        )

    def authenticate(self) -> None:
        status, _ = self.tokens.check(request.headers.get("X-Auth-Token"))
        if status is not TokenStatus.VALID or not same_secret(
            request.headers.get("X-User-Id"), self.credentials["user_id"]
        ):
            raise Rejection(401, "unauthorized")

    def validated(self, schema: dict[str, Any]) -> dict[str, Any]:
        document = self.json_body()
        problems = violations(schema, document)
        if problems:
            raise Rejection(400, f"{problems[0]} [invalid-params]", {"errorType": "invalid-params"})
        return cast(dict[str, Any], document)  # valid against an object schema

    # -- the import operation --------------------------------------------------------------------

    def current_operation(self) -> ImportOperation:
        if self.operation is None:
            raise Rejection(400, "Import operation not initialized.")
        return self.operation

    def new_operation(self) -> Response:
        self.operation = ImportOperation(self.credentials["user_id"], polls_left=self.async_polls)
        return jsonify({"operation": self.operation.public(), "success": True})

    def add_users(self) -> Response:
        users = self.validated(ADD_USERS)["users"]
        operation = self.current_operation()
        if operation.state == "importing":
            raise Rejection(400, "The current import operation can not receive new data.")
        if operation.state not in ("new", "ready"):
            raise Rejection(400, "The current import operation is already finished.")
        if not all(first_non_empty(u["emails"]) and first_non_empty(u["importIds"]) for u in users):
            raise Rejection(400, "Users are missing required data.")
        if not all(set(user.get("roles", [])) <= ROLES for user in users):
            raise Rejection(400, "One or more of the users have been assigned invalid roles.")
        operation.total += len(users)
        operation.staged += [
            {**user, "roles": sorted(set(user.get("roles", [])) | set(DEFAULT_ROLES))}
            for user in users
        ]
        operation.status = "importer_user_selection"
        return jsonify({"success": True})

    def run_operation(self) -> Response:
        if self.operation is None:
            raise Rejection(400, "error-operation-not-found")
        operation = self.operation
        if operation.state != "ready":
            raise Rejection(400, "error-invalid-operation-status")
        taken = Taken.of(self.accounts.values())
        failed = [user for user in operation.staged if not self.import_user(user, taken)]
        operation.completed = len(operation.staged)
        operation.errors = len(failed)
        operation.staged = failed
        operation.status = "importer_importing_users"
        return jsonify({"success": True})

    def import_user(self, user: dict[str, Any], taken: Taken) -> bool:
        """Insert an imported user; False (a flagged record) when its email or name is taken."""
        email = first_non_empty(user["emails"]) or ""
        username = user.get("username") or email.split("@")[0]
        if self.is_rejected(email, username) or taken.holds(email, username):
            return False
        account_id = meteor_id()
        self.accounts[account_id] = {
            "_id": account_id,
            "username": username,
            "emails": [
                {"address": address, "verified": False} for address in user["emails"] if address
            ],
            "name": user.get("name", username),
            "active": not user.get("deleted", False),
            "roles": user["roles"],
            "importIds": [import_id for import_id in user["importIds"] if import_id],
            "type": user.get("type", "user"),
            "createdAt": now_iso(),
        }
        taken.add(self.accounts[account_id])
        return True

    def taken(self, email: str | None, username: str | None, except_id: str | None = None) -> bool:
        for account in self.accounts.values():
            if account["_id"] == except_id:
                continue
            if username and str(account.get("username") or "").lower() == username.lower():
                return True
            if email and email.lower() in addresses(account):
                return True
        return False

    # -- the admin -------------------------------------------------------------------------------

    def stored_account(self, name: str) -> dict[str, Any] | None:
        """The user whose user name or an email is ``name``; the stored form is end_state's."""
        wanted = name.lower()
        return next(
            (
                account
                for account in self.accounts.values()
                if str(account.get("username") or "").lower() == wanted
                or wanted in addresses(account)
            ),
            None,
        )

    def admin_change(self, name: str, changes: dict[str, Any]) -> dict[str, Any]:
        """As Administration > Users saves it: refused (ValueError) for a field the admin
        cannot set, a taken user name or email, or an unknown role."""
        with self.lock:
            account = self.stored_account(name)
            if account is not None:
                self.check_admin_fields(changes, except_id=account["_id"])
            return super().admin_change(name, changes)

    def create_account(self, fields: dict[str, Any]) -> dict[str, Any]:
        """A user added in Administration > Users, whose form requires a name, a user name
        and an email: active, with the default roles and type ``user`` unless ``fields`` say
        otherwise, and no import id (only the import gives one)."""
        self.check_admin_fields(fields, except_id=None)
        if not (fields.get("name") and fields.get("username") and fields.get("emails")):
            raise ValueError("Rocket.Chat's admin needs a name, a user name and an email")
        account_id = meteor_id()
        self.accounts[account_id] = {
            "_id": account_id,
            "active": True,
            "roles": list(DEFAULT_ROLES),
            "type": "user",
            **fields,
            "createdAt": now_iso(),
        }
        return self.accounts[account_id]

    def check_admin_fields(self, fields: dict[str, Any], except_id: str | None) -> None:
        """:raises ValueError: what Rocket.Chat's admin would refuse."""
        unknown = set(fields) - ADMIN_FIELDS
        if unknown:
            raise ValueError(f"Rocket.Chat's admin does not set {sorted(unknown)[0]}")
        emails = fields.get("emails", [])
        if not isinstance(emails, list) or not all(
            isinstance(email, dict) and email.get("address") for email in emails
        ):
            raise ValueError('emails are [{"address": …, "verified": …}], as users.list shows them')
        for email in emails:
            if self.taken(email["address"], None, except_id):
                raise ValueError(f"the email {email['address']} is already in use")
        if self.taken(None, fields.get("username"), except_id):
            raise ValueError(f"the user name {fields['username']} is already in use")
        if not set(fields.get("roles", [])) <= ROLES:
            raise ValueError("Invalid role")
        if fields.get("type", "user") not in USER_TYPES:
            raise ValueError(f"a user's type is one of {sorted(USER_TYPES)}")

    def operation_status(self) -> Response:
        operation = self.operation
        if operation is None:
            return jsonify({"state": "none", "success": True})
        if operation.state == "importing":
            if operation.polls_left > 0:
                operation.polls_left -= 1
            else:
                operation.status = "importer_done"
        return jsonify({"state": operation.state, "operation": operation.public(), "success": True})

    def clear_operation(self) -> Response:
        if self.operation is not None:
            self.operation.staged.clear()
            self.operation.status = "importer_import_cancelled"
        return jsonify({"success": True})

    # -- existing users --------------------------------------------------------------------------

    def account(self, user_id: str) -> dict[str, Any]:
        found = self.accounts.get(user_id)
        if found is None:
            raise Rejection(
                400,
                'The required "userId" or "username" param provided does not match any users [error-invalid-user]',
                {"errorType": "error-invalid-user"},
            )
        return found

    def user_info(self) -> Response:
        lookups: dict[str, Callable[[str, dict[str, Any]], bool]] = {
            "userId": lambda value, account: account["_id"] == value,
            "username": lambda value, account: account.get("username") == value,
            "importId": lambda value, account: value in account.get("importIds", []),
        }
        given = [(name, request.args[name]) for name in lookups if request.args.get(name)]
        if len(given) != 1:
            raise Rejection(
                400,
                'The required "userId" or "username" param was not provided [error-user-param-not-provided]',
                {"errorType": "error-user-param-not-provided"},
            )
        name, value = given[0]
        found = next((a for a in self.accounts.values() if lookups[name](value, a)), None)
        if found is None:
            raise Rejection(400, "User not found.")
        return jsonify({"user": found, "success": True})

    def list_users(self) -> Response:
        """A page of every user by user name, as an admin sees it (never the import ids)."""
        unemulated = [name for name in UNEMULATED_LIST_PARAMETERS if name in request.args]
        if unemulated:
            raise Rejection(400, f"the emulator does not play users.list's {unemulated[0]}")
        offset = int_parameter("offset", 0)
        count = int_parameter("count", DEFAULT_COUNT)
        if count == 0 and not self.allow_infinite_count:
            count = DEFAULT_COUNT
        listed = sorted(
            (
                account
                for account in self.accounts.values()
                if account.get("username") or account.get("name") or account.get("emails")
            ),
            key=lambda account: account.get("username") or "",
        )
        page = (
            listed[offset:]
            if count == 0
            else listed[offset : offset + min(count, UPPER_COUNT_LIMIT)]
        )
        users = [
            {
                **{name: account[name] for name in LISTED_FIELDS if name in account},
                "nameInsensitive": str(account.get("name") or "").lower(),
            }
            for account in page
        ]
        return jsonify(
            {
                "users": users,
                "count": len(users),
                "offset": offset,
                "total": len(listed),
                "success": True,
            }
        )

    def update_user(self) -> Response:
        body = self.validated(USER_UPDATE)
        account, data = self.account(body["userId"]), body["data"]
        if self.taken(data.get("email"), data.get("username"), except_id=account["_id"]):
            raise Rejection(
                400,
                "The email or username is already in use [error-field-unavailable]",
                {"errorType": "error-field-unavailable"},
            )
        if not set(data.get("roles", [])) <= ROLES:
            raise Rejection(
                400, "Invalid role [error-invalid-role]", {"errorType": "error-invalid-role"}
            )
        if "email" in data:
            account["emails"] = [
                {"address": data["email"], "verified": data.get("verified", False)}
            ]
        account.update({name: data[name] for name in PROFILE_FIELDS if name in data})
        return jsonify({"user": account, "success": True})

    def set_active_status(self) -> Response:
        body = self.validated(SET_ACTIVE_STATUS)
        account = self.account(body["userId"])
        account["active"] = body["activeStatus"]
        return jsonify(
            {"user": {"_id": account["_id"], "active": account["active"]}, "success": True}
        )

    def delete_user(self) -> Response:
        del self.accounts[self.account(self.validated(USER_ID)["userId"])["_id"]]
        return jsonify({"success": True})
