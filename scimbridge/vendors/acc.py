"""Autodesk Construction Cloud: project users through the Account Admin API.

Contract: Autodesk's "POST projects/:projectId/users:import" reference
(https://aps.autodesk.com/en/docs/acc/v1/reference/http/admin-v2-projects-project-Id-users-import-POST);
Autodesk's OpenAPI ``construction/accountadmin/accountadmin.yaml`` (``importProjectUsers``,
the v1 project-user GET/PATCH/DELETE and listing) and ``authentication/authentication.yaml``
(``autodesk-platform-services/aps-sdk-openapi``); the APS documentation (aps.autodesk.com).

- Token: APS 2-legged client credentials at ``/authentication/v2/token`` (HTTP
  Basic client_id:client_secret, scope ``account:write account:read``). Writes
  impersonate an admin with ``User-Id``; ``Region`` is sent when configured.
- Who is a project member is read from ``GET
  /construction/admin/v1/projects/{projectId}/users`` (the documented listing,
  ``limit`` ≤ 200 with ``offset``), for every import and every deprovision without
  a stored id: the whole listing when it takes fewer pages than there are emails to
  look up, else one ``filter[email]`` GET per email. Reads are limited to 600 a
  minute, writes to 100 (Autodesk's admin rate-limits page), so lookups are batched.
- New users: ``POST /construction/admin/v2/projects/{projectId}/users:import``, at
  most 200 a request, answered 202 "not yet acted upon", with a ``jobId`` that may
  be absent and has no status endpoint. The import never updates a member (the
  emulator's reading; the documents are silent), so only emails the listing does
  not show are imported; the others are PATCHed, with only what they lack (a
  member that holds the record costs no write). An import is confirmed by the
  listing, polled; one still unconfirmed after the polls is retried later (the
  next round finds the member), never failed for good.
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
    compact,
    failed,
    json_object,
    nothing_to_deprovision,
    postponed,
    send_isolating,
    succeeded,
)
from scimbridge.vendors.oauth import OAuthClientCredentialsClient
from scimbridge.vendors.pacing import WRITES, RateLimit
from scimbridge.vendors.plugin import VendorPlugin

PATCHABLE = ("companyId", "roleIds", "products")
"""The fields the v1 project-user PATCH accepts (accountadmin.yaml)."""
PAGE = 200
"""The largest ``limit`` of the project-user listing (accountadmin.yaml)."""
ADMIN = "/construction/admin/"

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
    default_max_polls = 5
    """Confirmation rounds of a 202: imported users usually show on the first."""
    rate_limits = (
        RateLimit("writes", 100, 60.0, methods=WRITES, path_prefix=ADMIN),
        RateLimit("reads", 600, 60.0, methods=frozenset({"GET"}), path_prefix=ADMIN),
    )
    """Per client id on construction/admin (Autodesk's admin rate-limits page); the token
    endpoint's own 500 a minute is authlib's call, never near it (one token an hour)."""

    def __init__(self, target: Target, http: requests.Session | None = None):
        super().__init__(target, http)
        project_id = str(target.options.get("project_id") or "")
        if not project_id:
            raise ValueError(f"target {target.name}: options.project_id is required for acc")
        self.project_id = project_id.removeprefix("b.")
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

    def deliver_batch(self, items: list[DeliveryItem]) -> list[Outcome]:
        members = self.members({email_of(item) for item in items if looked_up(item)} - {""})
        outcomes, to_import = self.settle_or_defer(items, lambda item: self.apply(item, members))
        outcomes.update(
            self.import_or_postpone(to_import, self.import_members, settled_before=bool(outcomes))
        )
        return [outcomes[item.key] for item in items]

    def apply(self, item: DeliveryItem, members: Members) -> Outcome | None:
        """Update, disable or remove the member; None when the user must be imported."""
        if item.action is not Action.IMPORT:
            return self.deprovision(item, members)
        member = members.get(email_of(item))
        if member is None:
            return None
        return self.update_member(item, member)

    def deprovision(self, item: DeliveryItem, members: Members) -> Outcome:
        """DISABLE strips every product of the record (``access: none``, Autodesk's PATCH project-user reference), REMOVE
        deletes the project user; a member already gone (404) is as deprovisioned as it gets.
        Without a stored id the member is found by email; only the listing's "no such member"
        means nothing to deprovision."""
        member = members.get(email_of(item))
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
        else:
            self.call_unless_gone("DELETE", f"{self.users_path}/{member_id}", expect=(200, 204))
        return succeeded(item, member_id)

    def update_member(self, item: DeliveryItem, member: dict[str, Any]) -> Outcome | None:
        """PATCH what the member does not hold yet (nothing when it holds the record, as
        after an import confirmed late); None when the member left the project meanwhile
        (404): it is imported again."""
        changes = missing_changes(item, member)
        if changes and self.patch(str(member["id"]), changes) is None:
            return None
        return succeeded(item, str(member["id"]))

    def patch(self, member_id: str, changes: dict[str, Any]) -> requests.Response | None:
        """The v1 PATCH (201); None when the member is not in the project (404)."""
        return self.call_unless_gone(
            "PATCH", f"{self.users_path}/{member_id}", json=changes, expect=(200, 201)
        )

    # -- who is a member -------------------------------------------------------------------------

    def members(self, emails: set[str]) -> Members:
        """The project members among these emails: the whole listing in pages when that
        takes fewer calls than one filtered GET per email, else the filtered GETs."""
        if not emails:
            return {}
        first = self.page(0)
        total = int((first.get("pagination") or {}).get("totalResults") or 0)
        pages = math.ceil(total / PAGE)
        if pages > len(emails):
            found = [member for email in sorted(emails) for member in self.filtered(email)]
        else:
            found = list(first.get("results") or [])
            for offset in range(PAGE, total, PAGE):
                found += self.page(offset).get("results") or []
        return {
            str(member.get("email", "")).lower(): member
            for member in found
            if isinstance(member, dict)
            and member.get("id")
            and str(member.get("email", "")).lower() in emails
        }

    def page(self, offset: int) -> dict[str, Any]:
        return json_object(
            self.call("GET", self.users_path, params={"limit": PAGE, "offset": offset})
        )

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
        if not items:
            return {}
        sent = send_isolating(items, self.post_import)
        outcomes = {item.key: failed(item, str(rejection)) for item, rejection in sent.rejected}
        unconfirmed = {
            email_of(item): (item, job_id) for batch, job_id in sent.accepted for item in batch
        }

        def confirm_round() -> dict[str, tuple[DeliveryItem, str | None]]:
            for email, member in self.members(set(unconfirmed)).items():
                item, job_id = unconfirmed.pop(email)
                outcomes[item.key] = succeeded(item, str(member["id"]), **job(job_id))
            return unconfirmed

        try:
            self.poll(confirm_round, lambda left: not left)
        except VendorUnavailable as unavailable:
            for item, _ in unconfirmed.values():
                outcomes[item.key] = postponed(item, unavailable)
            return outcomes
        for item, job_id in unconfirmed.values():
            outcomes[item.key] = failed(
                item,
                f"acc: the import was accepted but {email_of(item)} is not a project member "
                f"after {self.max_polls} checks; checking again later",
                retryable=True,
                **job(job_id),
            )
        return outcomes

    @staticmethod
    def import_record(item: DeliveryItem) -> dict[str, Any]:
        """The record without ``userId``: a user is only imported when ACC does not have it,
        so any id there is stale."""
        return compact({**item.record, "userId": None})

    def post_import(self, items: list[DeliveryItem]) -> str | None:
        """The import call; its ``jobId``, which ACC does not support yet (Autodesk's "POST projects/:projectId/users:import"), may be None."""
        response = self.call(
            "POST",
            f"/construction/admin/v2/projects/{self.project_id}/users:import",
            json={"users": [self.import_record(item) for item in items]},
            expect=(202,),
        )
        job_id = json_object(response).get("jobId") if response.content else None
        return str(job_id) if job_id else None


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
