"""VMware Aria Operations (VCF Operations): the Suite API user import.

Contract: Broadcom's "Import Users Using POST" reference (https://developer.broadcom.com/xapis/vmware-vrealize-operations-api/latest/api/auth/sources/id/users/post);
the VCF Operations OpenAPI (``vmware/vcf-api-specs``,
``specifications/vcf-operations/vcf-operations-openapi.json``: ``acquireToken``,
``releaseToken``, ``importUsers``, ``modifyUser``, ``deleteUser``, schemas
``username-password``, ``auth-token``, ``user``, ``error``); Broadcom's VMware Aria Operations
API documentation (developer.broadcom.com).

The base URL includes ``/suite-api``, as the spec's server entry does.

- ``POST /api/auth/token/acquire`` ``{"username", "password", "authSource"}`` →
  ``{"token", "validity" (epoch ms), "expiresAt", "roles"}``; 401 on bad credentials.
- Calls send ``Authorization: OpsToken <t>`` (``vRealizeOpsToken`` on older
  releases: both accepted). A token lives 6 h from its last use (sliding);
  a missing, invalid or expired one is 401 ``{"message", "httpStatusCode": 401,
  "apiErrorCode": 1512}``. ``POST /api/auth/token/release`` ends it.
- ``Accept: application/json`` is required: without it the API answers XML,
  which the emulator does not speak, so it answers 406. JSON bodies need
  ``Content-Type: application/json`` (else 415).
- ``POST /api/auth/sources/{id}/users`` ``{"users": [...]}`` → 201 with the users
  and their assigned ``id``; a user carrying ``id`` is re-imported (updated).
- ``PUT /api/auth/users`` (full user with ``id``) → 200; ``DELETE /api/auth/users/{id}`` → 204.
- ``GET /api/auth/users`` with repeatable ``id``, ``username`` and ``roleName``
  query parameters → ``{"users": [...]}`` (the same user objects); "username
  matches partially or exactly"; with no parameter, every user. ``getUsers``
  documents no paging parameter and ``user-list`` no ``pageInfo``: one answer
  holds every match, and ``page``/``pageSize`` are ignored like any unknown parameter.
- No rate limit is documented (only a 429 "Rate Limit Exceeded" in the 8.10
  "Getting Started"): none is enforced; a 429 is a fault a test injects.

Assumptions (not documented by Broadcom): importing a user name that exists in the source without
its ``id`` is a 400, with an ``id`` the emulator does not know a 404; a rejected
user (:meth:`reject_users`) fails the whole request with a 400 naming it
(per-user results are not documented); role names must be known roles.

Readings where the documents are silent, each the less convenient for a client:

- The ``username`` lookup matches a case-insensitive **substring** ("partially
  or exactly"): asking for ``ann`` also finds ``joanna``, so a client must pick
  the exact name itself. Repeated values of one parameter are alternatives;
  different parameters must all match.
- An account an admin creates in the product (:meth:`AriaEmulator.create_account`)
  is a local user, as ``POST /api/auth/users`` (``createUser``) makes one: enabled
  unless the admin says otherwise, in the local source unless given a ``sourceId``;
  a username its source already holds is refused, as an import without ``id`` is.
  The built-in ``admin`` and the bridge's own service account are not seeded, though
  Aria lists both (the convenient reading, an exception): a test creates them when
  it needs them, so every other test's end state holds only its own users.
- A re-import with ``id`` and ``PUT /api/auth/users`` replace the fields they
  carry and keep the fields they leave out; a list field (``roleNames``,
  ``role-permissions``, ``groupIds``) that is present replaces the whole list,
  so roles granted inside Aria and not sent again are lost.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar, cast

from flask import Flask, Response, jsonify, request

from scimbridge_emulators.base import Rejection, VendorEmulator
from scimbridge_emulators.state import TokenStatus, same_secret
from scimbridge_emulators.validation import BOOLEAN, STRINGS, string, violations

TOKEN_SCHEMES = ("OpsToken", "vRealizeOpsToken")
EXPIRED_TOKEN_ERROR = 1512
USERNAME_PATTERN = r"^[^\s,<&\"'?+%=>;/#]+$"
ROLES = frozenset(
    {
        "Administrator", "ReadOnly", "PowerUser", "PowerUserMinusRemediation",
        "ContentAdmin", "AgentManager", "GeneralUser-1", "GeneralUser-2",
        "GeneralUser-3", "GeneralUser-4",
    }
)  # fmt: skip
"""The built-in roles of Aria Operations 8.x."""

USER = {
    "type": "object",
    "required": ["username"],
    "properties": {
        "id": string(format="uuid"),
        "username": string(pattern=USERNAME_PATTERN),
        "firstName": string(),
        "lastName": string(),
        "emailAddress": string(),
        "distinguishedName": string(),
        "enabled": BOOLEAN,
        "password": {"type": ["string", "null"]},
        "groupIds": STRINGS,
        "roleNames": STRINGS,
        "role-permissions": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["roleName"],
                "properties": {"roleName": string(), "allowAllObjects": BOOLEAN},
            },
        },
    },
}
USER_LIST = {
    "type": "object",
    "required": ["users"],
    "properties": {"users": {"type": "array", "minItems": 1, "items": USER}},
}
KEPT_FIELDS = tuple(name for name in USER["properties"] if name not in ("id", "password"))
LOCAL_SOURCE = "LOCAL"
"""The source of a local user (``authSource: LOCAL`` in the OpenAPI examples)."""


def role_names(user: dict[str, Any]) -> set[str]:
    named = {permission["roleName"] for permission in user.get("role-permissions") or []}
    return named | set(user.get("roleNames") or [])


class AriaEmulator(VendorEmulator):
    vendor = "aria"
    demo_port = 9103
    url_prefix = "/suite-api"
    token_ttl_seconds = 6 * 3600
    sliding_tokens = True
    public_endpoints = frozenset({"acquire_token"})
    demo_credentials: ClassVar[dict[str, str]] = {
        "username": "aria-demo-admin",
        "password": "aria-demo-password",
        "auth_source": "LOCAL",
        "token_scheme": "OpsToken",
    }
    demo_options: ClassVar[dict[str, Any]] = {
        "auth_source_id": "5d3b6c52-8f1e-4a0d-9c27-1b2e3f4a5b6c"
    }

    def __init__(
        self,
        credentials: dict[str, str] | None = None,
        *,
        auth_source_id: str | None = None,
        **options: Any,
    ):
        self.auth_source_id = auth_source_id or self.demo_options["auth_source_id"]
        super().__init__(credentials, **options)

    def reset_state(self) -> None:
        self.accounts: dict[str, dict[str, Any]] = {}
        """Users by id."""

    def end_state(self) -> list[dict[str, Any]]:
        return list(self.accounts.values())

    def register_routes(self, app: Flask) -> None:
        self.route(app, "/api/auth/token/acquire", self.acquire_token, ["POST"])
        self.route(app, "/api/auth/token/release", self.release_token, ["POST"])
        self.route(app, "/api/auth/sources/<source_id>/users", self.import_users, ["POST"])
        self.route(app, "/api/auth/users", self.modify_user, ["PUT"])
        self.route(app, "/api/auth/users", self.find_users, ["GET"])
        self.route(app, "/api/auth/users/<user_id>", self.get_user, ["GET"])
        self.route(app, "/api/auth/users/<user_id>", self.delete_user, ["DELETE"])

    # -- authentication --------------------------------------------------------------------------

    def error_body(self, status: int, message: str, extra: dict[str, Any]) -> Any:
        return {"message": message, "httpStatusCode": status, **extra, "type": "Error"}

    def check_accept(self) -> None:
        if not any(mimetype == "application/json" for mimetype, _ in request.accept_mimetypes):
            raise Rejection(406, "Send Accept: application/json; this emulator does not speak XML")

    def acquire_token(self) -> Response:
        self.check_accept()
        body = self.json_body()
        if not isinstance(body, dict):
            raise Rejection(400, "The body must be a username-password object")
        source = body.get("authSource") or "LOCAL"
        if not (
            same_secret(body.get("username"), self.credentials["username"])
            and same_secret(body.get("password"), self.credentials["password"])
            and source == self.credentials["auth_source"]
        ):
            raise Rejection(401, "Invalid username or password")
        token = self.tokens.issue()
        validity = datetime.now(UTC).timestamp() + self.tokens.ttl_seconds
        return jsonify(
            {
                "token": token.value,
                "validity": int(validity * 1000),
                "expiresAt": datetime.fromtimestamp(validity, UTC).strftime(
                    "%A, %B %d, %Y at %I:%M:%S %p %Z"
                ),
                "roles": ["Administrator"],
            }
        )

    def presented_token(self) -> str | None:
        return self.authorization(*TOKEN_SCHEMES)

    def authenticate(self) -> None:
        status, _ = self.tokens.check(self.presented_token())
        if status is not TokenStatus.VALID:
            scheme = request.headers.get("Authorization", "OpsToken").partition(" ")[0]
            raise Rejection(
                401,
                f'The provided token for auth scheme "{scheme}" is either invalid or has expired.',
                {"apiErrorCode": EXPIRED_TOKEN_ERROR},
            )
        self.check_accept()

    def release_token(self) -> Response:
        self.tokens.revoke(self.presented_token() or "")
        return Response(status=200)

    # -- users -----------------------------------------------------------------------------------

    def validated(self, schema: dict[str, Any]) -> dict[str, Any]:
        document = self.json_body()
        problems = violations(schema, document)
        if problems:
            raise Rejection(
                400,
                "Invalid input format.",
                {
                    "validationFailures": [
                        {"failureMessage": p.message, "violationPath": p.path} for p in problems
                    ]
                },
            )
        users = document.get("users", [document])
        unknown = set().union(*(role_names(user) for user in users)) - ROLES
        if unknown:
            raise Rejection(404, f"Role(s) not found: {', '.join(sorted(unknown))}")
        return cast(dict[str, Any], document)  # valid against an object schema

    def account(self, user_id: str) -> dict[str, Any]:
        found = self.accounts.get(user_id)
        if found is None:
            raise Rejection(404, f"User with id {user_id} was not found")
        return found

    def import_users(self, source_id: str) -> tuple[Response, int]:
        if source_id != self.auth_source_id:
            raise Rejection(404, f"Auth source with id {source_id} was not found")
        users = self.validated(USER_LIST)["users"]
        for user in users:
            self.check_importable(source_id, user)
        imported = [self.store(source_id, user) for user in users]
        return jsonify({"users": imported}), 201

    def check_importable(self, source_id: str, user: dict[str, Any]) -> None:
        if self.is_rejected(user["username"], user.get("emailAddress")):
            raise Rejection(
                400, f"User {user['username']} could not be imported from the auth source"
            )
        if "id" in user:
            self.account(user["id"])
            return
        if self.holds_username(source_id, user["username"]):
            raise Rejection(
                400, f"User {user['username']} already exists; populate its id to re-import it"
            )

    def holds_username(self, source_id: str, username: str) -> bool:
        return any(
            account["username"].lower() == username.lower() and account["sourceId"] == source_id
            for account in self.accounts.values()
        )

    def store(self, source_id: str, user: dict[str, Any]) -> dict[str, Any]:
        account = self.accounts.get(
            user.get("id", ""), {"id": str(uuid.uuid4()), "sourceId": source_id, "enabled": True}
        )
        self.accounts[account["id"]] = self.apply(account, user)
        return self.public(account)

    @staticmethod
    def apply(account: dict[str, Any], user: dict[str, Any]) -> dict[str, Any]:
        """The fields the user carries replace the account's, a list field as a whole;
        the fields it leaves out are kept (module docstring)."""
        account.update({name: user[name] for name in KEPT_FIELDS if name in user})
        return account

    @staticmethod
    def public(account: dict[str, Any]) -> dict[str, Any]:
        return {key: value for key, value in account.items() if key != "sourceId"}

    def modify_user(self) -> Response:
        user = self.validated(USER)
        if "id" not in user:
            raise Rejection(400, "The user must carry its id")
        return jsonify(self.public(self.apply(self.account(user["id"]), user)))

    def find_users(self) -> Response:
        """The lookup by ``id``, ``username`` (a substring, module docstring) and ``roleName``."""
        ids = set(request.args.getlist("id"))
        names = [name.lower() for name in request.args.getlist("username")]
        roles = set(request.args.getlist("roleName"))
        found = [
            self.public(account)
            for account in self.accounts.values()
            if (not ids or account["id"] in ids)
            and (not names or any(name in account["username"].lower() for name in names))
            and (not roles or role_names(account) & roles)
        ]
        return jsonify({"users": found})

    # -- the admin console -----------------------------------------------------------------------

    def stored_account(self, name: str) -> dict[str, Any] | None:
        wanted = name.lower()
        return next(
            (
                account
                for account in self.accounts.values()
                if wanted
                in (account["username"].lower(), (account.get("emailAddress") or "").lower())
            ),
            None,
        )

    def create_account(self, fields: dict[str, Any]) -> dict[str, Any]:
        """A local user, as the module docstring says an admin creates one.

        :raises ValueError: where Aria would not create it (:meth:`creation_refused`).
        """
        source_id = str(fields.pop("sourceId", LOCAL_SOURCE))
        refusal = self.creation_refused(source_id, fields)
        if refusal:
            raise ValueError(refusal)
        user_id = str(uuid.uuid4())
        account = {"id": user_id, "sourceId": source_id, "enabled": True}
        self.accounts[user_id] = self.apply(account, fields)
        return account

    def creation_refused(self, source_id: str, fields: dict[str, Any]) -> str | None:
        """Why Aria would not create this user: a field the user does not show (``id`` is
        Aria's to assign), a value the ``user`` schema refuses, an unknown role, or a
        username its source holds already; None when it would."""
        unknown = set(fields) - set(KEPT_FIELDS)
        if unknown:
            return f"Aria assigns or never shows: {', '.join(sorted(unknown))}"
        problems = violations(USER, fields)
        if problems:
            return "; ".join(str(problem) for problem in problems)
        roles = role_names(fields) - ROLES
        if roles:
            return f"Role(s) not found: {', '.join(sorted(roles))}"
        if self.holds_username(source_id, fields["username"]):
            return f"User {fields['username']} already exists"
        return None

    def get_user(self, user_id: str) -> Response:
        return jsonify(self.public(self.account(user_id)))

    def delete_user(self, user_id: str) -> tuple[str, int]:
        self.account(user_id)
        del self.accounts[user_id]
        return "", 204
