"""Autodesk Construction Cloud: the Account Admin project-user import.

Contract: Autodesk's "POST projects/:projectId/users:import" reference
(https://aps.autodesk.com/en/docs/acc/v1/reference/http/admin-v2-projects-project-Id-users-import-POST);
Autodesk's OpenAPI ``construction/accountadmin/accountadmin.yaml`` (``importProjectUsers``,
``ProjectUsersImportPayload``, the v1 project-user GET/PATCH/DELETE) and
``authentication/authentication.yaml`` (``POST /authentication/v2/token``), both in
``autodesk-platform-services/aps-sdk-openapi``; the APS documentation (aps.autodesk.com).

- Token: HTTP Basic ``client_id:client_secret``, form ``grant_type=client_credentials``
  and ``scope``; ``{"access_token", "token_type": "Bearer", "expires_in"}``.
- Admin calls: ``Authorization: Bearer``; writes (POST/PATCH/DELETE) need scope
  ``account:write`` and, under a 2-legged token, the ``User-Id`` header of an
  admin; GETs need ``account:read``. ``Region``, when sent, must be a known region.
- Import: ``Content-Type: application/json`` (else 415); 1 to 200 users, each with
  ``email`` and ``products`` (``key`` and ``access`` from the documented enums);
  202 ``{"jobId"}``, "the request has been received but not yet acted upon".
  There is no job endpoint: imported users appear in
  ``GET /construction/admin/v1/projects/{projectId}/users?filter[email]=``
  (``filterTextMatch``, ``limit`` 1-200 default 20, ``offset``, a ``pagination``
  object with ``limit``, ``offset``, ``totalResults``, ``nextUrl``, ``previousUrl``;
  ``sort`` by the ``userSortBy`` values, ``addedOn desc`` among them, any other value a
  400). A member's ``addedOn`` is "the timestamp when the user was first given access to
  any product on the project" (``ProjectUser``).
- PATCH (201, the changed fields and ``id``) and DELETE (204) of a user that is
  not in the project are 404.
- Rate limits per client id (admin-rate-limits page): 100 calls a minute for
  POST/PATCH/DELETE/PUT on construction/admin (``write_limit``), 600 for GET
  (``read_limit``), over ``limit_seconds``. The token endpoint is not counted here.
- Errors: 401 ``{"developerMessage", "errorCode": "AUTH-006"}``; 429
  ``{"developerMessage": "Quota limit exceeded."}`` with ``Retry-After``: the
  seconds until the window frees.

Assumptions (the documents are silent; each takes the reading less convenient
for a client):

- Other admin errors are ``{"code", "message"}`` (an assumption: Autodesk does not document them); a write without
  ``User-Id`` is a 403.
- A user that fails on the vendor side is silently absent after the 202 (as
  :meth:`reject_users` plays it).
- Importing an email that is already a project member (or was imported and is
  still being acted upon) **never updates that member**: the member stays
  exactly as it was and the 202 is answered as for any import. A client that
  re-imports to change products or roles sees nothing change, and must PATCH.
- The import is acted upon ``import_delay_seconds`` (0.5 s) after the 202:
  before that the users are neither listed nor found, so a client that lists
  right after importing sees them missing and must poll. Imported users are
  listed with status ``pending``, their ``addedOn`` the moment the import was acted upon.
- Without ``sort`` the listing is in the order the members were added; members a ``sort``
  does not tell apart (``addedOn`` to the millisecond) keep that order too.
- An admin (:meth:`AccEmulator.admin_create`) adds a member as the single add does
  (``assignProjectUser``: ``email`` and ``products`` required), with the vendor's defaults
  of an import: status ``pending``, a new project-user id. The ``autodeskId`` is the
  person's Autodesk account, which exists before the project does, so the admin may name it.
- "100 requests per minute" is read as any 60-second span (a rolling window,
  no burst of 200 across a minute boundary), and a refused call counts as a
  call; ``Retry-After`` is when enough calls age out that one more fits.
"""

from __future__ import annotations

import base64
import binascii
import copy
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar, cast
from urllib.parse import urlencode

from flask import Flask, Response, jsonify, request

from scimbridge_emulators.base import Bucket, Rejection, VendorEmulator
from scimbridge_emulators.state import Quota, TokenStatus, same_secret
from scimbridge_emulators.validation import STRINGS, string, violations

MAX_USERS_PER_IMPORT = 200
REGIONS = ("US", "EMEA", "AUS", "CAN", "DEU", "IND", "JPN", "GBR")
SCOPES = frozenset({"account:read", "account:write", "data:read", "data:write"})
PRODUCT_KEYS = [
    "build", "docs", "takeoff", "cost", "autoSpecs", "financials", "buildingConnected",
    "capitalPlanning", "accountAdministration", "workshopxr", "insight",
    "projectAdministration", "modelCoordination", "designCollaboration", "cloudWorksharing",
]  # fmt: skip
PRODUCT_ACCESS = ["administrator", "member", "none"]
SORT_FIELDS = (
    "name", "email", "firstName", "lastName", "addressLine1", "addressLine2", "city",
    "companyName", "stateOrProvince", "status", "phone", "postalCode", "country", "addedOn",
)  # fmt: skip
"""The fields the project-user listing sorts by (accountadmin.yaml ``userSortBy``), each
``asc`` or ``desc``."""
TEXT_MATCHES = {
    "contains": lambda value, pattern: pattern in value,
    "startsWith": str.startswith,
    "endsWith": str.endswith,
    "equals": str.__eq__,
}

PRODUCTS = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["key", "access"],
        "properties": {"key": {"enum": PRODUCT_KEYS}, "access": {"enum": PRODUCT_ACCESS}},
    },
}
IMPORT_PAYLOAD = {
    "type": "object",
    "required": ["users"],
    "properties": {
        "users": {
            "type": "array",
            "minItems": 1,
            "maxItems": MAX_USERS_PER_IMPORT,
            "items": {
                "type": "object",
                "required": ["email", "products"],
                "properties": {
                    "firstName": string(255),
                    "lastName": string(255),
                    "email": string(255, minLength=3),
                    "companyId": string(),
                    "roleIds": STRINGS,
                    "products": {**PRODUCTS, "minItems": 1},
                },
            },
        }
    },
}
UPDATE_PAYLOAD = {
    "type": "object",
    "properties": {"companyId": string(), "roleIds": STRINGS, "products": PRODUCTS},
}
UPDATABLE = ("companyId", "roleIds", "products")
ADMIN_FIELDS: dict[str, Any] = {
    "firstName": string(255),
    "lastName": string(255),
    "email": string(255, minLength=3),
    "companyId": string(),
    "roleIds": STRINGS,
    "products": PRODUCTS,
    "status": {"enum": ["active", "pending"]},
}
"""What an admin sets on a member in ACC (``ProjectUser`` in accountadmin.yaml): ``id`` and
``projectId`` are the vendor's, and a removed member is deleted, not given a status."""
ADMIN_CHANGE = {"type": "object", "additionalProperties": False, "properties": ADMIN_FIELDS}
ADMIN_CREATE = {
    "type": "object",
    "additionalProperties": False,
    "required": ["email", "products"],
    "properties": {**ADMIN_FIELDS, "autodeskId": string(255), "projectId": string()},
}


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def merge_products(
    current: list[dict[str, str]], changes: list[dict[str, str]]
) -> list[dict[str, str]]:
    """Products by key, the changed keys replaced (``access: none`` strips one, Autodesk's PATCH project-user reference)."""
    merged = {product["key"]: product for product in current}
    merged.update({product["key"]: dict(product) for product in changes})
    return list(merged.values())


def access_levels(products: list[dict[str, str]]) -> dict[str, bool]:
    project_admin = {"key": "projectAdministration", "access": "administrator"} in products
    return {"accountAdmin": False, "projectAdmin": project_admin, "executive": False}


def derive(member: dict[str, Any]) -> None:
    """Set what ACC derives from a member's fields: the full ``name`` (the email when it has
    none), its ``accessLevels`` and ``updatedAt``."""
    names = (member["firstName"], member["lastName"])
    member["name"] = " ".join(part for part in names if part) or member["email"]
    member["accessLevels"] = access_levels(member["products"])
    member["updatedAt"] = now_iso()


def sorted_by(members: list[dict[str, Any]], keys: list[tuple[str, bool]]) -> list[dict[str, Any]]:
    """The members in the order of the sort keys, each applied within the groups of equal
    values the keys before it make (accountadmin.yaml, ``sort``). A member without the field
    sorts as an empty value; members the keys do not tell apart keep the order they were
    added in (the documents say neither: the emulator's reading)."""
    ordered = list(members)
    for field, descending in reversed(keys):
        ordered.sort(key=lambda member: str(member.get(field) or ""), reverse=descending)
    return ordered


def admin_checked(schema: dict[str, Any], fields: dict[str, Any]) -> None:
    """:raises ValueError: ``fields`` are not what an admin can set (``ProjectUser``)."""
    problems = violations(schema, fields)
    if problems:
        raise ValueError(str(problems[0]))


@dataclass(frozen=True)
class PendingImport:
    """An accepted import user that the vendor has not acted upon yet."""

    due: float
    """On the :func:`time.monotonic` clock."""
    project_id: str
    user: dict[str, Any]


class AccEmulator(VendorEmulator):
    vendor = "acc"
    demo_port = 9102
    token_ttl_seconds = 3599
    public_endpoints = frozenset({"issue_token"})
    demo_credentials: ClassVar[dict[str, str]] = {
        "client_id": "acc-demo-client",
        "client_secret": "acc-demo-secret",
        "user_id": "acc-demo-admin",
        "region": "US",
        "token_url": "/authentication/v2/token",
    }
    demo_options: ClassVar[dict[str, Any]] = {"project_id": "9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d"}
    rate_limit_options = ("write_limit", "limit_seconds")
    """ACC's read limit keeps its 600 calls, counted over the same window."""

    def __init__(
        self,
        credentials: dict[str, str] | None = None,
        *,
        project_ids: tuple[str, ...] | None = None,
        write_limit: int = 100,
        read_limit: int = 600,
        limit_seconds: float = 60.0,
        import_delay_seconds: float = 0.5,
        **options: Any,
    ):
        """:param write_limit: POST/PATCH/DELETE calls per client in ``limit_seconds``.
        :param read_limit: GET calls per client in ``limit_seconds``.
        :param import_delay_seconds: how long after its 202 an import is acted upon
            (0: at once)."""
        if import_delay_seconds < 0:
            raise ValueError("import_delay_seconds cannot be negative")
        self.project_ids = frozenset(project_ids or (self.demo_options["project_id"],))
        self.write_quota = Quota(write_limit, limit_seconds, sliding=True)
        self.read_quota = Quota(read_limit, limit_seconds, sliding=True)
        self.import_delay_seconds = import_delay_seconds
        super().__init__(credentials, **options)

    def reset_state(self) -> None:
        self.members: dict[str, dict[str, Any]] = {}
        """Project users by ACC id."""
        self.pending: list[PendingImport] = []
        """Accepted import users in the order they came, not yet acted upon."""

    def end_state(self) -> list[dict[str, Any]]:
        return list(self.members.values())

    def catch_up(self) -> None:
        """Act upon the imports that came due, in the order they were accepted: each adds
        its user to the project unless the email is a member already, which is left as it is."""
        now = time.monotonic()
        due = 0
        while due < len(self.pending) and self.pending[due].due <= now:
            due += 1
        if not due:
            return
        acted, self.pending = self.pending[:due], self.pending[due:]
        members = {(user["projectId"], user["email"].lower()) for user in self.members.values()}
        for pending in acted:
            if (pending.project_id, pending.user["email"].lower()) not in members:
                members.add((pending.project_id, pending.user["email"].lower()))
                self.new_member(pending.project_id, pending.user)

    def register_routes(self, app: Flask) -> None:
        app.add_url_rule("/authentication/v2/token", view_func=self.issue_token, methods=["POST"])
        self.route(
            app,
            "/construction/admin/v2/projects/<project_id>/users:import",
            self.import_users,
            ["POST"],
        )
        self.route(
            app, "/construction/admin/v1/projects/<project_id>/users", self.list_users, ["GET"]
        )
        self.route(
            app,
            "/construction/admin/v1/projects/<project_id>/users/<user_id>",
            self.get_user,
            ["GET"],
        )
        self.route(
            app,
            "/construction/admin/v1/projects/<project_id>/users/<user_id>",
            self.update_user,
            ["PATCH"],
        )
        self.route(
            app,
            "/construction/admin/v1/projects/<project_id>/users/<user_id>",
            self.remove_user,
            ["DELETE"],
        )

    # -- authentication --------------------------------------------------------------------------

    def error_body(self, status: int, message: str, extra: dict[str, Any]) -> Any:
        if "errorCode" in extra:
            return {"developerMessage": message, "errorCode": extra["errorCode"]}
        if status == 429:
            return {"developerMessage": "Quota limit exceeded."}
        return {"code": extra.get("code", str(status)), "message": message}

    def rate_limit_bucket(self) -> Bucket:
        """Limits are per client id, one count for GETs and one for the writes."""
        client = self.credentials["client_id"]
        if request.method == "GET":
            return Bucket(f"{client} read", self.read_quota)
        return Bucket(f"{client} write", self.write_quota)

    def issue_token(self) -> Response:
        try:
            client_id, _, secret = (
                base64.b64decode(self.authorization("Basic") or "").decode().partition(":")
            )
        except (binascii.Error, UnicodeDecodeError):
            client_id = secret = ""
        if not (
            same_secret(client_id, self.credentials["client_id"])
            and same_secret(secret, self.credentials["client_secret"])
        ):
            raise Rejection(
                401,
                "The client_id specified does not have access to the api product",
                {"errorCode": "AUTH-001"},
            )
        if request.mimetype != "application/x-www-form-urlencoded":
            raise Rejection(
                415,
                "Content-Type must be application/x-www-form-urlencoded",
                {"errorCode": "AUTH-008"},
            )
        if request.form.get("grant_type") != "client_credentials":
            raise Rejection(
                400, "The grant type is not supported for this client", {"errorCode": "AUTH-003"}
            )
        scopes = frozenset(request.form.get("scope", "").split())
        if not scopes or not scopes <= SCOPES:
            raise Rejection(400, "The requested scope is invalid", {"errorCode": "AUTH-002"})
        token = self.tokens.issue(scopes)
        return jsonify(
            {
                "access_token": token.value,
                "token_type": "Bearer",
                "expires_in": int(self.tokens.ttl_seconds),
            }
        )

    def authenticate(self) -> None:
        status, token = self.tokens.check(self.authorization("Bearer"))
        if status is not TokenStatus.VALID or token is None:
            raise Rejection(
                401,
                "The access token provided is invalid or has expired.",
                {"errorCode": "AUTH-006"},
            )
        region = request.headers.get("Region")
        if region is not None and region not in REGIONS:
            raise Rejection(
                400, f"Region must be one of {', '.join(REGIONS)}", {"code": "ERR_BAD_INPUT"}
            )
        writing = request.method != "GET"
        needed = "account:write" if writing else "account:read"
        if needed not in token.scopes:
            raise Rejection(
                403, f"The token lacks the {needed} scope", {"code": "ERR_ACCESS_DENIED"}
            )
        if writing and not same_secret(request.headers.get("User-Id"), self.credentials["user_id"]):
            raise Rejection(
                403,
                "User-Id must name an account admin for a 2-legged token",
                {"code": "ERR_ACCESS_DENIED"},
            )

    # -- project users ---------------------------------------------------------------------------

    def check_project(self, project_id: str) -> None:
        if project_id not in self.project_ids:
            raise Rejection(404, f"Project {project_id} was not found", {"code": "ERR_NOT_FOUND"})

    def validated(self, schema: dict[str, Any]) -> dict[str, Any]:
        document = self.json_body()
        problems = violations(schema, document)
        if problems:
            raise Rejection(400, str(problems[0]), {"code": "ERR_BAD_INPUT"})
        return cast(dict[str, Any], document)  # valid against an object schema

    def member(self, project_id: str, user_id: str) -> dict[str, Any]:
        self.check_project(project_id)
        found = self.members.get(user_id)
        if found is None or found["projectId"] != project_id:
            raise Rejection(
                404, f"User {user_id} was not found in the project", {"code": "ERR_NOT_FOUND"}
            )
        return found

    def find_by_email(self, project_id: str, email: str) -> dict[str, Any] | None:
        return next(
            (
                user
                for user in self.members.values()
                if user["projectId"] == project_id and user["email"].lower() == email.lower()
            ),
            None,
        )

    def import_users(self, project_id: str) -> tuple[Response, int]:
        """Accept the users now, act upon them :attr:`import_delay_seconds` later."""
        self.check_project(project_id)
        due = time.monotonic() + self.import_delay_seconds
        self.pending += [
            PendingImport(due, project_id, user)
            for user in self.validated(IMPORT_PAYLOAD)["users"]
            if not self.is_rejected(user["email"])
        ]
        self.catch_up()
        return jsonify({"jobId": str(uuid.uuid4())}), 202

    def new_member(self, project_id: str, user: dict[str, Any]) -> dict[str, Any]:
        """A new project user with the vendor's id and defaults, stored."""
        member = {
            "id": str(uuid.uuid4()),
            "projectId": project_id,
            "email": user["email"],
            "firstName": user.get("firstName"),
            "lastName": user.get("lastName"),
            "autodeskId": user.get("autodeskId") or uuid.uuid4().hex[:12].upper(),
            "status": user.get("status", "pending"),
            "companyId": user.get("companyId"),
            "roleIds": list(user.get("roleIds", [])),
            "products": [dict(product) for product in user["products"]],
            "addedOn": now_iso(),
        }
        derive(member)
        self.members[member["id"]] = member
        return member

    # -- the admin in ACC ------------------------------------------------------------------------

    def stored_account(self, name: str) -> dict[str, Any] | None:
        """The member whose email is ``name``: a project member has no user name."""
        return next(
            (user for user in self.members.values() if user["email"].lower() == name.lower()),
            None,
        )

    def admin_change(self, name: str, changes: dict[str, Any]) -> dict[str, Any]:
        """The change, checked as ``ProjectUser`` fields, with what ACC derives from them
        (``name``, ``accessLevels``, ``updatedAt``) made to follow; an email another member
        of the project holds is refused, as ACC holds a person once."""
        admin_checked(ADMIN_CHANGE, changes)
        with self.lock:
            self.catch_up()
            member = self.stored_account(name)
            if member is None:
                raise KeyError(name)
            holder = self.find_by_email(member["projectId"], changes.get("email", name))
            if holder is not None and holder is not member:
                raise ValueError(f"{changes['email']} is another member's email")
            member.update(copy.deepcopy(changes))
            derive(member)
            return copy.deepcopy(member)

    def create_account(self, fields: dict[str, Any]) -> dict[str, Any]:
        """A member added by an admin to ``projectId`` (which only an emulator of several
        projects needs); an email already in the project is refused."""
        admin_checked(ADMIN_CREATE, fields)
        project_id = fields.pop("projectId", None)
        if project_id is None and len(self.project_ids) == 1:
            [project_id] = self.project_ids
        if project_id not in self.project_ids:
            raise ValueError(f"name one of the projects {sorted(self.project_ids)} as projectId")
        if self.find_by_email(project_id, fields["email"]) is not None:
            raise ValueError(f"{fields['email']} is a member of project {project_id} already")
        return self.new_member(project_id, fields)

    def list_users(self, project_id: str) -> Response:
        self.check_project(project_id)
        limit, offset = self.int_arg("limit", 20, 1, 200), self.int_arg("offset", 0, 0, None)
        match = TEXT_MATCHES.get(request.args.get("filterTextMatch", "contains"))
        if match is None:
            raise Rejection(
                400,
                f"filterTextMatch must be one of {', '.join(TEXT_MATCHES)}",
                {"code": "ERR_BAD_INPUT"},
            )
        email = request.args.get("filter[email]", "").lower()
        statuses = request.args.get("filter[status]", "active,pending").split(",")
        found = [
            user
            for user in self.members.values()
            if user["projectId"] == project_id
            and user["status"] in statuses
            and (not email or match(user["email"].lower(), email))
        ]
        page = sorted_by(found, self.sort_keys())[offset : offset + limit]
        pagination: dict[str, Any] = {"limit": limit, "offset": offset, "totalResults": len(found)}
        if offset + limit < len(found):
            pagination["nextUrl"] = self.page_url(offset + limit, limit)
        if offset > 0:
            pagination["previousUrl"] = self.page_url(max(offset - limit, 0), limit)
        return jsonify({"pagination": pagination, "results": page})

    def sort_keys(self) -> list[tuple[str, bool]]:
        """``sort`` as (field, descending) pairs, in the order they apply: a comma-separated
        list, the parameter repeated or both (accountadmin.yaml ``userSortBy_internal``, an
        array of ``userSortBy``); a value the enum does not hold is refused."""
        keys = []
        for value in (
            part.strip() for raw in request.args.getlist("sort") for part in raw.split(",")
        ):
            field, _, direction = value.partition(" ")
            if field not in SORT_FIELDS or direction not in ("asc", "desc"):
                raise Rejection(
                    400,
                    f"sort must be one of the fields {', '.join(SORT_FIELDS)} with asc or desc",
                    {"code": "ERR_BAD_INPUT"},
                )
            keys.append((field, direction == "desc"))
        return keys

    def int_arg(self, name: str, default: int, low: int, high: int | None) -> int:
        raw = request.args.get(name)
        if raw is None:
            return default
        if not raw.isdigit() or int(raw) < low or (high is not None and int(raw) > high):
            limits = f"{low}-{high}" if high is not None else f">= {low}"
            raise Rejection(
                400, f"{name} must be an integer in {limits}", {"code": "ERR_BAD_INPUT"}
            )
        return int(raw)

    def page_url(self, offset: int, limit: int) -> str:
        query = {**request.args.to_dict(), "offset": str(offset), "limit": str(limit)}
        return f"{request.base_url}?{urlencode(query)}"

    def get_user(self, project_id: str, user_id: str) -> Response:
        return jsonify(self.member(project_id, user_id))

    def update_user(self, project_id: str, user_id: str) -> tuple[Response, int]:
        member = self.member(project_id, user_id)
        changes = {
            key: value for key, value in self.validated(UPDATE_PAYLOAD).items() if key in UPDATABLE
        }
        if "products" in changes:
            changes["products"] = merge_products(member["products"], changes["products"])
        member.update(changes)
        derive(member)
        return jsonify({"id": user_id, **changes}), 201

    def remove_user(self, project_id: str, user_id: str) -> tuple[str, int]:
        self.member(project_id, user_id)
        del self.members[user_id]
        return "", 204
