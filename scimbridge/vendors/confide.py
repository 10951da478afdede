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
  first import is repeated) is updated instead, unless another user of the
  bridge holds that address (docs/architecture.md, "the same person"). A known user is
  updated; one the task reports failed (removed in Confide since) is imported.
  The client never reads the failure's wording.
- An email change (the record's address differs from the known one) revokes the
  old address (update-users, every permission false, no invitation) and
  delivers the new one as above; the new address is the vendor id.
- Confide documents no delete and no disable: a DISABLE or REMOVE is an
  update-users of the known address (or, for a user the bridge never learnt an
  address of, the record's, unless another user of the bridge holds it) with
  every permission false (docs/vendors/confide.md **assumption**, as the mapping file
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
    revoke: bool = False
    """The old address of an email change, whose result does not name the item's vendor id."""

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
    token_endpoint_auth_method = "client_secret_post"
    """The AvePoint sample posts client_id and client_secret in the form (register-app.md)."""
    default_scope = "confide.graph.readwrite.all"

    def default_token_url(self) -> str:
        """docs/vendors/confide.md **assumption**: the commercial AvePoint identity service."""
        return "https://identity.avepointonlineservices.com/connect/token"

    def deliver_batch(self, items: list[DeliveryItem]) -> list[Outcome]:
        """At most two rounds of (at most) two tasks: every item's first call, then the other
        call for the users the first one reported failed."""
        planned = {item.key: self.plan(item) for item in items}
        outcomes = {key: plan for key, plan in planned.items() if isinstance(plan, Outcome)}
        first = self.run(
            [send for plan in planned.values() if isinstance(plan, list) for send in plan]
        )
        others = [other for result in first.values() if (other := self.other_call(result))]
        outcomes.update({other.key: other for other in others if isinstance(other, Outcome)})
        second = self.run([other for other in others if isinstance(other, Send)])
        for item in items:
            if item.key not in outcomes:
                outcomes[item.key] = self.outcome(item, first, second)
        return [outcomes[item.key] for item in items]

    def plan(self, item: DeliveryItem) -> list[Send] | Outcome:
        """The item's first call(s), or its outcome when it needs none."""
        known = known_address(item)
        email = str(item.record.get("email") or known)
        if item.action is not Action.IMPORT:
            if known is None and self.unclaimed(item, email, f"the address {email}"):
                return nothing_to_deprovision(item)
            return [Send(item, UPDATE_USERS, revoked(known or email))]
        record = compact(item.record)
        if known is None:
            return [Send(item, IMPORT_USERS, record)]
        if known.lower() == email.lower():
            return [Send(item, UPDATE_USERS, {**record, "email": known})]
        return [
            Send(item, UPDATE_USERS, revoked(known), revoke=True),
            Send(item, IMPORT_USERS, record),
        ]

    def other_call(self, result: Result) -> Send | Outcome | None:
        """For an IMPORT the task reported failed, the call that may succeed: an update of an
        address Confide has already (unless another user of the bridge holds it, docs/architecture.md
        "the same person"), or an import of a known address Confide no longer has."""
        send = result.send
        if not result.reported or send.revoke or send.item.action is not Action.IMPORT:
            return None
        if send.kind == UPDATE_USERS:
            return replace(send, kind=IMPORT_USERS)
        conflict = self.unclaimed(send.item, send.email, f"the address {send.email}")
        invited_before = {
            key: value for key, value in send.user.items() if key != "sendInvitationEmail"
        }
        return conflict or replace(send, kind=UPDATE_USERS, user=invited_before)

    @staticmethod
    def outcome(
        item: DeliveryItem,
        first: dict[tuple[str, bool], Result],
        second: dict[tuple[str, bool], Result],
    ) -> Outcome:
        """The item's outcome from its last attempt, and from the revocation of its old
        address (which fails the item only when Confide did not report the address unknown)."""
        attempts = [
            results[(item.key, False)]
            for results in (first, second)
            if (item.key, False) in results
        ]
        last, revoke = attempts[-1], first.get((item.key, True))
        details: dict[str, Any] = {"taskId": last.task_id} if last.task_id else {}
        if revoke is not None and not revoke.ok and not revoke.reported:
            return failed(item, str(revoke.error), retryable=revoke.retryable, **details)
        if last.ok:
            return succeeded(item, last.send.email, **details)
        if item.action is not Action.IMPORT and last.reported:
            return nothing_to_deprovision(item)
        error = "; ".join(str(attempt.error) for attempt in attempts)
        return failed(item, error, retryable=last.retryable, **details)

    # -- tasks -----------------------------------------------------------------------------------

    def run(self, sends: list[Send]) -> dict[tuple[str, bool], Result]:
        """Each send's result by (item key, revoke): one task a kind, bisected on a 400."""
        results: dict[tuple[str, bool], Result] = {}
        for kind in (IMPORT_USERS, UPDATE_USERS):
            batch = [send for send in sends if send.kind == kind]
            if not batch:
                continue
            sent = send_isolating(batch, partial(self.start_task, kind))
            found = [Result(send, error=str(rejection)) for send, rejection in sent.rejected]
            for accepted, task_id in sent.accepted:
                found += self.task_results(kind, task_id, accepted)
            results.update({(r.send.item.key, r.send.revoke): r for r in found})
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
