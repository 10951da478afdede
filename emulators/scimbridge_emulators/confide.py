"""AvePoint Confide: the share-center user import of the AvePoint Graph API.

Contract: AvePoint's "Import Confide Sharing Users" reference and the rest of AvePoint's Graph API
documentation (learn.avepoint.com; AvePoint/cloud-api docs ImportConfideSharingUser, GetConfideImportUsersStatus,
UpdateConfideSharingUser, register-app).

- ``POST /connect/token`` (at the host root, as the AvePoint identity service's
  IdentityServer path): OAuth 2 client credentials, form-encoded, the client
  authenticated by ``client_secret_post`` (the AvePoint sample) or
  ``client_secret_basic`` (authlib's default); scope ``confide.graph.readwrite.all``.
  Errors follow RFC 6749 §5.2 (``{"error": "invalid_client"}``, 400: assumption).
- ``POST /confide/admin/shareSetting/import-users`` and ``…/update-users``: a JSON
  array of PrivilegedUser, ``email`` required, eight optional booleans. 200
  ``{"data": {"taskId"}}``; the task is read at ``…/{taskId}``.
- Errors: ``{"traceId", "error", "statusCode"}`` with 400/401/500.

Assumptions (not documented by AvePoint): a task answers
``InProgress`` for :attr:`async_polls` polls, then ``Completed``; ``items`` lists
the failed users; an unknown task id is a 400; an empty array is a 400.

Readings where the documents are silent, each the less convenient for a client:

- import-users of an email that is already a privileged user does **not** change
  that user, and the task reports it failed (``"The user already exists."``):
  Confide documents a separate update-users that "changes permissions of
  existing users", so a client must use it rather than re-import.
- update-users of an email that is not a privileged user fails that user
  (``"The user does not exist."``) rather than creating it.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar, cast
from urllib.parse import unquote

from flask import Flask, Response, jsonify, request

from scimbridge_emulators.base import Rejection, VendorEmulator
from scimbridge_emulators.state import TokenStatus, same_secret
from scimbridge_emulators.validation import BOOLEAN, string, violations

SCOPE = "confide.graph.readwrite.all"

PERMISSIONS = (
    "isShareCoordinator",
    "canConfigureScan",
    "canGenerateAccessCodeLinkInShareCenter",
    "canShareLink",
    "canGenerateUploadLink",
    "canGenerateDownloadLinkInShareCenter",
    "canGenerateUploadLinkInShareCenter",
)
"""The permission flags of a PrivilegedUser (AvePoint's "Import Confide Sharing Users", "PrivilegedUser Properties")."""

PRIVILEGED_USERS = {
    "type": "array",
    "minItems": 1,
    "items": {
        "type": "object",
        "required": ["email"],
        "properties": {
            "email": string(minLength=1),
            "sendInvitationEmail": BOOLEAN,
            **{flag: BOOLEAN for flag in PERMISSIONS},
        },
    },
}


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Task:
    """An import-users or update-users task, as its status endpoint reports it."""

    kind: str
    total: int
    failed: list[dict[str, Any]]
    polls_left: int
    task_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    start_time: str = field(default_factory=now_iso)
    finish_time: str | None = None

    def poll(self) -> dict[str, Any]:
        if self.polls_left > 0:
            self.polls_left -= 1
            return self._status("InProgress", processed=0, items=[], message="Task is running.")
        self.finish_time = self.finish_time or now_iso()
        return self._status(
            "Completed", processed=self.total, items=self.failed, message="Task finished."
        )

    def _status(
        self, status: str, processed: int, items: list[dict[str, Any]], message: str
    ) -> dict[str, Any]:
        finished = status == "Completed"
        return {
            "taskId": self.task_id,
            "status": status,
            "totalCount": self.total,
            "processedCount": processed,
            "failedCount": len(items),
            "items": items,
            "message": message,
            "startTime": self.start_time,
            "finishTime": self.finish_time if finished else None,
        }


def failed_item(email: str, message: str) -> dict[str, Any]:
    return {"email": email, "success": False, "status": "Failed", "errorMessage": message}


class ConfideEmulator(VendorEmulator):
    vendor = "confide"
    demo_port = 9101
    url_prefix = "/confide"
    token_ttl_seconds = 3600
    public_endpoints = frozenset({"issue_token"})
    unsupported_media_status = 400
    """Confide documents only 400, 401 and 500."""
    demo_credentials: ClassVar[dict[str, str]] = {
        "client_id": "confide-demo-client",
        "client_secret": "confide-demo-secret",
        "token_url": "/connect/token",
        "scope": SCOPE,
    }

    def reset_state(self) -> None:
        self.privileged_users: dict[str, dict[str, Any]] = {}
        self.tasks: dict[str, Task] = {}

    def end_state(self) -> list[dict[str, Any]]:
        return list(self.privileged_users.values())

    def register_routes(self, app: Flask) -> None:
        app.add_url_rule("/connect/token", view_func=self.issue_token, methods=["POST"])
        self.route(app, "/admin/shareSetting/import-users", self.start_import, ["POST"])
        self.route(app, "/admin/shareSetting/update-users", self.start_update, ["POST"])
        self.route(
            app,
            "/admin/shareSetting/<any('import-users', 'update-users'):kind>/<task_id>",
            self.task_status,
            ["GET"],
        )

    # -- authentication --------------------------------------------------------------------------

    def error_body(self, status: int, message: str, extra: dict[str, Any]) -> Any:
        if request.endpoint == "issue_token":
            fallback = "server_error" if status >= 500 else "invalid_request"
            return {"error": extra.get("oauth_error", fallback)}
        return {"traceId": str(uuid.uuid4()), "error": message, "statusCode": status}

    def client_credentials(self) -> tuple[str | None, str | None]:
        """client_secret_basic (RFC 6749 §2.3.1, form-urlencoded parts) or client_secret_post."""
        encoded = self.authorization("Basic")
        if encoded:
            try:
                client_id, _, secret = base64.b64decode(encoded).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                return None, None
            return unquote(client_id), unquote(secret)
        return request.form.get("client_id"), request.form.get("client_secret")

    def issue_token(self) -> Response:
        if request.mimetype != "application/x-www-form-urlencoded":
            raise Rejection(400, "form", {"oauth_error": "invalid_request"})
        if request.form.get("grant_type") != "client_credentials":
            raise Rejection(400, "grant", {"oauth_error": "unsupported_grant_type"})
        client_id, secret = self.client_credentials()
        if not (
            same_secret(client_id, self.credentials["client_id"])
            and same_secret(secret, self.credentials["client_secret"])
        ):
            raise Rejection(400, "client", {"oauth_error": "invalid_client"})
        scopes = frozenset(request.form.get("scope", "").split())
        if SCOPE not in scopes:
            raise Rejection(400, "scope", {"oauth_error": "invalid_scope"})
        token = self.tokens.issue(scopes)
        return jsonify(
            {
                "access_token": token.value,
                "token_type": "Bearer",
                "expires_in": int(self.tokens.ttl_seconds),
                "scope": SCOPE,
            }
        )

    def authenticate(self) -> None:
        status, _ = self.tokens.check(self.authorization("Bearer"))
        if status is not TokenStatus.VALID:
            raise Rejection(401, "Unauthorized")

    # -- import and update -----------------------------------------------------------------------

    def privileged_user_list(self) -> list[dict[str, Any]]:
        users = self.json_body()
        problems = violations(PRIVILEGED_USERS, users)
        if problems:
            raise Rejection(400, str(problems[0]))
        return cast(list[dict[str, Any]], users)  # valid against an array of objects

    def start_import(self) -> Response:
        return self.start_task("import-users", self.privileged_user_list(), self.import_one)

    def start_update(self) -> Response:
        return self.start_task("update-users", self.privileged_user_list(), self.update_one)

    def start_task(
        self, kind: str, users: list[dict[str, Any]], apply: Callable[[dict[str, Any]], str | None]
    ) -> Response:
        failed = []
        for user in users:
            problem = self.rejection_of(user["email"]) or apply(user)
            if problem:
                failed.append(failed_item(user["email"], problem))
        task = Task(kind, total=len(users), failed=failed, polls_left=self.async_polls)
        self.tasks[task.task_id] = task
        return jsonify({"data": {"taskId": task.task_id}})

    def rejection_of(self, email: str) -> str | None:
        if "@" not in email:
            return "Invalid email format."
        if self.is_rejected(email):
            return "The user cannot be imported."
        return None

    def import_one(self, user: dict[str, Any]) -> str | None:
        """A new privileged user; an existing one is left alone and fails (module docstring)."""
        key = user["email"].lower()
        if key in self.privileged_users:
            return "The user already exists."
        self.privileged_users[key] = {"email": user["email"], **dict.fromkeys(PERMISSIONS, False)}
        self.set_permissions(key, user)
        return None

    def update_one(self, user: dict[str, Any]) -> str | None:
        """New permissions for an existing privileged user; an unknown one fails."""
        key = user["email"].lower()
        if key not in self.privileged_users:
            return "The user does not exist."
        self.set_permissions(key, user)
        return None

    def set_permissions(self, key: str, user: dict[str, Any]) -> None:
        """The flags the request carries replace the user's; the others stay."""
        self.privileged_users[key].update(
            {flag: user[flag] for flag in PERMISSIONS if flag in user}
        )

    def task_status(self, kind: str, task_id: str) -> Response:
        task = self.tasks.get(task_id)
        if task is None or task.kind != kind:
            raise Rejection(400, f"Task {task_id} was not found.")
        return jsonify({"data": task.poll()})
