"""The client of the BulkImport User Import API (README.md, Part 1: the vendor's document).

- Token: OAuth 2 client credentials at ``{base}/oauth/token`` (``credentials.token_url``
  overrides it), HTTP Basic only, scope ``users:read users:write``; tokens expire
  after 15 minutes and are fetched anew (:class:`~scimbridge.vendors.OAuthClientCredentialsClient`).
- IMPORT: ``POST {base}/users/import`` with up to 500 rows (JSON, or CSV with
  ``options.format: csv``), answered 202 with a job, polled at ``GET {base}/jobs/{id}``
  until it completes; the job's per-row results are the outcomes.
- A user the bridge never delivered is imported **without** ``update``, so the vendor
  answers ``exists`` rather than changing an account nobody checked. On ``exists``
  the email is looked up (``GET {base}/users?email=``) and the account becomes the
  user's (the row sent again with its ``id`` and ``update: true``): the email is the
  account key (:attr:`BulkImportClient.account_keys`), which the bridge reserved for
  this user before the call, so a first import repeated after a timeout ends with one
  account, and a new person never inherits a former user's.
- A known user is imported with its ``id`` and ``update: true``; an account gone at
  the vendor (``not_found``) is imported afresh, as above. Groups replace the
  account's, so when the record manages groups the account is read first and the
  groups the mapping does not manage are kept (:func:`~scimbridge.vendors.merge_managed`).
- DISABLE: the row ``{id, update: true, active: false}``; without a stored id the
  account is looked up by email; only the vendor's "no such
  account" means nothing to deprovision. REMOVE: ``DELETE {base}/users/{id}``.
- 60 requests a minute, paced (:attr:`BulkImportClient.rate_limits`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import requests

from scimbridge.vendors import (
    Action,
    DeliveryItem,
    OAuthClientCredentialsClient,
    Outcome,
    RateLimit,
    Setting,
    Settings,
    Target,
    VendorUnavailable,
    chunked,
    compact,
    failed,
    json_object,
    merge_managed,
    nothing_to_deprovision,
    polling,
    postponed,
    send_isolating,
    succeeded,
)

IMPORT = "/users/import"
USERS = "/users"
FORMATS = ("json", "csv")
LOOKUP_VALUES = 100
"""The most ``email`` and ``id`` values one ``GET /users`` takes (§4)."""
MAX_ROUNDS = 3
"""Import rounds per batch: the import, the take-over of existing accounts (or a fresh
import of accounts gone), and once more for an account that changed in between."""
CSV_COLUMNS = (
    "id",
    "update",
    "email",
    "first_name",
    "last_name",
    "display_name",
    "external_id",
    "groups",
    "active",
)
"""Every row field (§5), in the order a CSV header lists them."""
FINISHED = frozenset({"completed", "failed"})


def email_of(item: DeliveryItem) -> str:
    """The account's email: the record's, else the one the vendor last accepted."""
    return str(item.record.get("email") or (item.previous or {}).get("email") or "").lower()


def csv_cell(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ";".join(str(part) for part in value)
    return str(value)


def to_csv(rows: list[dict[str, Any]]) -> str:
    """The rows as the CSV of §6. Every row must have the same fields: an absent cell
    would mean something else in ``groups`` (an empty list)."""
    columns = [name for name in CSV_COLUMNS if name in rows[0]]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([csv_cell(row[name]) for name in columns])
    return buffer.getvalue()


@dataclass(frozen=True)
class Row:
    """One item's row of an import."""

    item: DeliveryItem
    body: dict[str, Any]

    @property
    def addressed(self) -> bool:
        """Whether the row names an account by ``id`` (and so may only update it)."""
        return "id" in self.body


@dataclass
class Accounts:
    """Accounts the vendor showed, by id and by lower-case email."""

    by_id: dict[str, dict[str, Any]] = field(default_factory=dict)
    by_email: dict[str, dict[str, Any]] = field(default_factory=dict)


class BulkImportClient(OAuthClientCredentialsClient):
    """Delivers users as rows of asynchronous import jobs (module docstring)."""

    vendor = "bulkimport"
    max_batch = 500
    """"1 to 500 rows a request" (§5)."""
    unique_fields = frozenset({"email"})
    """The email is unique in the tenant and can be looked up, so a mapping may choose it
    with ``first_available``."""
    account_keys = frozenset({"email"})
    """The email is the account's key: the bridge gives one email to one user."""
    token_endpoint_auth_method = "client_secret_basic"
    """"The client authenticates with HTTP Basic only" (§1)."""
    default_scope = "users:read users:write"
    rate_limits = (RateLimit("api", 60, 60.0),)
    """"60 requests per client per rolling 60 seconds", every call but the token's (§2):
    the token comes from authlib, outside :meth:`call`, so it is not paced."""
    settings = (
        OAuthClientCredentialsClient.settings
        # "Poll, no more often than every 2 seconds" (§7); each poll costs a request of the 60 a minute
        + polling(interval_seconds=3.0, polls=100)
        + Settings(
            options=(Setting("format", "How rows are sent: json or csv (§4).", default="json"),)
        )
    )
    """What a target of this vendor configures (the OAuth client's credentials, the polls,
    the format): any other key is refused when the configuration is read."""

    def __init__(self, target: Target, http: requests.Session | None = None):
        super().__init__(target, http)
        format_ = self.option("format")
        if format_ not in FORMATS:
            raise ValueError(f"target {target.name}: options.format must be json or csv")
        self.format: str = format_
        # authlib renews an expired token itself inside every request (ensure_active_token),
        # from this URL: without it, a token living less than the 60 s leeway (a tenant's
        # short tokens, the contract's 1 s) makes every call fail on a URL of None.
        self.oauth.metadata["token_endpoint"] = self.token_url

    def default_token_url(self) -> str:
        return f"{self.base_url}/oauth/token"

    # -- delivery --------------------------------------------------------------------------------

    def deliver_batch(self, items: list[DeliveryItem]) -> list[Outcome]:
        """Removals one by one (DELETE), then every import and deactivation as rows of jobs;
        a vendor unavailable after some were applied keeps their outcomes."""
        outcomes, to_import = self.settle_or_defer(items, self.remove)
        outcomes.update(
            self.import_or_postpone(to_import, self.import_rows, settled_before=bool(outcomes))
        )
        return [outcomes[item.key] for item in items]

    def remove(self, item: DeliveryItem) -> Outcome | None:
        """DELETE the account; None for the items the import handles."""
        if item.action is not Action.REMOVE:
            return None
        account_id = item.vendor_id or self.own_account(
            item, self.accounts(emails=[email_of(item)]).by_email.get(email_of(item))
        )
        if account_id is None:
            return nothing_to_deprovision(item)
        self.call_unless_gone("DELETE", f"{USERS}/{account_id}", expect=(204,))
        return succeeded(item, account_id)

    def import_rows(self, items: list[DeliveryItem]) -> dict[str, Outcome]:
        """Imports and deactivations, in at most :data:`MAX_ROUNDS` jobs one after the other."""
        if not items:
            return {}
        known = self.accounts(
            ids=[item.vendor_id for item in items if self.merges(item) and item.vendor_id],
            emails=[
                email_of(item)
                for item in items
                if item.action is Action.DISABLE and not item.vendor_id
            ],
        )
        outcomes: dict[str, Outcome] = {}
        rows: list[Row] = []
        for item in items:
            first = self.first_row(item, known)
            if isinstance(first, Outcome):
                outcomes[item.key] = first
            else:
                rows.append(first)
        return self.rounds(rows, outcomes)

    @staticmethod
    def merges(item: DeliveryItem) -> bool:
        """Whether the update of a known user must read the account first: its record
        manages groups, which an import replaces whole."""
        return item.action is Action.IMPORT and "groups" in item.managed and "groups" in item.record

    def first_row(self, item: DeliveryItem, known: Accounts) -> Row | Outcome:
        """The item's row in the first job: a deactivation of the account (found by email
        when no id is stored), an update of the known account, or a new account; or the
        outcome when there is nothing to send (no account to deactivate)."""
        if item.action is Action.DISABLE:
            account_id = item.vendor_id or self.own_account(
                item, known.by_email.get(email_of(item))
            )
            if account_id is None:
                return nothing_to_deprovision(item)
            return Row(item, {"id": account_id, "update": True, "active": False})
        if item.vendor_id is None:
            return self.afresh(item)
        if not self.merges(item):
            return Row(item, {**compact(item.record), "id": item.vendor_id, "update": True})
        current = known.by_id.get(item.vendor_id)
        return self.afresh(item) if current is None else self.updating(item, current)

    @staticmethod
    def afresh(item: DeliveryItem) -> Row:
        """A row that creates the account, and fails ``exists`` rather than change one."""
        return Row(item, compact(item.record))

    @staticmethod
    def updating(item: DeliveryItem, account: dict[str, Any]) -> Row:
        """A row that updates ``account``, keeping the groups the mapping does not manage."""
        body = {**compact(item.record), "id": str(account["id"]), "update": True}
        if "groups" in item.managed and "groups" in body:
            body["groups"] = merge_managed(
                account.get("groups") or [], body["groups"], item.managed["groups"]
            )
        return Row(item, body)

    def rounds(self, rows: list[Row], outcomes: dict[str, Outcome]) -> dict[str, Outcome]:
        """Import the rows; the rows a job sends back for another try (an account to take
        over, one gone) go in the next job. A vendor unavailable in between keeps what was
        settled and postpones the rest; when nothing was settled, the whole call is retried."""
        for _ in range(MAX_ROUNDS):
            if not rows:
                return outcomes
            try:
                rows = self.next_rows(self.run_jobs(rows, outcomes), outcomes)
            except VendorUnavailable as unavailable:
                if not outcomes:
                    raise
                outcomes.update({row.item.key: postponed(row.item, unavailable) for row in rows})
                return outcomes
        for row in rows:
            outcomes[row.item.key] = failed(
                row.item,
                f"bulkimport: the account of {email_of(row.item)} changed at the vendor while "
                "it was being imported; trying again",
                retryable=True,
            )
        return outcomes

    # -- jobs ------------------------------------------------------------------------------------

    def run_jobs(
        self, rows: list[Row], outcomes: dict[str, Outcome]
    ) -> list[tuple[Row, dict[str, Any], str]]:
        """Send the rows and wait for their jobs; each row with its job result and job id.
        Rows that fail without one (refused requests, jobs that did not finish) go to
        ``outcomes``."""
        accepted: list[tuple[list[Row], str]] = []
        for part in self.requests_of(rows, outcomes):
            sent = send_isolating(part, self.post_import)
            for row, rejection in sent.rejected:
                outcomes[row.item.key] = failed(row.item, str(rejection))
            accepted += sent.accepted
        jobs = self.wait_for([job_id for _, job_id in accepted])
        results: list[tuple[Row, dict[str, Any], str]] = []
        for sent_rows, job_id in accepted:
            job = jobs.get(job_id)
            by_row = {
                result.get("row"): result
                for result in (job or {}).get("results") or []
                if isinstance(result, dict)
            }
            for index, row in enumerate(sent_rows):
                if job is None or job.get("status") != "completed" or index not in by_row:
                    outcomes[row.item.key] = self.unfinished(row, job_id, job)
                else:
                    results.append((row, by_row[index], job_id))
        return results

    def requests_of(self, rows: list[Row], outcomes: dict[str, Outcome]) -> list[list[Row]]:
        """The import requests the rows make: one in JSON; in CSV one per set of columns (a
        missing ``groups`` cell would clear groups), without the rows CSV cannot carry."""
        if self.format == "json":
            return [rows]
        parts: dict[tuple[str, ...], list[Row]] = {}
        for row in rows:
            if any(";" in str(group) for group in row.body.get("groups") or []):
                outcomes[row.item.key] = failed(
                    row.item,
                    "bulkimport: a group name holds ';', which CSV cannot carry "
                    "(options.format: json can)",
                )
                continue
            parts.setdefault(tuple(sorted(row.body)), []).append(row)
        return list(parts.values())

    def post_import(self, rows: list[Row]) -> str:
        """One import request; the job id of its 202."""
        bodies = [row.body for row in rows]
        if self.format == "csv":
            response = self.call(
                "POST",
                IMPORT,
                data=to_csv(bodies).encode("utf-8"),
                headers={"Content-Type": "text/csv; charset=utf-8"},
                expect=(202,),
            )
        else:
            response = self.call("POST", IMPORT, json={"users": bodies}, expect=(202,))
        job_id = json_object(response).get("job_id")
        if not job_id:
            raise VendorUnavailable("bulkimport: the import answer holds no job_id")
        return str(job_id)

    def wait_for(self, job_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Each job's last state, polled until every one has finished or the polls run out
        (:meth:`poll` keeps the worker's lease alive while it waits). A job the vendor no
        longer knows (404) is reported ``lost``."""
        pending = list(dict.fromkeys(job_ids))
        last: dict[str, dict[str, Any]] = {}

        def fetch() -> list[str]:
            for job_id in list(pending):
                answer = self.call_unless_gone("GET", f"/jobs/{job_id}")
                job = json_object(answer) if answer is not None else {"status": "lost"}
                last[job_id] = job
                if job.get("status") in FINISHED or answer is None:
                    pending.remove(job_id)
            return pending

        if pending:
            self.poll(fetch, lambda left: not left)
        return last

    def unfinished(self, row: Row, job_id: str, job: dict[str, Any] | None) -> Outcome:
        """A row without a result: tried again later, when the import is repeated safely
        (a new row meets ``exists``, an addressed row updates again)."""
        status = (job or {}).get("status", "unknown")
        if status == "completed":
            why = "reports no result for this row"
        elif status == "failed":
            why = "failed as a whole, applying nothing"
        elif status == "lost":
            why = "is unknown to the vendor"
        else:
            why = f"is still {status} after {self.max_polls} polls"
        return failed(
            row.item,
            f"bulkimport: import job {job_id} {why}; trying again",
            retryable=True,
            job_id=job_id,
        )

    def next_rows(
        self, results: list[tuple[Row, dict[str, Any], str]], outcomes: dict[str, Outcome]
    ) -> list[Row]:
        """Settle each row by its result; the rows to send in the next job."""
        again: list[Row] = []
        existing: list[Row] = []
        for row, result, job_id in results:
            item = row.item
            reported = result.get("error")
            error: dict[str, Any] = reported if isinstance(reported, dict) else {}
            code = str(error.get("code") or "")
            if result.get("status") in ("created", "updated") and result.get("id"):
                outcomes[item.key] = succeeded(item, str(result["id"]), job_id=job_id)
            elif code == "exists" and not row.addressed:
                existing.append(row)
            elif code == "not_found" and row.addressed:
                if item.action is Action.DISABLE:
                    outcomes[item.key] = nothing_to_deprovision(item)
                else:
                    again.append(self.afresh(item))
            else:
                message = error.get("message") or result.get("status") or "no reason given"
                outcomes[item.key] = failed(
                    item,
                    f"bulkimport: import job {job_id} refused {email_of(item)}: {code}: {message}",
                    job_id=job_id,
                )
        return again + self.take_over(existing, outcomes)

    def take_over(self, rows: list[Row], outcomes: dict[str, Outcome]) -> list[Row]:
        """Rows the vendor refused as ``exists``: the account of that email becomes the
        user's (re-sent with its id); the bridge reserved the email for the user."""
        if not rows:
            return []
        found = self.accounts(emails=[email_of(row.item) for row in rows]).by_email
        again: list[Row] = []
        for row in rows:
            item = row.item
            account = found.get(email_of(item))
            if account is None:
                again.append(self.afresh(item))  # deleted since: import it again
            else:
                again.append(self.updating(item, account))
        return again

    # -- lookups ---------------------------------------------------------------------------------

    def accounts(self, ids: Iterable[str] = (), emails: Iterable[str] = ()) -> Accounts:
        """The accounts of these ids and emails, 100 values a call; never an unfiltered
        call (that lists every account)."""
        params = [("id", value) for value in sorted(set(ids))]
        params += [("email", value) for value in sorted({e.lower() for e in emails if e})]
        found = Accounts()
        for chunk in chunked(params, LOOKUP_VALUES):
            answer = json_object(self.call("GET", USERS, params=chunk))
            for account in answer.get("users") or []:
                if isinstance(account, dict) and account.get("id"):
                    found.by_id[str(account["id"])] = account
                    found.by_email[str(account.get("email") or "").lower()] = account
        return found

    def own_account(self, item: DeliveryItem, account: dict[str, Any] | None) -> str | None:
        """The id of ``account`` (found by the item's email, reserved for the user), if any."""
        return str(account["id"]) if account is not None else None

    def holders(self, field: str, values: list[str]) -> dict[str, str | None]:
        """The id of the account holding each email (``first_available``): 100 a call."""
        if field != "email":
            raise NotImplementedError(f"bulkimport looks up no field {field!r}, only email")
        found = self.accounts(emails=values).by_email
        return {
            value: str(account["id"]) if (account := found.get(value.lower())) else None
            for value in values
        }
