"""The BulkImport User Import API, emulated from its document (README.md, Part 1), not from the client.

A :class:`~scimbridge_emulators.VendorEmulator` subclass: the base class logs
requests, plays the faults tests queue, serialises requests on one lock, checks the
token and counts the rate limit; this module states the vendor's facts and keeps its
state. It is strict where the document is: everything it does not allow is refused
with the document's status and error shape.

- ``POST /oauth/token`` (under the base URL): client credentials by HTTP Basic only;
  a ``client_secret`` in the form is ``401 invalid_client``. Tokens live 900 s
  (``token_ttl_seconds``), carry ``users:read`` and/or ``users:write``.
- 60 requests per rolling 60 s per client (``rate_limit_calls``,
  ``rate_limit_seconds``): every request with a valid token, whatever its answer
  (the base class counts after authenticating, before the view);
  ``X-RateLimit-Limit`` / ``X-RateLimit-Remaining`` on every counted answer,
  ``Retry-After`` on a 429.
- ``POST /users/import`` (JSON ``{"users": [...]}`` or CSV), 1 to ``max_rows`` (500)
  rows, refused whole (422) for one bad row, an ``id`` without ``update: true`` or two
  rows of one email or id; ``202 {"job_id", "status", "row_count"}``.
- Jobs run in the order accepted, ``job_seconds`` after acceptance at the earliest:
  their rows are applied then, not when the 202 is answered (:meth:`catch_up`).
- A row without ``update`` never changes an existing account (``exists``); with
  ``update`` and ``id`` it changes that account or fails ``not_found``; with
  ``update`` and no ``id`` it changes the account of its email, or creates one.
- ``GET /users`` (``email`` / ``id`` filters, 100 values at most; else pages of
  ``limit`` ≤ 200 with an opaque ``cursor``), ``GET /users/{id}``,
  ``DELETE /users/{id}``, ``GET /jobs/{id}`` (results only once completed; 404
  after 24 h).

:meth:`reject_users` (the base control) makes rows of those emails fail ``rejected``;
:meth:`fail_jobs` makes the next jobs fail as a whole, applying nothing.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import json
import math
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar

from flask import Flask, Response, jsonify, request
from jsonschema import Draft202012Validator
from scimbridge_emulators import (
    Bucket,
    Quota,
    QuotaCheck,
    Rejection,
    TokenStatus,
    VendorEmulator,
    same_secret,
)

SCOPES = ("users:read", "users:write")
MAX_ROWS = 500
MAX_BODY_BYTES = 5 * 1024 * 1024
MAX_LOOKUP_VALUES = 100
DEFAULT_PAGE, MAX_PAGE = 50, 200
JOB_LIFETIME_SECONDS = 24 * 3600
EMAIL = r"^[^@\s]+@[^@\s]+$"
TEXT = {"type": "string"}
ROW_PROPERTIES: dict[str, Any] = {
    "email": {**TEXT, "minLength": 3, "maxLength": 254, "pattern": EMAIL},
    "id": {**TEXT, "minLength": 1},
    "update": {"type": "boolean"},
    "first_name": {**TEXT, "maxLength": 100},
    "last_name": {**TEXT, "maxLength": 100},
    "display_name": {**TEXT, "maxLength": 200},
    "external_id": {**TEXT, "maxLength": 255},
    "groups": {"type": "array", "items": {**TEXT, "minLength": 1, "maxLength": 100}},
    "active": {"type": "boolean"},
}
"""A row of an import (README.md, §5's table)."""
ROW_SCHEMA = {"type": "object", "additionalProperties": False, "properties": ROW_PROPERTIES}
ROW_FIELDS = tuple(ROW_PROPERTIES)
BOOLEAN_FIELDS = ("update", "active")
ACCOUNT_FIELDS = ("email", "first_name", "last_name", "display_name", "external_id")
ERROR_CODES = {
    400: "invalid_request",
    401: "invalid_token",
    403: "insufficient_scope",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_many_rows",
    415: "unsupported_media_type",
    422: "validation_failed",
    429: "rate_limited",
    500: "internal_error",
    503: "unavailable",
}
ROW_VALIDATOR = Draft202012Validator(ROW_SCHEMA)


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def problem(row: int | None, field_name: str | None, message: str) -> dict[str, Any]:
    return {"row": row, "field": field_name, "message": message}


def invalid(problems: list[dict[str, Any]]) -> Rejection:
    """The 422 of §3: the first problem in ``message``, all of them in ``errors``."""
    first = problems[0]
    where = f"row {first['row']}: " if first["row"] is not None else ""
    what = f"{first['field']} " if first["field"] else ""
    return Rejection(
        422,
        f"{where}{what}{first['message']}",
        {"code": "validation_failed", "errors": problems},
    )


def cursor_for(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode()


def offset_of(cursor: str) -> int | None:
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    kind, _, number = text.partition(":")
    return int(number) if kind == "o" and number.isdigit() else None


@dataclass
class Job:
    """An accepted import: its rows wait until the job runs (§7)."""

    job_id: str
    rows: list[dict[str, Any]]
    due: float
    """When it may run, on the ``time.monotonic`` clock."""
    accepted: float
    created_at: str = field(default_factory=now_iso)
    status: str = "queued"
    completed_at: str | None = None
    results: list[dict[str, Any]] = field(default_factory=list)

    def document(self) -> dict[str, Any]:
        return {
            "job_id": self.job_id,
            "status": self.status,
            "row_count": len(self.rows),
            "created_at": self.created_at,
            "completed_at": self.completed_at,
            "results": self.results,
        }


class BulkImportEmulator(VendorEmulator):
    vendor = "bulkimport"
    url_prefix = "/api/v1"
    token_ttl_seconds = 900
    public_endpoints = frozenset({"issue_token"})
    demo_credentials: ClassVar[dict[str, str]] = {
        "client_id": "bulkimport-demo-client",
        "client_secret": "bulkimport-demo-secret-4f9a0c",
    }
    rate_limit_options = ("rate_limit_calls", "rate_limit_seconds")

    def __init__(
        self,
        credentials: dict[str, str] | None = None,
        *,
        rate_limit_calls: int = 60,
        rate_limit_seconds: float = 60.0,
        max_rows: int = MAX_ROWS,
        job_seconds: float = 0.2,
        **options: Any,
    ):
        """:param rate_limit_calls: requests per ``rate_limit_seconds`` (rolling) per client.
        :param max_rows: the most rows an import takes (the document: 500).
        :param job_seconds: how long after its 202 a job runs at the earliest; 0: at the
            next request. Never at once: a client must poll."""
        self.quota = Quota(rate_limit_calls, rate_limit_seconds, sliding=True)
        self.max_rows = max_rows
        self.job_seconds = job_seconds
        self.failing_jobs = 0
        super().__init__(credentials, **options)

    # -- state -----------------------------------------------------------------------------------

    def reset_state(self) -> None:
        self.accounts: dict[str, dict[str, Any]] = {}
        """By id, in creation order."""
        self.jobs: dict[str, Job] = {}

    def end_state(self) -> list[dict[str, Any]]:
        return list(self.accounts.values())

    def fail_jobs(self, times: int = 1) -> None:
        """Make the next ``times`` jobs fail as a whole (§7 ``failed``): nothing applied."""
        with self.lock:
            self.failing_jobs += times

    def by_email(self, email: str | None) -> dict[str, Any] | None:
        if not email:
            return None
        wanted = email.lower()
        return next((a for a in self.accounts.values() if a["email"].lower() == wanted), None)

    def catch_up(self) -> None:
        """Run, in the order accepted, every job whose time has come; forget old jobs."""
        now = time.monotonic()
        for job in list(self.jobs.values()):
            if now - job.accepted > JOB_LIFETIME_SECONDS:
                del self.jobs[job.job_id]
                continue
            if job.status in ("completed", "failed"):
                continue
            if job.due > now:
                break  # a job never runs before one accepted earlier
            self.run(job)

    def run(self, job: Job) -> None:
        if self.failing_jobs:
            self.failing_jobs -= 1
            job.status = "failed"
        else:
            job.results = [self.apply(index, row) for index, row in enumerate(job.rows)]
            job.status = "completed"
        job.completed_at = now_iso()

    def apply(self, index: int, row: dict[str, Any]) -> dict[str, Any]:
        """One row's effect and result (§5's table)."""
        email = row.get("email")
        target = self.accounts.get(row["id"]) if "id" in row else None
        shown = email or (target or {}).get("email")
        if self.is_rejected(email, (target or {}).get("email")):
            return self.failure(
                index, row, shown, "rejected", "the tenant's policy refuses this user"
            )
        holder = self.by_email(email)
        if not row.get("update"):
            if holder is not None:
                return self.failure(
                    index, row, shown, "exists", "an account with this email exists"
                )
            return self.result(index, "created", self.create(row))
        if "id" in row:
            if target is None:
                return self.failure(index, row, shown, "not_found", "no account has this id")
            if holder is not None and holder is not target:
                return self.failure(index, row, shown, "exists", "another account has this email")
            return self.result(index, "updated", self.change(target, row))
        if holder is not None:
            return self.result(index, "updated", self.change(holder, row))
        return self.result(index, "created", self.create(row))

    def create(self, row: dict[str, Any]) -> dict[str, Any]:
        stamp = now_iso()
        account: dict[str, Any] = {
            "id": f"usr_{secrets.token_hex(6)}",
            **dict.fromkeys(ACCOUNT_FIELDS),
            "groups": [],
            "active": True,
            "created_at": stamp,
            "updated_at": stamp,
        }
        self.accounts[account["id"]] = account
        return self.change(account, row)

    @staticmethod
    def change(account: dict[str, Any], row: dict[str, Any]) -> dict[str, Any]:
        """The row's fields replace the account's; a field left out stays as it is."""
        for name in (*ACCOUNT_FIELDS, "groups", "active"):
            if name in row:
                account[name] = list(row[name]) if name == "groups" else row[name]
        account["updated_at"] = now_iso()
        return account

    @staticmethod
    def result(index: int, status: str, account: dict[str, Any]) -> dict[str, Any]:
        return {"row": index, "status": status, "id": account["id"], "email": account["email"]}

    @staticmethod
    def failure(
        index: int, row: dict[str, Any], email: str | None, code: str, message: str
    ) -> dict[str, Any]:
        return {
            "row": index,
            "status": "failed",
            "id": row.get("id"),
            "email": email,
            "error": {"code": code, "message": message},
        }

    # -- wiring ----------------------------------------------------------------------------------

    def register_routes(self, app: Flask) -> None:
        self.route(app, "/oauth/token", self.issue_token, ["POST"])
        self.route(app, "/users/import", self.start_import, ["POST"])
        self.route(app, "/jobs/<job_id>", self.job_status, ["GET"])
        self.route(app, "/users", self.list_users, ["GET"])
        self.route(app, "/users/<user_id>", self.get_user, ["GET"])
        self.route(app, "/users/<user_id>", self.delete_user, ["DELETE"])

    def error_body(self, status: int, message: str, extra: dict[str, Any]) -> Any:
        if request.endpoint == "issue_token":
            fallback = "server_error" if status >= 500 else "invalid_request"
            return {"error": extra.get("oauth_error", fallback), "error_description": message}
        body: dict[str, Any] = {
            "code": extra.get("code") or ERROR_CODES.get(status, "error"),
            "message": message,
        }
        if "errors" in extra:
            body["errors"] = extra["errors"]
        return body

    def too_many_requests(self, wait_seconds: float | None) -> str:
        return "rate limit exceeded: 60 requests per 60 seconds per client"

    def rate_limit_bucket(self) -> Bucket:
        return Bucket(f"client {self.credentials['client_id']}", self.quota)

    def quota_headers(self, check: QuotaCheck) -> dict[str, str]:
        headers = {
            "X-RateLimit-Limit": str(check.limit),
            "X-RateLimit-Remaining": str(check.remaining),
        }
        if not check.allowed:
            headers["Retry-After"] = str(max(1, math.ceil(check.wait_seconds)))
        return headers

    # -- authentication (§1) ---------------------------------------------------------------------

    def issue_token(self) -> Response:
        if request.mimetype != "application/x-www-form-urlencoded":
            raise Rejection(
                400, "the body must be form-encoded", {"oauth_error": "invalid_request"}
            )
        if request.form.get("grant_type") != "client_credentials":
            raise Rejection(
                400, "only client_credentials", {"oauth_error": "unsupported_grant_type"}
            )
        unauthorized = {"WWW-Authenticate": 'Basic realm="bulkimport"'}
        if "client_secret" in request.form:
            raise Rejection(
                401,
                "client credentials go in HTTP Basic only",
                {"oauth_error": "invalid_client"},
                unauthorized,
            )
        basic = request.authorization
        if not (
            basic is not None
            and basic.type == "basic"
            and same_secret(basic.username, self.credentials["client_id"])
            and same_secret(basic.password, self.credentials["client_secret"])
        ):
            raise Rejection(
                401,
                "unknown client or wrong secret",
                {"oauth_error": "invalid_client"},
                unauthorized,
            )
        asked = request.form.get("scope", "").split()
        if any(scope not in SCOPES for scope in asked):
            raise Rejection(400, "unknown scope", {"oauth_error": "invalid_scope"})
        scopes = frozenset(asked or SCOPES)
        token = self.tokens.issue(scopes)
        return jsonify(
            {
                "access_token": token.value,
                "token_type": "Bearer",
                "expires_in": math.ceil(self.tokens.ttl_seconds),
                "scope": " ".join(sorted(scopes)),
            }
        )

    def authenticate(self) -> None:
        status, token = self.tokens.check(self.authorization("Bearer"))
        if status is not TokenStatus.VALID or token is None:
            raise Rejection(
                401,
                "missing, unknown or expired token",
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        needed = "users:read" if request.method == "GET" else "users:write"
        if needed not in token.scopes:
            raise Rejection(403, f"the token lacks the scope {needed}")

    # -- import (§5, §6) -------------------------------------------------------------------------

    def start_import(self) -> tuple[Response, int, dict[str, str]]:
        body = request.get_data()
        if len(body) > MAX_BODY_BYTES:
            raise Rejection(413, "the body is over 5 MB", {"code": "payload_too_large"})
        if request.mimetype == "application/json":
            rows = self.json_rows(body)
        elif request.mimetype == "text/csv":
            rows = self.csv_rows(body)
        else:
            raise Rejection(415, "Content-Type must be application/json or text/csv")
        if not rows:
            raise invalid([problem(None, "users", "at least one row is required")])
        if len(rows) > self.max_rows:
            raise Rejection(413, f"at most {self.max_rows} rows a request")
        problems = [found for index, row in enumerate(rows) for found in self.check(index, row)]
        problems += self.duplicates(rows)
        if problems:
            raise invalid(problems)
        job = Job(
            job_id=f"job_{secrets.token_hex(4)}",
            rows=rows,
            due=time.monotonic() + self.job_seconds,
            accepted=time.monotonic(),
        )
        self.jobs[job.job_id] = job
        location = f"{request.host_url.rstrip('/')}{self.url_prefix}/jobs/{job.job_id}"
        answer = {"job_id": job.job_id, "status": job.status, "row_count": len(rows)}
        return jsonify(answer), 202, {"Location": location}

    @staticmethod
    def json_rows(body: bytes) -> list[Any]:
        try:
            document = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise Rejection(400, "the body is not valid JSON") from None
        if not isinstance(document, dict) or not isinstance(document.get("users"), list):
            raise invalid([problem(None, "users", 'the body must be {"users": [...]}')])
        extra = sorted(set(document) - {"users"})
        if extra:
            raise invalid([problem(None, extra[0], "is not a field of the import")])
        return list(document["users"])

    @staticmethod
    def csv_rows(body: bytes) -> list[Any]:
        charset = request.mimetype_params.get("charset", "utf-8").lower()
        if charset not in ("utf-8", "utf8"):
            raise Rejection(415, "CSV must be UTF-8")
        try:
            lines = list(csv.reader(io.StringIO(body.decode("utf-8"), newline=""), strict=True))
        except (UnicodeDecodeError, csv.Error) as error:
            raise Rejection(400, f"the body is not CSV: {error}") from None
        if not lines:
            raise Rejection(400, "the CSV has no header")
        header, records = lines[0], [line for line in lines[1:] if line]
        problems = [
            problem(None, column, "is not a column of the import")
            for column in header
            if column not in ROW_FIELDS
        ]
        problems += [
            problem(None, column, "is repeated")
            for column in sorted(set(header))
            if header.count(column) > 1
        ]
        if problems:
            raise invalid(problems)
        rows: list[Any] = []
        for index, record in enumerate(records):
            if len(record) != len(header):
                raise invalid([problem(index, None, f"has {len(record)} cells, not {len(header)}")])
            rows.append(csv_row(index, dict(zip(header, record, strict=True))))
        return rows

    @staticmethod
    def check(index: int, row: Any) -> list[dict[str, Any]]:
        """The row's problems: its fields (§5's table), and its email and id rules."""
        problems = [
            problem(index, ".".join(map(str, error.absolute_path)) or None, error.message)
            for error in ROW_VALIDATOR.iter_errors(row)
        ]
        if problems or not isinstance(row, dict):
            return problems
        if "id" in row and row.get("update") is not True:
            problems.append(problem(index, "id", "is only accepted with update: true"))
        if "email" not in row and not ("id" in row and row.get("update") is True):
            problems.append(problem(index, "email", "is required"))
        return problems

    @staticmethod
    def duplicates(rows: list[Any]) -> list[dict[str, Any]]:
        problems: list[dict[str, Any]] = []
        seen: dict[tuple[str, str], int] = {}
        for index, row in enumerate(rows):
            if not isinstance(row, dict):
                continue
            for name in ("email", "id"):
                value = row.get(name)
                if not isinstance(value, str):
                    continue
                key = (name, value.lower() if name == "email" else value)
                if key in seen:
                    problems.append(problem(index, name, f"is also in row {seen[key]}"))
                else:
                    seen[key] = index
        return problems

    # -- jobs (§7) -------------------------------------------------------------------------------

    def job_status(self, job_id: str) -> Response:
        job = self.jobs.get(job_id)
        if job is None:
            raise Rejection(404, f"no job {job_id}")
        document = job.document()
        if job.status == "queued" and self.first_pending() is job:
            document["status"] = "running"
        return jsonify(document)

    def first_pending(self) -> Job | None:
        return next((j for j in self.jobs.values() if j.status == "queued"), None)

    # -- users (§4) ------------------------------------------------------------------------------

    def account(self, user_id: str) -> dict[str, Any]:
        found = self.accounts.get(user_id)
        if found is None:
            raise Rejection(404, f"no account {user_id}")
        return found

    def list_users(self) -> Response:
        emails, ids = request.args.getlist("email"), request.args.getlist("id")
        if len(emails) + len(ids) > MAX_LOOKUP_VALUES:
            raise Rejection(400, f"at most {MAX_LOOKUP_VALUES} email and id values a request")
        if emails or ids:
            wanted = {email.lower() for email in emails}
            found = [
                account
                for account in self.accounts.values()
                if account["email"].lower() in wanted or account["id"] in ids
            ]
            return jsonify({"users": found, "next_cursor": None})
        limit, offset = self.page_size(), self.page_offset()
        every = list(self.accounts.values())
        following = offset + limit
        return jsonify(
            {
                "users": every[offset:following],
                "next_cursor": cursor_for(following) if following < len(every) else None,
            }
        )

    @staticmethod
    def page_size() -> int:
        raw = request.args.get("limit")
        if raw is None:
            return DEFAULT_PAGE
        if not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE:
            raise Rejection(400, f"limit must be a whole number from 1 to {MAX_PAGE}")
        return int(raw)

    @staticmethod
    def page_offset() -> int:
        cursor = request.args.get("cursor")
        if cursor is None:
            return 0
        offset = offset_of(cursor)
        if offset is None:
            raise Rejection(400, "the cursor was not issued by this service")
        return offset

    def get_user(self, user_id: str) -> Response:
        return jsonify(self.account(user_id))

    def delete_user(self, user_id: str) -> tuple[str, int]:
        self.account(user_id)
        del self.accounts[user_id]
        return "", 204


def csv_row(index: int, cells: dict[str, str]) -> dict[str, Any]:
    """A CSV line as a row (§6): an empty cell is a field left out, except ``groups``,
    where it is the empty list; booleans are ``true`` or ``false``."""
    row: dict[str, Any] = {}
    for name, cell in cells.items():
        if name == "groups":
            row[name] = cell.split(";") if cell else []
        elif cell == "":
            continue
        elif name in BOOLEAN_FIELDS:
            if cell not in ("true", "false"):
                raise invalid([problem(index, name, "must be true or false")])
            row[name] = cell == "true"
        else:
            row[name] = cell
    return row
