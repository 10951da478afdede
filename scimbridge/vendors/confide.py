"""AvePoint Confide: privileged users of the share center, through the AvePoint Graph API.

Contract: AvePoint's "Import Confide Sharing Users" reference and the rest of AvePoint's Graph API
documentation (learn.avepoint.com; source ``AvePoint/cloud-api``: ImportConfideSharingUser,
GetConfideImportUsersStatus, UpdateConfideSharingUser, register-app).

- ``POST {base}/admin/shareSetting/import-users`` creates users and
  ``…/update-users`` changes them (same body). Both answer 200
  ``{"data": {"taskId"}}`` and report per-user failures at
  ``GET …/{import-users|update-users}/{taskId}`` (polled until finished).
- The vendor identity is the email Confide has: the stored vendor id, else the
  email of the record Confide last accepted (``DeliveryItem.previous``).
  Updates and deprovisions go to that address, not to the record's.
- Idempotency: Confide has no list or get-user call (none in AvePoint's
  Graph API documentation), so the other call is the lookup. A user without a known
  address is imported; one the task reports failed (it exists already, when a
  first import is repeated) is updated instead: the worker reserved the address for
  the user before the call (:mod:`scimbridge.delivery.identity`). A known user is
  updated; one the task reports failed (removed in Confide since) is imported.
  The client never reads the failure's wording.
- An email change is a new Confide user: the worker revokes the old address first
  (``on_identity_change: replace``, as ``on_deactivate`` does), then imports the new one.
- Confide documents no delete and no disable: a DISABLE or REMOVE is an
  update-users of the known address (or, for a user the bridge never learnt an
  address of, the record's) with every permission false (docs/vendors/confide.md **assumption**, as the mapping file
  states); the user stays listed in Confide. A task that reports it failed
  means Confide has no such user: nothing to deprovision (ASSUMPTION: the only
  per-user failures of an update are an unknown or malformed address).
- Batch size: Confide documents no limit; 100 users a request follows the
  ASSUMPTION of docs/vendors/confide.md ("Limits"), small enough that a
  whole-request 400 costs little to bisect.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import partial
from typing import Any

from scimbridge.mapping.context import Action
from scimbridge.vendors.base import DeliveryItem, Outcome, VendorUnavailable
from scimbridge.vendors.http import (
    compact,
    failed,
    json_object,
    nothing_to_deprovision,
    send_isolating,
    succeeded,
)
from scimbridge.vendors.oauth import OAuthClientCredentialsClient
from scimbridge.vendors.plugin import VendorPlugin

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
"""The PrivilegedUser permission flags (AvePoint's "Import Confide Sharing Users", "PrivilegedUser Properties")."""
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


def known_address(item: DeliveryItem) -> str | None:
    """The email Confide has for this user, if the bridge learnt it."""
    return item.vendor_id or (item.previous or {}).get("email")


def revoked(email: str) -> dict[str, Any]:
    return {"email": email, **NO_PERMISSIONS}


@dataclass(frozen=True)
class Send:
    """One PrivilegedUser an item sends in an import-users or update-users task."""

    item: DeliveryItem
    kind: str
    user: dict[str, Any]

    @property
    def email(self) -> str:
        return str(self.user["email"])


@dataclass(frozen=True)
class Result:
    """What Confide made of one :class:`Send`."""

    send: Send
    error: str | None = None
    reported: bool = False
    """The task listed this user as failed: the other call may succeed where this one did not."""
    retryable: bool = False
    task_id: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


class ConfideClient(OAuthClientCredentialsClient):
    vendor = "confide"
    max_batch = 100
    rate_limits = ()
    """None documented (AvePoint's Graph API documentation: a 429 shows only in the Elements API
    docs); a 429 is retried after its ``Retry-After`` like any unavailability."""
    account_keys = frozenset({"email"})
    token_endpoint_auth_method = "client_secret_post"
    """The AvePoint sample posts client_id and client_secret in the form (register-app.md)."""
    default_scope = "confide.graph.readwrite.all"

    def default_token_url(self) -> str:
        """docs/vendors/confide.md **assumption**: the commercial AvePoint identity service."""
        return "https://identity.avepointonlineservices.com/connect/token"

    def deliver_batch(self, items: list[DeliveryItem]) -> list[Outcome]:
        """At most two rounds of (at most) two tasks: every item's first call, then the other
        call for the users the first one reported failed."""
        first = self.run([self.first_call(item) for item in items])
        second = self.run(
            [other for result in first.values() if (other := self.other_call(result))]
        )
        return [self.outcome(item, first[item.key], second.get(item.key)) for item in items]

    @staticmethod
    def first_call(item: DeliveryItem) -> Send:
        """An import of a user without a known address; an update of the known one; a
        deprovision revokes every permission of the known address (else the record's)."""
        known = known_address(item)
        if item.action is not Action.IMPORT:
            return Send(item, UPDATE_USERS, revoked(known or str(item.record.get("email"))))
        record = compact(item.record)
        if known is None:
            return Send(item, IMPORT_USERS, record)
        return Send(item, UPDATE_USERS, {**record, "email": known})

    @staticmethod
    def other_call(result: Result) -> Send | None:
        """For an IMPORT the task reported failed, the call that may succeed: an update of an
        address Confide has already, or an import of a known address Confide no longer has."""
        send = result.send
        if not result.reported or send.item.action is not Action.IMPORT:
            return None
        if send.kind == UPDATE_USERS:
            return replace(send, kind=IMPORT_USERS)
        invited_before = {
            key: value for key, value in send.user.items() if key != "sendInvitationEmail"
        }
        return replace(send, kind=UPDATE_USERS, user=invited_before)

    @staticmethod
    def outcome(item: DeliveryItem, first: Result, second: Result | None) -> Outcome:
        """The item's outcome from its last attempt: a deprovision Confide reports failed had
        no such user to deprovision."""
        last = second or first
        details: dict[str, Any] = {"taskId": last.task_id} if last.task_id else {}
        if last.ok:
            return succeeded(item, last.send.email, **details)
        if item.action is not Action.IMPORT and last.reported:
            return nothing_to_deprovision(item)
        error = "; ".join(str(attempt.error) for attempt in (first, second) if attempt)
        return failed(item, error, retryable=last.retryable, **details)

    # -- tasks -----------------------------------------------------------------------------------

    def run(self, sends: list[Send]) -> dict[str, Result]:
        """Each send's result by item key: one task a kind, bisected on a 400."""
        results: dict[str, Result] = {}
        for kind in (IMPORT_USERS, UPDATE_USERS):
            batch = [send for send in sends if send.kind == kind]
            if not batch:
                continue
            sent = send_isolating(batch, partial(self.start_task, kind))
            found = [Result(send, error=str(rejection)) for send, rejection in sent.rejected]
            for accepted, task_id in sent.accepted:
                found += self.task_results(kind, task_id, accepted)
            results.update({result.send.item.key: result for result in found})
        return results

    def start_task(self, kind: str, sends: list[Send]) -> str:
        answer = json_object(
            self.call("POST", f"{SHARE_SETTING}/{kind}", json=[send.user for send in sends])
        )
        task_id = (answer.get("data") or {}).get("taskId")
        if not task_id:
            raise VendorUnavailable(f"confide: {kind} answered 200 without a taskId")
        return str(task_id)

    def task_results(self, kind: str, task_id: str, sends: list[Send]) -> list[Result]:
        task = self.wait_for(kind, task_id)
        failures = failed_emails(task)
        if task.get("status") == "Failed" and not failures:
            reason = task.get("message") or "the task failed"
            error = f"confide: {kind} task failed: {reason}"
            return [Result(send, error, retryable=True, task_id=task_id) for send in sends]
        return [
            Result(
                send,
                error=f"confide: {kind} refused {send.email}: {failures[send.email.lower()]}",
                reported=True,
                task_id=task_id,
            )
            if send.email.lower() in failures
            else Result(send, task_id=task_id)
            for send in sends
        ]

    def wait_for(self, kind: str, task_id: str) -> dict[str, Any]:
        def fetch() -> dict[str, Any]:
            task = json_object(self.call("GET", f"{SHARE_SETTING}/{kind}/{task_id}")).get("data")
            return task if isinstance(task, dict) else {}

        task = self.poll(fetch, task_finished)
        if task is None:
            raise VendorUnavailable(
                f"confide: {kind} task {task_id} still running after {self.max_polls} polls"
            )
        return task


PLUGIN = VendorPlugin.packaged(
    __package__,
    "confide",
    "AvePoint Confide",
    ConfideClient,
    emulator="scimbridge_emulators.confide:ConfideEmulator",
    documentation="docs/vendors/confide.md",
)
"""Registered in pyproject.toml under ``scimbridge.vendors`` (:mod:`scimbridge.vendors.plugin`)."""
