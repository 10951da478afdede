"""AvePoint Confide: privileged users of the share center, through the AvePoint Graph API.

Contract: seed ``avepoint-confide-import-users.md``; vendor-research.md §1
(AvePoint/cloud-api ImportConfideSharingUser, GetConfideImportUsersStatus,
UpdateConfideSharingUser, register-app).

- A user Confide never accepted goes to ``POST {base}/admin/shareSetting/import-users``;
  a known one to ``…/update-users`` (same body). Both answer 200 ``{"data": {"taskId"}}``
  and report per-user failures at ``GET …/{import-users|update-users}/{taskId}``.
- Confide documents no delete and no disable: a DISABLE or REMOVE is an
  update-users with every permission false (vendors.md **assumption**, as the
  mapping file states); the user stays listed in Confide.
- The vendor identity is the email.
- Batch size: Confide documents no limit; 100 users a request follows the
  research's ASSUMPTION (vendor-research.md §1, "Limits"), small enough that a
  whole-request 400 costs little to bisect.
"""

from __future__ import annotations

from typing import Any

from scimbridge.vendors.base import Action, DeliveryItem, Outcome, VendorUnavailable
from scimbridge.vendors.http import (
    compact,
    failed,
    json_object,
    nothing_to_deprovision,
    poll,
    send_isolating,
    succeeded,
)
from scimbridge.vendors.oauth import OAuthClientCredentialsClient

SHARE_SETTING = "/admin/shareSetting"
IMPORT_USERS = "import-users"
UPDATE_USERS = "update-users"
PERMISSIONS = (
    "isShareCoordinator",
    "canConfigureScan",
    "canGenerateAccessCodeLinkInShareCenter",
    "canShareLink",
    "canGenerateUploadLink",
    "canGenerateDownloadLinkInShareCenter",
    "canGenerateUploadLinkInShareCenter",
)
"""The PrivilegedUser permission flags (seed, "PrivilegedUser Properties")."""
NO_PERMISSIONS = {**dict.fromkeys(PERMISSIONS, False), "sendInvitationEmail": False}
FINISHED_STATUSES = frozenset({"Completed", "Failed"})


def task_finished(task: dict[str, Any]) -> bool:
    """Research ASSUMPTION: finished once ``finishTime`` is set or the status is terminal."""
    return bool(task.get("finishTime")) or task.get("status") in FINISHED_STATUSES


def failed_emails(task: dict[str, Any]) -> dict[str, str]:
    """The task's ``items`` (the users who failed) as email → the vendor's reason."""
    found = {}
    for entry in task.get("items") or []:
        if isinstance(entry, dict) and entry.get("email") and not entry.get("success"):
            reason = entry.get("errorMessage") or entry.get("status") or "no reason given"
            found[str(entry["email"]).lower()] = str(reason)
    return found


class ConfideClient(OAuthClientCredentialsClient):
    vendor = "confide"
    max_batch = 100
    token_endpoint_auth_method = "client_secret_post"
    """The AvePoint sample posts client_id and client_secret in the form (register-app.md)."""
    default_scope = "confide.graph.readwrite.all"

    def default_token_url(self) -> str:
        """vendors.md **assumption**: the commercial AvePoint identity service."""
        return "https://identity.avepointonlineservices.com/connect/token"

    def deliver_batch(self, items: list[DeliveryItem]) -> list[Outcome]:
        outcomes: dict[str, Outcome] = {}
        imports, updates = [], []
        for item in items:
            if not item.first_import:
                updates.append(item)
            elif item.action is Action.IMPORT:
                imports.append(item)
            else:
                outcomes[item.key] = nothing_to_deprovision(item)
        outcomes.update(self.run_task(IMPORT_USERS, imports))
        outcomes.update(self.run_task(UPDATE_USERS, updates))
        return [outcomes[item.key] for item in items]

    @staticmethod
    def privileged_user(item: DeliveryItem) -> dict[str, Any]:
        record = compact(item.record)
        return record if item.action is Action.IMPORT else {**record, **NO_PERMISSIONS}

    def run_task(self, kind: str, items: list[DeliveryItem]) -> dict[str, Outcome]:
        if not items:
            return {}
        sent = send_isolating(items, lambda batch: self.start_task(kind, batch))
        outcomes = {item.key: failed(item, str(rejection)) for item, rejection in sent.rejected}
        for batch, task_id in sent.accepted:
            outcomes.update(self.task_outcomes(kind, task_id, batch))
        return outcomes

    def start_task(self, kind: str, items: list[DeliveryItem]) -> str:
        answer = json_object(
            self.call(
                "POST", f"{SHARE_SETTING}/{kind}", json=[self.privileged_user(i) for i in items]
            )
        )
        task_id = (answer.get("data") or {}).get("taskId")
        if not task_id:
            raise VendorUnavailable(f"confide: {kind} answered 200 without a taskId")
        return str(task_id)

    def task_outcomes(
        self, kind: str, task_id: str, items: list[DeliveryItem]
    ) -> dict[str, Outcome]:
        task = self.wait_for(kind, task_id)
        failures = failed_emails(task)
        whole_task_failed = task.get("status") == "Failed" and not failures
        outcomes = {}
        for item in items:
            email = str(item.record.get("email", ""))
            if whole_task_failed:
                reason = task.get("message") or "the task failed"
                outcomes[item.key] = failed(
                    item, f"confide: {kind} task failed: {reason}", retryable=True, taskId=task_id
                )
            elif email.lower() in failures:
                outcomes[item.key] = failed(
                    item,
                    f"confide: {kind} refused {email}: {failures[email.lower()]}",
                    taskId=task_id,
                )
            else:
                outcomes[item.key] = succeeded(item, email, taskId=task_id)
        return outcomes

    def wait_for(self, kind: str, task_id: str) -> dict[str, Any]:
        def fetch() -> dict[str, Any]:
            task = json_object(self.call("GET", f"{SHARE_SETTING}/{kind}/{task_id}")).get("data")
            return task if isinstance(task, dict) else {}

        task = poll(fetch, task_finished, self.poll_interval, self.max_polls)
        if task is None:
            raise VendorUnavailable(
                f"confide: {kind} task {task_id} still running after {self.max_polls} polls"
            )
        return task
