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
- Batch size: Confide documents no limit on the users of one request, so a request
  carries up to 10,000 (docs/vendors/confide.md, "Limits"): one task for a whole claim
  rather than one a hundred users, each polled. The price is the bisection of a
  whole-request 400: about 2·log2(n) more calls for each bad user.
- Tasks run side by side: every task of a round (the import-users and update-users tasks,
  each chunk of a list longer than :attr:`ConfideClient.max_batch`) is submitted before
  any is polled, and their polls share one schedule (:meth:`HttpVendorClient.poll`), so
  a round waits for its slowest task, not for the sum of them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import partial
from typing import Any

from scimbridge.mapping.context import Action
from scimbridge.vendors.base import DeliveryItem, Outcome, VendorUnavailable
from scimbridge.vendors.http import (
    chunked,
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
class Started:
    """A task Confide accepted, and the sends it carries."""

    kind: str
    task_id: str
    sends: list[Send]


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
    max_batch = 10_000
    """No limit documented; a bound on one request's size (module docstring)."""
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

    def deliver(self, items: list[DeliveryItem]) -> list[Outcome]:
        """Every item in :meth:`deliver_batch` at once, however many: its rounds split their
        sends into tasks of :attr:`max_batch` users and submit all of them before polling."""
        return self.deliver_batch(items)

    def deliver_batch(self, items: list[DeliveryItem]) -> list[Outcome]:
        """Two rounds at most: every item's first call, then the other call for the users
        the first one reported failed; each round's tasks run side by side (:meth:`run`)."""
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
        """Each send's result by item key. Every task is submitted first (one a kind and
        :attr:`max_batch` users, bisected on a 400), then all of them are polled together."""
        rejected: list[Result] = []
        started: list[Started] = []
        for kind in (IMPORT_USERS, UPDATE_USERS):
            for chunk in chunked([send for send in sends if send.kind == kind], self.max_batch):
                sent = send_isolating(chunk, partial(self.start_task, kind))
                rejected += [Result(send, error=str(refusal)) for send, refusal in sent.rejected]
                started += [Started(kind, task_id, batch) for batch, task_id in sent.accepted]
        states = self.wait_for(started)
        found = rejected + [
            result for task in started for result in self.task_results(task, states[task.task_id])
        ]
        return {result.send.item.key: result for result in found}

    def start_task(self, kind: str, sends: list[Send]) -> str:
        answer = json_object(
            self.call("POST", f"{SHARE_SETTING}/{kind}", json=[send.user for send in sends])
        )
        task_id = (answer.get("data") or {}).get("taskId")
        if not task_id:
            raise VendorUnavailable(f"confide: {kind} answered 200 without a taskId")
        return str(task_id)

    @staticmethod
    def task_results(task: Started, state: dict[str, Any]) -> list[Result]:
        failures = failed_emails(state)
        if state.get("status") == "Failed" and not failures:
            reason = state.get("message") or "the task failed"
            error = f"confide: {task.kind} task failed: {reason}"
            return [
                Result(send, error, retryable=True, task_id=task.task_id) for send in task.sends
            ]
        return [
            Result(
                send,
                error=f"confide: {task.kind} refused {send.email}: {failures[send.email.lower()]}",
                reported=True,
                task_id=task.task_id,
            )
            if send.email.lower() in failures
            else Result(send, task_id=task.task_id)
            for send in task.sends
        ]

    def wait_for(self, started: list[Started]) -> dict[str, dict[str, Any]]:
        """Each task's finished state by task id. A round of polls reads every task still
        running; a task read before it finished is read again at the next round.

        :raises VendorUnavailable: when a task is still running after :attr:`max_polls` rounds.
        """
        states: dict[str, dict[str, Any]] = {}

        def running() -> list[Started]:
            return [task for task in started if not task_finished(states.get(task.task_id, {}))]

        def fetch() -> list[Started]:
            for task in running():
                path = f"{SHARE_SETTING}/{task.kind}/{task.task_id}"
                state = json_object(self.call("GET", path)).get("data")
                states[task.task_id] = state if isinstance(state, dict) else {}
            return running()

        if started and self.poll(fetch, lambda left: not left) is None:
            still = ", ".join(f"{task.kind} {task.task_id}" for task in running())
            raise VendorUnavailable(
                f"confide: task(s) {still} still running after {self.max_polls} polls"
            )
        return states


PLUGIN = VendorPlugin.packaged(
    __package__,
    "confide",
    "AvePoint Confide",
    ConfideClient,
    emulator="scimbridge_emulators.confide:ConfideEmulator",
    documentation="docs/vendors/confide.md",
)
"""Registered in pyproject.toml under ``scimbridge.vendors`` (:mod:`scimbridge.vendors.plugin`)."""
