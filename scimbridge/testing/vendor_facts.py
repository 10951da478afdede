"""What a vendor plugin states about its vendor, the hooks that read the vendor's accounts,
and SCIM as an IdP writes it: what every case of the vendor contract builds on
(:mod:`.contract`, :mod:`.reconcile_contract`)."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest

from scimbridge.delivery.state import DELIVERY_STATE
from scimbridge.testing.live import LiveBridge, scim_user

PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
STATE = ",".join(f"{DELIVERY_STATE}:{name}" for name in ("status", "vendorId", "lastError"))
"""The delivery state a test asks for: ``returned: request`` attributes, never sent unasked."""


# -- SCIM as an IdP writes it -----------------------------------------------------------------


def create_user(live: LiveBridge, name: str, **attributes: Any) -> dict[str, Any]:
    """POST :func:`~scimbridge.testing.live.scim_user` ``(name)`` with ``attributes`` over it."""
    response = live.scim("POST", "/Users", {**scim_user(name), **attributes})
    assert response.status_code == 201, response.text
    return dict(response.json())


def patch(live: LiveBridge, path: str, *operations: dict[str, Any]) -> None:
    """A SCIM PATCH of the resource at ``path`` (``/Users/<id>``, ``/Groups/<id>``)."""
    response = live.scim("PATCH", path, {"schemas": [PATCH], "Operations": list(operations)})
    assert response.status_code in (200, 204), response.text


def set_active(live: LiveBridge, user_id: str, active: bool) -> None:
    """PATCH ``active``, the way Okta and Entra ID deactivate and reactivate a user."""
    patch(live, f"/Users/{user_id}", {"op": "replace", "value": {"active": active}})


def join_group(live: LiveBridge, display_name: str, user_id: str) -> None:
    """Add the user to the group called ``display_name``, creating the group if needed: for a
    vendor whose mapping grants an account's only access through groups (Confide)."""
    found = live.scim("GET", f'/Groups?filter=displayName eq "{display_name}"').json()
    if found["totalResults"]:
        group_id = found["Resources"][0]["id"]
        operation = {"op": "add", "path": "members", "value": [{"value": user_id}]}
        patch(live, f"/Groups/{group_id}", operation)
        return
    group = {"schemas": [GROUP], "displayName": display_name, "members": [{"value": user_id}]}
    response = live.scim("POST", "/Groups", group)
    assert response.status_code == 201, response.text


def delivery_state(live: LiveBridge, user_id: str) -> dict[str, Any]:
    """How far the user got towards the vendor (status, vendorId, lastError), read through
    SCIM as an admin reads it."""
    response = live.scim("GET", f"/Users/{user_id}?attributes={STATE}")
    assert response.status_code == 200, response.text
    return dict(response.json()[DELIVERY_STATE])


def statuses(live: LiveBridge, path_contains: str | None = None) -> set[int]:
    """The statuses the emulator answered (to the calls whose path contains ``path_contains``)."""
    return {entry["status"] for entry in live.emulator.requests(path_contains)}


class VendorFacts:
    """The facts and hooks of one vendor plugin (set and overridden by its contract class)."""

    vendor: ClassVar[str]
    """The plugin's vendor key; its emulator is used."""
    account_field: ClassVar[str]
    """The field of an emulator end-state user (``emulator.users()``) holding the account's name."""
    account_id_field: ClassVar[str]
    """The field holding the vendor's own id of the account."""
    import_path: ClassVar[str]
    """A fragment of the path of the call that creates users (faults are queued on it)."""
    import_method: ClassVar[str] = "POST"
    """The method of that call: a fault of a write the vendor applies although its answer is
    late or lost is aimed at it alone, not at a read sharing the path (a listing)."""
    emulator_options: ClassVar[dict[str, Any]] = {}
    """Extra emulator constructor options (a rate-limit window scaled down for tests)."""
    target_options: ClassVar[dict[str, Any]] = {}
    """Extra target ``options`` (the client pacing at the scaled-down limits)."""
    recreated_keeps_account_id: ClassVar[bool] = True
    """False where the vendor deletes a removed user (ACC): re-provisioning makes a new account."""
    reused_name_conflicts: ClassVar[bool] = True
    """False where a new person with a reused name gets a new account rather than a
    conflict (ACC)."""
    sharing_attributes: ClassVar[tuple[dict[str, Any], ...] | None] = (
        {"userName": "ann@example.com", "externalId": "00u-ann"},
        {"userName": "bob@example.com", "externalId": "00u-bob"},
    )
    """The SCIM attributes of two different people whom the vendor's default mapping gives
    one account key, laid over ``scim_user("shared")`` (by default: two userNames and
    externalIds, one work email); None where no two SCIM users can map to one key (the key
    is the userName itself). The first one's externalId must be in the second's failure."""
    expiring_tokens: ClassVar[bool] = True
    """The emulator takes ``token_ttl_seconds`` and the client must renew; False for a
    credential that never expires (Rocket.Chat's personal access token)."""

    # -- hooks -------------------------------------------------------------------------------

    def account_name(self, name: str) -> str:
        """The vendor's name of the account of ``scim_user(name)``
        (:func:`~scimbridge.testing.live.scim_user`): by default its userName."""
        return f"{name}@example.com"

    def renamed(self, old: str, new: str) -> str:
        """The name (as :meth:`account_name` takes it) of the account of ``scim_user(old)``
        renamed to ``new``'s userName and email: ``new``, unless the mapping keeps the
        account name it chose at the first delivery (Rocket.Chat's ``first_available``)."""
        return new

    def is_deprovisioned(self, account: dict[str, Any] | None) -> bool:
        """What "deprovisioned" looks like at this vendor; ``account`` is None when the
        vendor holds no account of that name (True there only for a vendor that deletes)."""
        raise NotImplementedError(
            f"{type(self).__name__} must say what a deprovisioned {self.vendor} account looks like"
        )

    def provision(self, live: LiveBridge, name: str, **attributes: Any) -> dict[str, Any]:
        """Create a SCIM user the vendor shows as active; returns the SCIM resource.

        Override where a bare user is not an active account at the vendor (a Confide
        user holds nothing but the permissions its groups grant).
        """
        return create_user(live, name, **attributes)

    # -- reading the vendor ------------------------------------------------------------------

    def accounts_of(self, live: LiveBridge, name: str) -> list[dict[str, Any]]:
        """Every account the vendor holds under the name of ``scim_user(name)``."""
        wanted = self.account_name(name).lower()
        return [
            user
            for user in live.emulator.users()
            if str(user.get(self.account_field)).lower() == wanted
        ]

    def account_of(self, live: LiveBridge, name: str) -> dict[str, Any] | None:
        """The one account of ``name`` (None when there is none; never two)."""
        found = self.accounts_of(live, name)
        assert len(found) <= 1, f"{self.vendor} holds {len(found)} accounts for {name}: {found}"
        return found[0] if found else None

    def active_account_of(self, live: LiveBridge, name: str) -> dict[str, Any]:
        """The one account of ``name``, asserted to be there and not deprovisioned."""
        account = self.account_of(live, name)
        assert account is not None, f"{self.vendor} holds no account for {name}"
        assert not self.is_deprovisioned(account), f"{name} is deprovisioned: {account}"
        return account

    def check_facts(self) -> None:
        """Fail, naming them, when the subclass left out facts every test needs."""
        missing = [
            fact
            for fact in ("vendor", "account_field", "account_id_field", "import_path")
            if not hasattr(self, fact)
        ]
        if missing:
            pytest.fail(f"{type(self).__name__} must set {', '.join(missing)}")
