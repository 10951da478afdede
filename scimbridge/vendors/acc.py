"""Autodesk Construction Cloud: project users through the Account Admin API.

Contract: seed ``autodesk-acc-users-import.txt``; Autodesk's OpenAPI
``vendor-specs/acc/accountadmin.yaml`` (``importProjectUsers``, the v1 project-user
GET/PATCH/DELETE) and ``authentication.yaml``; vendor-research.md §2.

- Token: APS 2-legged client credentials at ``/authentication/v2/token`` (HTTP
  Basic client_id:client_secret, scope ``account:write account:read``). Writes
  impersonate an admin with ``User-Id``; ``Region`` is sent when configured.
- New users: ``POST /construction/admin/v2/projects/{projectId}/users:import``,
  at most 200 a request, answered 202 with a ``jobId`` that may be absent and has
  no status endpoint; so each user is confirmed with ``GET
  /construction/admin/v1/projects/{projectId}/users?filter[email]=`` (which also
  gives its ACC user id, the vendor id), polled until it shows or the polls run out.
- Known users: ``PATCH …/users/{userId}``. The spec lets a PATCH change only
  ``companyId``, ``roleIds`` and ``products`` (201 with the changed fields); names
  and email belong to the Autodesk account. A 404 (the user left the project)
  imports the user again.
- DISABLE: PATCH every product of the record to ``access: none`` (research §2:
  "to strip one product, set access none"); REMOVE: ``DELETE …/users/{userId}`` (204).
- A 429 carries ``Retry-After`` (APS rate-limit blog): :meth:`HttpVendorClient.retry_after`.
"""

from __future__ import annotations

from typing import Any

import requests

from scimbridge.config import Target
from scimbridge.vendors.base import Action, DeliveryItem, Outcome
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

PATCHABLE = ("companyId", "roleIds", "products")
"""The fields the v1 project-user PATCH accepts (accountadmin.yaml)."""


class AccClient(OAuthClientCredentialsClient):
    vendor = "acc"
    max_batch = 200
    """"Can add up to 200 users per request" (seed)."""
    token_endpoint_auth_method = "client_secret_basic"
    default_scope = "account:write account:read"
    default_max_polls = 5
    """Confirmation rounds of a 202: imported users usually show on the first."""

    def __init__(self, target: Target, http: requests.Session | None = None):
        super().__init__(target, http)
        project_id = str(target.options.get("project_id") or "")
        if not project_id:
            raise ValueError(f"target {target.name}: options.project_id is required for acc")
        self.project_id = project_id.removeprefix("b.")
        """The Data Management ``b.`` prefix is not part of the ACC project id (seed)."""

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
        outcomes, to_import = self.settle_or_defer(items, self.apply)
        outcomes.update(self.import_members(to_import))
        return [outcomes[item.key] for item in items]

    def apply(self, item: DeliveryItem) -> Outcome | None:
        """Update, disable or remove a project member; None when the item needs an import."""
        if item.action is Action.IMPORT:
            return self.update_member(item, item.record) if item.vendor_id else None
        member_id = item.vendor_id or self.find_member_id(str(item.record.get("email", "")))
        if member_id is None:
            return nothing_to_deprovision(item)
        if item.action is Action.DISABLE:
            without_access = [
                {**product, "access": "none"} for product in item.record.get("products", [])
            ]
            return self.update_member(item, {"products": without_access}, member_id) or failed(
                item, "acc: the user is no longer a project member"
            )
        return self.remove_member(item, member_id)

    def update_member(
        self, item: DeliveryItem, changes: dict[str, Any], member_id: str | None = None
    ) -> Outcome | None:
        """PATCH the member; None when ACC no longer has it (404)."""
        member_id = member_id or item.vendor_id
        body = {key: changes[key] for key in PATCHABLE if changes.get(key) is not None}
        patched = self.call_unless_gone(
            "PATCH", f"{self.users_path}/{member_id}", json=body, expect=(200, 201)
        )
        return succeeded(item, member_id) if patched is not None else None

    def remove_member(self, item: DeliveryItem, member_id: str) -> Outcome:
        self.call_unless_gone("DELETE", f"{self.users_path}/{member_id}", expect=(200, 204))
        return succeeded(item, member_id)

    def find_member_id(self, email: str) -> str | None:
        answer = json_object(
            self.call(
                "GET",
                self.users_path,
                params={"filter[email]": email, "filterTextMatch": "equals"},
            )
        )
        for member in answer.get("results") or []:
            if (
                isinstance(member, dict)
                and member.get("id")
                and str(member.get("email", "")).lower() == email.lower()
            ):
                return str(member["id"])
        return None

    # -- import ----------------------------------------------------------------------------------

    def import_members(self, items: list[DeliveryItem]) -> dict[str, Outcome]:
        if not items:
            return {}
        sent = send_isolating(items, self.post_import)
        outcomes = {item.key: failed(item, str(rejection)) for item, rejection in sent.rejected}
        unconfirmed = {
            str(item.record.get("email", "")).lower(): (item, job_id)
            for batch, job_id in sent.accepted
            for item in batch
        }

        def confirm_round() -> dict[str, tuple[DeliveryItem, str | None]]:
            for email, (item, job_id) in list(unconfirmed.items()):
                member_id = self.find_member_id(email)
                if member_id is not None:
                    outcomes[item.key] = succeeded(item, member_id, **job(job_id))
                    del unconfirmed[email]
            return unconfirmed

        poll(confirm_round, lambda left: not left, self.poll_interval, self.max_polls)
        for item, job_id in unconfirmed.values():
            outcomes[item.key] = failed(
                item,
                f"acc: the import was accepted but {item.record.get('email')} is not a project "
                f"member after {self.max_polls} checks",
                **job(job_id),
            )
        return outcomes

    @staticmethod
    def import_record(item: DeliveryItem) -> dict[str, Any]:
        """The record without ``userId``: a user is only imported when ACC does not have it
        (no id yet, or a stale one from before a removal), so any id there is wrong."""
        return compact({**item.record, "userId": None})

    def post_import(self, items: list[DeliveryItem]) -> str | None:
        """The import call; its ``jobId``, which ACC does not support yet (seed), may be None."""
        response = self.call(
            "POST",
            f"/construction/admin/v2/projects/{self.project_id}/users:import",
            json={"users": [self.import_record(item) for item in items]},
            expect=(202,),
        )
        job_id = json_object(response).get("jobId") if response.content else None
        return str(job_id) if job_id else None


def job(job_id: str | None) -> dict[str, str]:
    return {"jobId": job_id} if job_id else {}
