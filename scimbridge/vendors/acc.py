"""Autodesk Construction Cloud: project users through the Account Admin API.

Contract: Autodesk's "POST projects/:projectId/users:import" reference
(https://aps.autodesk.com/en/docs/acc/v1/reference/http/admin-v2-projects-project-Id-users-import-POST);
Autodesk's OpenAPI ``construction/accountadmin/accountadmin.yaml`` (``importProjectUsers``,
the v1 project-user GET/PATCH/DELETE and listing) and ``authentication/authentication.yaml``
(``autodesk-platform-services/aps-sdk-openapi``); the APS documentation (aps.autodesk.com).

- Token: APS 2-legged client credentials at ``/authentication/v2/token`` (HTTP
  Basic client_id:client_secret, scope ``account:write account:read``). Writes
  impersonate an admin with ``User-Id``; ``Region`` is sent when configured.
- Who is a project member (every import, every deprovision without a stored id) is known
  from the directory: ``GET /construction/admin/v1/projects/{projectId}/users`` (the
  documented listing, ``limit`` ≤ 200 with ``offset``) read once a delivery run, kept
  current with what the client writes and confirms, read again when older than
  ``options.directory_max_age_seconds`` (300), after a write whose answer could not be
  read or an import left unconfirmed, and dropped when the run ends (:meth:`run_ended`).
  Where the listing takes more pages than there are emails to look up, one
  ``filter[email]`` GET per email serves instead, and no directory is kept. Reads are
  limited to 600 a minute, writes to 100 (Autodesk's admin rate-limits page).
- New users: ``POST /construction/admin/v2/projects/{projectId}/users:import``, at
  most 200 a request, answered 202 "not yet acted upon", with a ``jobId`` that may
  be absent and has no status endpoint. The import never updates a member (the
  emulator's reading; the documents are silent), so only emails the directory does
  not show are imported; the others are PATCHed, with only what they lack (a
  member that holds the record costs no write). A delivery takes up to ten imports
  (:attr:`AccClient.claim_size`), submitted back to back, then confirmed together from
  the newest members (``sort=addedOn desc``), polled, until every email is found or a
  page reaches members added before the imports. A member found gets the PATCH of what
  it lacks: nothing after its import, the record when ACC ignored the import for a
  member an admin added since the directory was read. One still unconfirmed after the
  polls is retried later, never failed for good.
- Members: ``PATCH …/users/{userId}`` changes only ``companyId``, ``roleIds`` and
  ``products`` (201); names and email belong to the Autodesk account. ``roleIds``
  keep the roles set in ACC that the mapping does not manage (docs/architecture.md).
- DISABLE: PATCH every product of the record to ``access: none``, with the record's
  ``companyId`` (Autodesk's PATCH project-user reference; again without the company
  where ACC refuses it);
  REMOVE: ``DELETE …/users/{userId}`` (204), of the stored id, else of the member
  found by email. A member already gone (404) is done; without a stored id, only
  a listing that does not show the email means there is nothing to deprovision.
  ACC deletes removed project users: re-provisioning adds the person again, same
  Autodesk account and email, a new project-user id.
- The email is the account key (:attr:`AccClient.account_keys`): the worker reserved it
  for the user before the call (:mod:`scimbridge.delivery.identity`), so a member found by
  email is the user's. ACC cannot change a member's email, so an email change replaces
  the member (docs/vendors/acc.md, "Identity changes").
- Read-back (reconcile, :meth:`AccClient.accounts`): the same listing, 200 members a page
  from ``offset`` 0, to ``pagination.totalResults``; each member in the record's shape,
  inactive when no product grants it access (what a DISABLE leaves). The admin that
  ``User-Id`` impersonates is the bridge's own account (:meth:`AccClient.excluded`).
- Rate limits (:attr:`AccClient.rate_limits`, Autodesk's admin rate-limits page):
  per client id, 100 writes (POST/PATCH/DELETE/PUT) and 600 GETs a minute on
  ``construction/admin``; the client paces itself to them (:mod:`.pacing`). A 429
  carries ``Retry-After`` (APS rate-limit blog); a 429 or a long wait in mid-batch keeps
  what was applied and postpones the rest.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import requests

from scimbridge.config import Target
from scimbridge.mapping.context import Action
from scimbridge.vendors.base import (
    AccountPage,
    DeliveryItem,
    Outcome,
    VendorAccount,
    VendorUnavailable,
    merge_managed,
)
from scimbridge.vendors.http import (
    RunDirectory,
    chunked,
    compact,
    failed,
    json_object,
    nothing_to_deprovision,
    polling,
    postponed,
    send_isolating,
    succeeded,
)
from scimbridge.vendors.oauth import OAuthClientCredentialsClient
from scimbridge.vendors.pacing import WRITES, RateLimit
from scimbridge.vendors.plugin import VendorPlugin
from scimbridge.vendors.settings import Setting, Settings

PATCHABLE = ("companyId", "roleIds", "products")
"""The fields the v1 project-user PATCH accepts (accountadmin.yaml)."""
PAGE = 200
"""The largest ``limit`` of the project-user listing (accountadmin.yaml)."""
ADMIN = "/construction/admin/"
NEWEST_FIRST = "addedOn desc"
"""The listing's ``sort`` that shows the members an import added first (accountadmin.yaml ``userSortBy``)."""
CLOCK_ALLOWANCE = timedelta(minutes=1)
"""How far the local clock is taken to be from ACC's, where an answer carries no ``Date``."""

Members = dict[str, dict[str, Any]]
"""Project members by lower-case email."""


def email_of(item: DeliveryItem) -> str:
    return str(item.record.get("email") or (item.previous or {}).get("email") or "").lower()


def looked_up(item: DeliveryItem) -> bool:
    """Whether the item needs the listing: every import (the import never updates a member,
    so an existing one is PATCHed instead), and a deprovision without a stored id."""
    return item.action is Action.IMPORT or not item.vendor_id


def missing_changes(item: DeliveryItem, member: dict[str, Any]) -> dict[str, Any]:
    """The PATCH that makes the member hold the record, without the fields it holds already.

    ``roleIds`` are merged into the member's (:func:`merge_managed`), so roles set in ACC
    that the mapping does not manage stay; products the record does not name are left as
    they are, since the PATCH changes only the keys it names (Autodesk's PATCH project-user reference: ``access: none`` strips a product).
    """
    wanted = {key: item.record[key] for key in PATCHABLE if item.record.get(key) is not None}
    if "roleIds" in wanted:
        wanted["roleIds"] = merge_managed(
            member.get("roleIds") or [], wanted["roleIds"], item.managed.get("roleIds", ())
        )
    return {key: value for key, value in wanted.items() if not holds(member, key, value)}


def without_access(item: DeliveryItem) -> list[dict[str, Any]]:
    """Every product of the record at ``access: none`` (Autodesk's PATCH project-user reference:
    the PATCH changes only the products it names)."""
    return [{**product, "access": "none"} for product in item.record.get("products") or []]


def disabled_profile(item: DeliveryItem) -> dict[str, Any]:
    """What a DISABLE's PATCH carries of the member's newest profile: the record's
    ``companyId``. ``roleIds`` stay as they are: the PATCH replaces the list whole, and
    keeping the roles set in ACC would take a read of the member, one more request per
    user; names and email belong to the Autodesk account, which no PATCH changes."""
    company = item.record.get("companyId")
    return {"companyId": company} if company is not None else {}


def holds(member: dict[str, Any], key: str, value: Any) -> bool:
    """Whether the member already holds this PATCH value (a product it does not list has no access)."""
    if key == "products":
        access = {
            product.get("key"): product.get("access")
            for product in member.get("products") or []
            if isinstance(product, dict)
        }
        return all(
            access.get(product.get("key"), "none") == product.get("access") for product in value
        )
    if key == "roleIds":
        return sorted(member.get("roleIds") or []) == sorted(value)
    return bool(member.get(key) == value)


def record_of(member: dict[str, Any]) -> dict[str, Any]:
    """A listed member (``ProjectUser``, accountadmin.yaml) as the import record: the record
    fields the bridge can keep as the mapping makes them, ``userId`` being the member's ACC
    ``id``. Names are left out though the listing shows them: they belong to the person's
    Autodesk account, which no PATCH changes, so a difference there could never be
    corrected and is not the bridge's to report."""
    return {
        "email": member.get("email"),
        "userId": str(member["id"]),
        "companyId": member.get("companyId"),
        "roleIds": list(member.get("roleIds") or []),
        "products": [
            {"key": product.get("key"), "access": product.get("access")}
            for product in member.get("products") or []
            if isinstance(product, dict)
        ],
    }


def has_access(record: dict[str, Any]) -> bool:
    """Whether a product grants the member access: a DISABLE sets every product of the
    record to ``access: none`` (Autodesk's PATCH project-user reference)."""
    return any(
        isinstance(product, dict) and product.get("access") not in (None, "none")
        for product in record.get("products") or []
    )


class AccClient(OAuthClientCredentialsClient):
    vendor = "acc"
    max_batch = 200
    """"Can add up to 200 users per request" (Autodesk's "POST projects/:projectId/users:import")."""
    account_keys = frozenset({"email"})
    read_back = "list"
    token_endpoint_auth_method = "client_secret_basic"
    default_scope = "account:write account:read"
    claim_size = 10 * max_batch
    """Ten imports a delivery, submitted back to back and confirmed together: a tenth of the
    writes ACC allows a minute, so a delivery never waits on the write limit for its imports."""
    known: RunDirectory[Members]
    """The project's members as the listing showed them (:meth:`members`), kept current with
    what this client writes and confirms."""
    settings = (
        OAuthClientCredentialsClient.settings
        + polling(polls=5)  # confirmation rounds of a 202: imported users usually show on the first
        + Settings(
            credentials=(
                Setting(
                    "user_id",
                    "The ACC or Autodesk id of an admin, sent as User-Id: 2-legged writes need it.",
                    required=True,
                ),
                Setting("region", "The optional Region header (options.region also sets it)."),
            ),
            options=(
                Setting(
                    "project_id",
                    "The project whose users the target manages; a Data Management b. prefix "
                    "is removed.",
                    required=True,
                ),
                Setting("region", "The optional Region header (credentials.region wins)."),
            ),
        )
    )
    account_refusals = frozenset({403})
    """APS answers 403 for a token without the scope a call needs and for a write whose
    ``User-Id`` names no account admin: never for a user's record (those fail after the 202)."""
    rate_limits = (
        RateLimit("writes", 100, 60.0, methods=WRITES, path_prefix=ADMIN),
        RateLimit("reads", 600, 60.0, methods=frozenset({"GET"}), path_prefix=ADMIN),
    )
    """Per client id on construction/admin (Autodesk's admin rate-limits page); the token
    endpoint's own 500 a minute is authlib's call, never near it (one token an hour)."""

    def __init__(self, target: Target, http: requests.Session | None = None):
        super().__init__(target, http)
        self.project_id = str(target.options["project_id"]).removeprefix("b.")
        """The Data Management ``b.`` prefix is not part of the ACC project id (Autodesk's "POST projects/:projectId/users:import", ``projectId``)."""
        self.service_members: set[str] = set()
        """The ACC ids of listed members whose ``autodeskId`` is the ``User-Id``: the
        header names the admin by either id (accountadmin.yaml, ``User-Id``)."""

    def default_token_url(self) -> str:
        return f"{self.base_url}/authentication/v2/token"

    def auth_headers(self) -> dict[str, str]:
        """``User-Id`` impersonates an admin, as 2-legged writes require; ``Region`` routes the call."""
        headers = {
            "User-Id": self.target.secret("user_id"),
            "Region": self.target.secret("region") or self.target.options.get("region"),
        }
        return {name: str(value) for name, value in headers.items() if value}

    @property
    def users_path(self) -> str:
        return f"/construction/admin/v1/projects/{self.project_id}/users"

    # -- delivery --------------------------------------------------------------------------------

    def deliver(self, items: list[DeliveryItem]) -> list[Outcome]:
        """Deliver a claim (:attr:`claim_size`): updates and deprovisions one by one, then
        every import the claim needs submitted back to back and confirmed together."""
        members = self.members({email_of(item) for item in items if looked_up(item)} - {""})
        outcomes, to_import = self.settle_or_defer(items, lambda item: self.apply(item, members))
        outcomes.update(
            self.import_or_postpone(to_import, self.import_members, settled_before=bool(outcomes))
        )
        return [outcomes[item.key] for item in items]

    def deliver_batch(self, items: list[DeliveryItem]) -> list[Outcome]:
        """A batch is delivered as a claim is: :meth:`deliver` splits the imports itself."""
        return self.deliver(items)

    def apply(self, item: DeliveryItem, members: Members) -> Outcome | None:
        """Update, disable or remove the member; None when the user must be imported."""
        if item.action is not Action.IMPORT:
            return self.deprovision(item, members)
        member = members.get(email_of(item))
        if member is not None and item.record.get("roleIds") is not None:
            member = self.read_again(item, member)
        if member is None:
            return None
        return self.update_member(item, member)

    def read_again(self, item: DeliveryItem, member: dict[str, Any]) -> dict[str, Any] | None:
        """The member as ACC holds it now (one GET), None when it left the project. A PATCH
        of ``roleIds`` replaces the member's list, so it is computed from this read, not from
        the run's listing: a role an admin set in ACC meanwhile stays (docs/architecture.md,
        "What the vendor holds is what the IdP says")."""
        answer = self.call_unless_gone("GET", f"{self.users_path}/{member['id']}")
        if answer is None:
            self.forget(email_of(item), str(member["id"]))
            return None
        member.update(json_object(answer))
        return member

    def deprovision(self, item: DeliveryItem, members: Members) -> Outcome:
        """DISABLE strips every product of the record (``access: none``, Autodesk's PATCH project-user reference), REMOVE
        deletes the project user; a member already gone (404) is as deprovisioned as it gets.
        Without a stored id the member is found by email; only the listing's "no such member"
        means nothing to deprovision."""
        email = email_of(item)
        member = members.get(email)
        member_id = item.vendor_id or (str(member["id"]) if member else None)
        if member_id is None:
            return nothing_to_deprovision(item)
        if item.action is Action.DISABLE:
            bare = {"products": without_access(item)}
            self.deprovision_carrying(
                "PATCH",
                f"{self.users_path}/{member_id}",
                {**disabled_profile(item), **bare},
                bare,
                expect=(200, 201),
            )
            self.disabled(email, member_id, bare)
        else:
            self.call_unless_gone("DELETE", f"{self.users_path}/{member_id}", expect=(200, 204))
            self.forget(email, member_id)
        return succeeded(item, member_id)

    def update_member(
        self, item: DeliveryItem, member: dict[str, Any], **details: Any
    ) -> Outcome | None:
        """PATCH what the member does not hold yet (nothing when it holds the record, as
        after its import); None when the member left the project meanwhile (404): it is
        imported again."""
        changes = missing_changes(item, member)
        if changes:
            if self.patch(str(member["id"]), changes) is None:
                self.forget(email_of(item), str(member["id"]))
                return None
            applied(member, changes)
        return succeeded(item, str(member["id"]), **details)

    def patch(self, member_id: str, changes: dict[str, Any]) -> requests.Response | None:
        """The v1 PATCH (201); None when the member is not in the project (404)."""
        return self.call_unless_gone(
            "PATCH", f"{self.users_path}/{member_id}", json=changes, expect=(200, 201)
        )

    # -- who is a member -------------------------------------------------------------------------

    def members(self, emails: set[str]) -> Members:
        """The project members among these emails, from the directory while it is fresh
        (:meth:`fresh_directory`). Else from the listing: the whole of it, in pages, kept as
        the directory, when that takes no more calls than one filtered GET per email; else
        the filtered GETs, which make no directory."""
        if not emails:
            return {}
        directory = self.known.fresh()
        if directory is not None:
            return {email: directory[email] for email in emails if email in directory}
        started = time.monotonic()
        first = self.page(0)
        total = int((first.get("pagination") or {}).get("totalResults") or 0)
        if math.ceil(total / PAGE) > len(emails):
            found = by_email(member for email in sorted(emails) for member in self.filtered(email))
            return {email: member for email, member in found.items() if email in emails}
        listed = list(first.get("results") or [])
        for offset in range(PAGE, total, PAGE):
            listed += self.page(offset).get("results") or []
        directory = self.known.keep(by_email(listed), started)
        return {email: directory[email] for email in emails if email in directory}

    def remember(self, member: dict[str, Any]) -> None:
        """A member ACC showed, for the directory's next lookups."""
        directory = self.known.fresh()
        if directory is not None:
            directory[str(member.get("email", "")).lower()] = member

    def forget(self, email: str, member_id: str) -> None:
        """The member ``member_id`` is not in the project (any more)."""
        directory = self.known.fresh()
        if directory is not None and str(directory.get(email, {}).get("id")) == member_id:
            del directory[email]

    def disabled(self, email: str, member_id: str, bare: dict[str, Any]) -> None:
        """The member ``member_id`` holds no access to the record's products now. Which of the
        DISABLE's two bodies ACC took is not known, so the directory no longer claims a
        company for it: a later PATCH sends the record's company again."""
        directory = self.known.fresh()
        member = directory.get(email) if directory is not None else None
        if member is not None and str(member.get("id")) == member_id:
            applied(member, bare)
            member.pop("companyId", None)

    def page(self, offset: int) -> dict[str, Any]:
        return json_object(self.listing(offset))

    def listing(self, offset: int, sort: str | None = None) -> requests.Response:
        """One page of 200 members, the most ``limit`` allows (accountadmin.yaml, ``getProjectUsers``)."""
        params: dict[str, Any] = {"limit": PAGE, "offset": offset}
        if sort:
            params["sort"] = sort
        return self.call("GET", self.users_path, params=params)

    def filtered(self, email: str) -> list[Any]:
        answer = json_object(
            self.call(
                "GET",
                self.users_path,
                params={"filter[email]": email, "filterTextMatch": "equals"},
            )
        )
        return list(answer.get("results") or [])

    # -- read-back -------------------------------------------------------------------------------

    def accounts(self, cursor: str | None = None) -> AccountPage:
        """One page of the listing (200 members, the most ``limit`` allows) from the offset
        ``cursor``; the next page starts after the members this one held, until
        ``pagination.totalResults`` (accountadmin.yaml, ``getProjectUsers``). The listing
        shows members ``active`` and ``pending`` (the default ``filter[status]``): a removed
        member is not listed."""
        offset = int(cursor or 0)
        answer = self.page(offset)
        listed = list(answer.get("results") or [])
        members = [member for member in listed if isinstance(member, dict) and member.get("id")]
        self.note_service_members(members)
        total = int((answer.get("pagination") or {}).get("totalResults") or 0)
        following = offset + len(listed)
        return AccountPage(
            accounts=[self.account(member) for member in members],
            next_cursor=str(following) if offset < following < total else None,
            total=total,
        )

    def note_service_members(self, members: list[dict[str, Any]]) -> None:
        """Remember the members whose ``autodeskId`` is the ``User-Id``, for :meth:`excluded`."""
        user_id = self.target.secret("user_id")
        if user_id:
            self.service_members.update(
                str(member["id"]) for member in members if member.get("autodeskId") == user_id
            )

    @staticmethod
    def account(member: dict[str, Any]) -> VendorAccount:
        record = record_of(member)
        return VendorAccount(vendor_id=record["userId"], record=record, active=has_access(record))

    def grants_access(self, record: dict[str, Any]) -> bool:
        """A member is active while a product grants it access: ACC has no flag of its own."""
        return has_access(record)

    def excluded(self, account: VendorAccount) -> str | None:
        """The admin the bridge acts as (``User-Id``, its ACC id or the Autodesk id a listing
        showed for the member) is the bridge's own account; Autodesk documents no system
        accounts among project users."""
        user_id = self.target.secret("user_id")
        if account.vendor_id == user_id or account.vendor_id in self.service_members:
            return "the admin the bridge acts as (credentials.user_id, sent as User-Id)"
        return None

    # -- import ----------------------------------------------------------------------------------

    def import_members(self, items: list[DeliveryItem]) -> dict[str, Outcome]:
        """Submit the imports (200 users each) back to back, then confirm them together. When
        ACC becomes unavailable before every import is submitted, the accepted ones are still
        confirmed and the rest postponed; with none accepted nor refused, the claim waits."""
        outcomes: dict[str, Outcome] = {}
        accepted: list[tuple[list[DeliveryItem], Receipt]] = []
        chunks = list(chunked(items, self.max_batch))
        for position, chunk in enumerate(chunks):
            try:
                sent = send_isolating(chunk, self.post_import)
            except VendorUnavailable as unavailable:
                if not (accepted or outcomes):
                    raise
                for item in (item for left in chunks[position:] for item in left):
                    outcomes[item.key] = postponed(item, unavailable)
                break
            outcomes.update({item.key: failed(item, str(why)) for item, why in sent.rejected})
            accepted += sent.accepted
        if accepted:
            outcomes.update(self.confirm(accepted))
        return outcomes

    def confirm(self, accepted: list[tuple[list[DeliveryItem], Receipt]]) -> dict[str, Outcome]:
        """Find the imported users among the newest members (:meth:`newest`), polled, the
        first read after ``poll_interval`` / 4 (a 202 is "not yet acted upon"). Each member
        found gets the PATCH of what it lacks of its record: nothing when the import made it,
        the record's fields when ACC ignored the import because the email was a member
        already (added in ACC since the directory was read). A user still not found is
        checked again later, with the directory read afresh, never failed for good."""
        waiting = {
            email_of(item): (item, receipt.job_id) for batch, receipt in accepted for item in batch
        }
        since = min(receipt.at for _, receipt in accepted)
        found: list[tuple[DeliveryItem, dict[str, Any], str | None]] = []

        def confirm_round() -> dict[str, tuple[DeliveryItem, str | None]]:
            nonlocal since
            members, read_at = self.newest(set(waiting), since)
            for email, member in members.items():
                item, job_id = waiting.pop(email)
                self.remember(member)
                found.append((item, member, job_id))
            since = max(since, read_at)
            return waiting

        try:
            self.wait(self.poll_interval / 4)
            self.poll(confirm_round, lambda left: not left)
        except VendorUnavailable as unavailable:
            outcomes = {item.key: postponed(item, unavailable) for item, _ in waiting.values()}
        else:
            outcomes = {
                item.key: failed(
                    item,
                    f"acc: the import was accepted but {email_of(item)} is not a project member "
                    f"after {self.max_polls} checks; checking again later",
                    retryable=True,
                    **job(job_id),
                )
                for item, job_id in waiting.values()
            }
        finally:
            if waiting:
                self.known.forget()
        outcomes.update(self.settle_found(found))
        return outcomes

    def settle_found(
        self, found: list[tuple[DeliveryItem, dict[str, Any], str | None]]
    ) -> dict[str, Outcome]:
        """The members the imports' confirmation found, each PATCHed with what it lacks."""
        by_key = {item.key: (member, job(job_id)) for item, member, job_id in found}
        outcomes, gone = self.settle_or_defer(
            [item for item, _, _ in found],
            lambda item: self.update_member(item, by_key[item.key][0], **by_key[item.key][1]),
        )
        for item in gone:
            outcomes[item.key] = failed(
                item,
                f"acc: {email_of(item)} left the project as its import was confirmed; "
                "importing again later",
                retryable=True,
            )
        return outcomes

    def newest(self, emails: set[str], since: datetime) -> tuple[Members, datetime]:
        """The members among these emails, read newest first (``sort=addedOn desc``,
        accountadmin.yaml ``userSortBy``) page by page, until every email is found or a page
        reaches a member added before ``since``: the users an import adds are added after
        its 202, and are not on a later page. Also when the first page was read, on ACC's
        clock: a member added after this read is added after that moment."""
        found: Members = {}
        offset = 0
        first_read: datetime | None = None
        while True:
            response = self.listing(offset, NEWEST_FIRST)
            first_read = first_read or answered_at(response)
            answer = json_object(response)
            listed = [
                member
                for member in answer.get("results") or []
                if isinstance(member, dict) and member.get("id")
            ]
            found.update(
                (email, member) for email, member in by_email(listed).items() if email in emails
            )
            offset += PAGE
            total = int((answer.get("pagination") or {}).get("totalResults") or 0)
            if (
                found.keys() >= emails
                or offset >= total
                or not listed
                or any(added_before(member, since) for member in listed)
            ):
                return found, first_read

    @staticmethod
    def import_record(item: DeliveryItem) -> dict[str, Any]:
        """The record without ``userId``: a user is only imported when ACC does not have it,
        so any id there is stale."""
        return compact({**item.record, "userId": None})

    def post_import(self, items: list[DeliveryItem]) -> Receipt:
        """The import call; its ``jobId``, which ACC does not support yet (Autodesk's "POST
        projects/:projectId/users:import"), may be None."""
        response = self.call(
            "POST",
            f"/construction/admin/v2/projects/{self.project_id}/users:import",
            json={"users": [self.import_record(item) for item in items]},
            expect=(202,),
        )
        job_id = self.written(response).get("jobId") if response.content else None
        return Receipt(str(job_id) if job_id else None, answered_at(response))


@dataclass(frozen=True)
class Receipt:
    """ACC's 202 to an import."""

    job_id: str | None
    at: datetime
    """When ACC answered (:func:`answered_at`): the users it adds are added later."""


def answered_at(response: requests.Response) -> datetime:
    """When ACC answered, on its own clock: the answer's ``Date`` (RFC 9110 §6.6.1), whole
    seconds, so never later than the moment itself. Without one, the local clock
    :data:`CLOCK_ALLOWANCE` back, for the two clocks may differ."""
    try:
        moment = parsedate_to_datetime(response.headers.get("Date", ""))
    except (TypeError, ValueError):
        return datetime.now(UTC) - CLOCK_ALLOWANCE
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def added_before(member: dict[str, Any], moment: datetime) -> bool:
    """Whether the member's ``addedOn`` (ISO 8601, ``ProjectUser``) is before ``moment``;
    a member without a readable one is not known to be."""
    try:
        added = datetime.fromisoformat(str(member.get("addedOn")))
    except ValueError:
        return False
    return (added if added.tzinfo else added.replace(tzinfo=UTC)) < moment


def by_email(members: Iterable[Any]) -> Members:
    """Listed members by lower-case email."""
    return {
        str(member.get("email", "")).lower(): member
        for member in members
        if isinstance(member, dict) and member.get("id")
    }


def applied(member: dict[str, Any], changes: dict[str, Any]) -> None:
    """The member as a PATCH of ``changes`` leaves it: the products it names replaced by
    key, the others kept (Autodesk's PATCH project-user reference), the other fields set."""
    for key, value in changes.items():
        if key == "products":
            merged = {product.get("key"): product for product in member.get("products") or []}
            merged.update({product["key"]: dict(product) for product in value})
            member["products"] = list(merged.values())
        else:
            member[key] = value


def job(job_id: str | None) -> dict[str, Any]:
    return {"jobId": job_id} if job_id else {}


PLUGIN = VendorPlugin.packaged(
    __package__,
    "acc",
    "Autodesk Construction Cloud",
    AccClient,
    emulator="scimbridge_emulators.acc:AccEmulator",
    documentation="docs/vendors/acc.md",
)
"""Registered in pyproject.toml under ``scimbridge.vendors`` (:mod:`scimbridge.vendors.plugin`)."""
