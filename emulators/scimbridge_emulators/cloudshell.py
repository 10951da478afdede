"""Quali CloudShell: the Admin REST API's import of external (AD/LDAP) users.

Contract: Quali's "Import external users" reference (http://help.quali.com/api-guide/cs-admin-rest-api/import-external-users)
and the other CloudShell Admin REST API pages (QualiSystems/cloudshell-help ``cs-admin-rest-api``, the official
``cloudshell-rest-api`` client).

- ``PUT /Api/Auth/Login`` ``{"Username", "Password", "Domain"}`` (or the same keys
  lower-case, form-encoded, as the Python client sends them) → the token as a
  quoted JSON string; 401 on a failed login. The path is case-insensitive on
  the real server; the emulator serves the documented and the lower-case spelling.
- Calls send ``Authorization: Basic <token>`` (``Bearer`` also accepted: one doc
  page says so); a token lives 5 h.
- ``POST /api/v1/integrations/IdentityManagement/users`` ``{"UserName"}`` or
  ``{"GroupName"}`` plus ``AllowUpdate`` → 200 ``{"Users": [...], "Errors": [...]}``:
  users not in the directory, and existing users without ``AllowUpdate: true``,
  are ``Errors`` entries, never ``Users``.
- ``GET /api/v1/users`` pages with ``paginationProperties.limit`` (at most 250,
  default 50), ``.cursor``, ``.filter`` (a substring match) and ``.sort-by`` /
  ``.sort-order`` → ``{"Users": [...], "Cursor": <next cursor or null>}``.
- ``GET /api/v1/users/{id}``, ``PUT /api/v1/users/{id}`` (full user, 200 without
  a body; ``Username`` cannot change; an unknown id is 404),
  ``DELETE /api/v1/users/{id}`` (200).

Assumptions (not documented by Quali): errors are ASP.NET Web API's
``{"Message": "..."}``, and so are ``Errors[]`` items; an unknown or expired token
is a 401; re-importing with ``AllowUpdate`` refreshes the directory details
(``Email``) and leaves ``IsActive`` alone: re-activation is a ``PUT``. The
directory is configurable (``directory``: user name → ``{"Email": ...}``,
``groups``: group → user names) and by default holds any user name.

Readings where the documents are silent, each the less convenient for a client:

- Importing an existing user without ``AllowUpdate: true`` is an ``Errors[]``
  item (``User 'x' already exists.``), never a ``Users`` entry: a client cannot
  read the existing user's ``Id`` from the import answer.
- ``paginationProperties.limit`` over 250 (or under 1, or not a number) is a 400,
  not quietly clamped; a cursor the emulator did not issue is a 400. The cursor
  is opaque (base64 of an offset into the users in ``Id`` order), so a user
  added or deleted between pages shifts the later pages.
- ``paginationProperties.filter`` is a case-insensitive substring of
  ``Username`` (asking for ``ann`` also finds ``joanna``): a client looking for
  one user must compare the names itself. ``sort-by`` and ``sort-order`` are
  accepted and ignored.

The listing carries no total ("Get all users" shows none) and no rate limit is
documented. With ``system_users=True`` it also shows what a real one does: the
built-in ``admin`` (``Id`` 1 in the "Get all users" example) and the system admin
the bridge logs in as (the "How to use" page logs in as one); they are never part
of :meth:`~CloudShellEmulator.end_state`, the users the bridge answers for. Off by
default, so that a listing holds the bridge's users alone; their ``Id`` values are
taken either way.

The admin console (:meth:`~CloudShellEmulator.admin_change`,
:meth:`~CloudShellEmulator.admin_create`) plays "Edit user" and "Create user":
``Username`` cannot be modified (edit-user), an admin-created user is a local one
(``DomainName`` and ``ImportedSid`` null, as ``john`` in the "Get all users"
example), and a second user of a name is refused ("409: already exists",
cs-admin-rest-api-response-code).
"""

from __future__ import annotations

import base64
import binascii
import itertools
import uuid
from typing import Any, ClassVar, cast

from flask import Flask, Response, jsonify, request

from scimbridge_emulators.base import Rejection, VendorEmulator
from scimbridge_emulators.state import TokenStatus, same_secret
from scimbridge_emulators.validation import BOOLEAN, string, violations

DOMAIN_NAME = "EMULATED"
IMPORT_REQUEST = {
    "type": "object",
    "properties": {
        "UserName": string(minLength=1),
        "GroupName": string(minLength=1),
        "AllowUpdate": BOOLEAN,
    },
    "oneOf": [{"required": ["UserName"]}, {"required": ["GroupName"]}],
}
NULLABLE_INTEGER = {"type": ["integer", "null"]}
EDITABLE_FIELDS: dict[str, Any] = {
    "Email": {"type": ["string", "null"]},
    "IsActive": BOOLEAN,
    "IsAdmin": BOOLEAN,
    "GroupIds": {"type": "array", "items": {"type": "integer"}},
    "TimeZoneInfoId": {"type": ["string", "null"]},
    "MaxReservationDuration": NULLABLE_INTEGER,
    "MaxConcurrentReservations": NULLABLE_INTEGER,
    "MaxScheduledSandboxes": NULLABLE_INTEGER,
    "MaxOwnedBlueprints": NULLABLE_INTEGER,
    "MaxSavedSandboxes": NULLABLE_INTEGER,
}
"""The fields of "Edit user" besides ``Username``, which cannot be modified, and ``Password``."""
FULL_USER = {
    "type": "object",
    "required": ["Username", "IsActive"],
    "properties": {
        "Username": string(minLength=1),
        "Password": {"type": ["string", "null"]},
        **EDITABLE_FIELDS,
    },
}
EDITABLE = tuple(EDITABLE_FIELDS)
ADMIN_CHANGE = {"type": "object", "properties": EDITABLE_FIELDS, "additionalProperties": False}
"""What an admin edits: "Edit user"'s fields, as the listing shows them (never ``Password``)."""
ADMIN_CREATE = {
    "type": "object",
    "required": ["Username"],
    "properties": {"Username": string(minLength=1), **EDITABLE_FIELDS},
    "additionalProperties": False,
}
"""What an admin gives a new user (create-user); CloudShell assigns ``Id`` and ``Sid``."""
SYSTEM_ADMIN = "admin"
PAGE_LIMIT = "paginationProperties.limit"
PAGE_CURSOR = "paginationProperties.cursor"
PAGE_FILTER = "paginationProperties.filter"
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 250


def cursor_for(offset: int) -> str:
    return base64.urlsafe_b64encode(str(offset).encode()).decode()


def offset_of(cursor: str) -> int | None:
    """The offset a cursor issued by :func:`cursor_for` stands for; None for any other."""
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return int(text) if text.isdigit() else None


class CloudShellEmulator(VendorEmulator):
    vendor = "cloudshell"
    demo_port = 9105
    token_ttl_seconds = 5 * 3600
    public_endpoints = frozenset({"login"})
    demo_credentials: ClassVar[dict[str, str]] = {
        "username": "cloudshell-demo-admin",
        "password": "cloudshell-demo-password",
        "domain": "Global",
    }

    def __init__(
        self,
        credentials: dict[str, str] | None = None,
        *,
        directory: dict[str, dict[str, Any]] | None = None,
        groups: dict[str, list[str]] | None = None,
        system_users: bool = False,
        **options: Any,
    ):
        """:param directory: the external users by name; None lets any name exist.
        :param system_users: list the built-in ``admin`` and the login account too."""
        self.directory = directory
        self.groups = groups or {}
        self.system_users = system_users
        super().__init__(credentials, **options)

    def reset_state(self) -> None:
        self.accounts: dict[int, dict[str, Any]] = {}
        self.ids_by_name: dict[str, int] = {}
        """Each account's ``Id`` by its lower-cased ``Username`` (which CloudShell never
        changes): a lookup by name costs the same for ten thousand users as for ten, as
        it does at a vendor's database, so a large import measures the bridge, not a scan."""
        self.next_ids = itertools.count(1)
        """Id 1 is the built-in ``admin``, listed or not (Quali's "Get all users" example)."""
        login = self.credentials["username"]
        names = [SYSTEM_ADMIN] + ([login] if login.lower() != SYSTEM_ADMIN else [])
        self.system_ids = {self.new_system_user(name) for name in names}

    def new_system_user(self, name: str) -> int:
        """A local system administrator, as ``admin`` shows in the "Get all users" example;
        unlisted without ``system_users``, where it only holds its ``Id``."""
        account = self.new_local_user({"Username": name, "IsAdmin": True})
        if not self.system_users:
            del self.accounts[account["Id"]]
        return int(account["Id"])

    def end_state(self) -> list[dict[str, Any]]:
        return [a for a in self.accounts.values() if a["Id"] not in self.system_ids]

    def register_routes(self, app: Flask) -> None:
        for login_path in ("/Api/Auth/Login", "/api/auth/login"):
            app.add_url_rule(login_path, view_func=self.login, methods=["PUT"])
        self.route(
            app, "/api/v1/integrations/IdentityManagement/users", self.import_users, ["POST"]
        )
        self.route(app, "/api/v1/users", self.list_users, ["GET"])
        self.route(app, "/api/v1/users/<int:user_id>", self.get_user, ["GET"])
        self.route(app, "/api/v1/users/<int:user_id>", self.edit_user, ["PUT"])
        self.route(app, "/api/v1/users/<int:user_id>", self.delete_user, ["DELETE"])

    # -- authentication --------------------------------------------------------------------------

    def error_body(self, status: int, message: str, extra: dict[str, Any]) -> Any:
        return {"Message": message}

    def login_fields(self) -> dict[str, Any]:
        if request.mimetype == "application/x-www-form-urlencoded":
            return {key.lower(): value for key, value in request.form.items()}
        body = self.json_body()
        if not isinstance(body, dict):
            raise Rejection(400, "The request is invalid.")
        return {key.lower(): value for key, value in body.items()}

    def login(self) -> Response:
        fields = self.login_fields()
        if not (
            same_secret(fields.get("username"), self.credentials["username"])
            and same_secret(fields.get("password"), self.credentials["password"])
            and fields.get("domain") == self.credentials["domain"]
        ):
            raise Rejection(401, "Login failed: wrong user name, password or domain.")
        return jsonify(self.tokens.issue().value)

    def authenticate(self) -> None:
        status, _ = self.tokens.check(self.authorization("Basic", "Bearer"))
        if status is not TokenStatus.VALID:
            raise Rejection(401, "Authorization has been denied for this request.")

    # -- import ----------------------------------------------------------------------------------

    def validated(self, schema: dict[str, Any]) -> dict[str, Any]:
        document = self.json_body()
        problems = violations(schema, document)
        if problems:
            raise Rejection(400, f"The request is invalid: {problems[0]}")
        return cast(dict[str, Any], document)  # valid against an object schema

    def import_users(self) -> Response:
        body = self.validated(IMPORT_REQUEST)
        allow_update = body.get("AllowUpdate", False)
        imported: list[dict[str, Any]] = []
        errors: list[dict[str, str]] = []
        if "UserName" in body:
            names = [body["UserName"]]
        elif body["GroupName"] in self.groups:
            names = self.groups[body["GroupName"]]
        else:
            names = []
            errors.append(
                {"Message": f"Group '{body['GroupName']}' was not found in the directory."}
            )
        for name in names:
            outcome = self.import_one(name, allow_update)
            (imported if "Id" in outcome else errors).append(outcome)
        return jsonify({"Users": imported, "Errors": errors})

    def import_one(self, name: str, allow_update: bool) -> dict[str, Any]:
        """The imported user, or an ``Errors[]`` item."""
        if self.directory is not None and name not in self.directory:
            return {"Message": f"User '{name}' was not found in the directory."}
        if self.is_rejected(name, self.directory_entry(name).get("Email")):
            return {"Message": f"User '{name}' could not be imported."}
        existing = self.find(name)
        if existing and not allow_update:
            return {"Message": f"User '{name}' already exists."}
        account = existing or self.new_account(name)
        entry = self.directory_entry(name)
        if "Email" in entry:
            account["Email"] = entry["Email"]
        return account

    def directory_entry(self, name: str) -> dict[str, Any]:
        return (self.directory or {}).get(name, {})

    def find(self, name: str) -> dict[str, Any] | None:
        """The account of that name, case-insensitively; an account removed from
        :attr:`accounts` by any means is no longer found."""
        wanted = name.lower()
        account = self.accounts.get(self.ids_by_name.get(wanted, 0))
        return account if account and account["Username"].lower() == wanted else None

    def new_account(self, name: str) -> dict[str, Any]:
        """An imported user, with the defaults of the "Import external users" example."""
        account_id = next(self.next_ids)
        account = {
            "Id": account_id,
            "Sid": str(uuid.uuid4()),
            "Username": name,
            "Email": None,
            "IsActive": True,
            "IsAdmin": False,
            "GroupIds": [],
            "TimeZoneInfoId": None,
            "MaxReservationDuration": 1440,
            "MaxConcurrentReservations": 10,
            "MaxScheduledSandboxes": 10,
            "MaxOwnedBlueprints": 10,
            "MaxSavedSandboxes": None,
            "DomainRoles": [],
            "DomainName": DOMAIN_NAME,
            "ImportedSid": f"S-1-5-21-1487810946-2753822684-3978873285-{7000 + account_id}",
        }
        self.accounts[account_id] = account
        self.ids_by_name[name.lower()] = account_id
        return account

    def new_local_user(self, fields: dict[str, Any]) -> dict[str, Any]:
        """A user created in CloudShell rather than imported: no directory domain nor
        ``ImportedSid``. The limits CloudShell gives a user created without them are not
        documented: the import example's are taken."""
        account = self.new_account(fields["Username"])
        account.update(DomainName=None, ImportedSid=None, **fields)
        return account

    # -- admin console ---------------------------------------------------------------------------

    def stored_account(self, name: str) -> dict[str, Any] | None:
        wanted = name.lower()
        return next(
            (
                account
                for account in self.end_state()
                if wanted in (account["Username"].lower(), str(account["Email"] or "").lower())
            ),
            None,
        )

    def admin_change(self, name: str, changes: dict[str, Any]) -> dict[str, Any]:
        """Edit the user as "Edit user" does: only its editable fields.

        :raises ValueError: a change of ``Username`` (it cannot be modified) or of a field
            no admin edits (``Id``, ``Sid``, the directory's ``ImportedSid``…).
        """
        refusal = self.refusal(ADMIN_CHANGE, changes)
        if refusal:
            raise ValueError(f"CloudShell cannot make that change: {refusal}")
        return super().admin_change(name, changes)

    def create_account(self, fields: dict[str, Any]) -> dict[str, Any]:
        """Create a local user as "Create user" does.

        :raises ValueError: fields "Create user" does not take, or a name already taken.
        """
        refusal = self.refusal(ADMIN_CREATE, fields)
        if refusal:
            raise ValueError(f"CloudShell cannot create that user: {refusal}")
        if self.find(fields["Username"]):
            raise ValueError(f"User '{fields['Username']}' already exists.")
        return self.new_local_user(fields)

    @staticmethod
    def refusal(schema: dict[str, Any], document: dict[str, Any]) -> str | None:
        problems = violations(schema, document)
        return str(problems[0]) if problems else None

    # -- users -----------------------------------------------------------------------------------

    def account(self, user_id: int) -> dict[str, Any]:
        found = self.accounts.get(user_id)
        if found is None:
            raise Rejection(404, f"User {user_id} was not found.")
        return found

    def list_users(self) -> Response:
        """One page of the users, filtered by a substring of ``Username`` (module docstring)."""
        limit, offset = self.page_size(), self.page_offset()
        pattern = request.args.get(PAGE_FILTER, "").lower()
        found = [a for a in self.accounts.values() if pattern in a["Username"].lower()]
        following = offset + limit
        return jsonify(
            {
                "Users": found[offset:following],
                "Cursor": cursor_for(following) if following < len(found) else None,
            }
        )

    def page_size(self) -> int:
        raw = request.args.get(PAGE_LIMIT)
        if raw is None:
            return DEFAULT_PAGE_SIZE
        if not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE_SIZE:
            raise Rejection(400, f"{PAGE_LIMIT} must be an integer from 1 to {MAX_PAGE_SIZE}.")
        return int(raw)

    def page_offset(self) -> int:
        cursor = request.args.get(PAGE_CURSOR)
        if not cursor:
            return 0
        offset = offset_of(cursor)
        if offset is None:
            raise Rejection(400, f"{PAGE_CURSOR} is not a cursor this server issued.")
        return offset

    def get_user(self, user_id: int) -> Response:
        return jsonify(self.account(user_id))

    def edit_user(self, user_id: int) -> tuple[str, int]:
        account = self.account(user_id)
        body = self.validated(FULL_USER)
        if body["Username"] != account["Username"]:
            raise Rejection(400, "The user name cannot be changed.")
        account.update({name: body[name] for name in EDITABLE if name in body})
        return "", 200

    def delete_user(self, user_id: int) -> tuple[str, int]:
        self.account(user_id)
        del self.accounts[user_id]
        return "", 200
