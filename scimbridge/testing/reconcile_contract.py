"""The vendor contract's reconcile cases: the plan finds each kind of drift, apply converges.

A mixin of :class:`~scimbridge.testing.contract.VendorContract`: each case makes drift at
the vendor as its admin would (the emulator's admin controls), plans, applies, delivers,
and asserts what the vendor then holds, and that a second plan finds nothing. A vendor
states its facts as class attributes; a case whose fact is None is skipped, with the
reason the attribute's docstring gives.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import pytest

from scimbridge.config import default_mapping
from scimbridge.reconcile.apply import OrphansNotDisabled, apply_plan, disable_orphans
from scimbridge.reconcile.plan import Kind, Plan
from scimbridge.reconcile.run import plan_target
from scimbridge.testing.live import LiveBridge
from scimbridge.testing.vendor_facts import GROUP, VendorFacts, set_active
from scimbridge.vendors import client_for, vendor_plugin

TESTERS = "Reconcile Testers"
"""The SCIM group a mapping change (:attr:`ReconcileCases.mapping_change`) keys on."""


def plan(live: LiveBridge) -> Plan:
    """What ``scimbridge reconcile --target`` finds, with a client of its own."""
    target = live.bridge.config.targets[0]
    client = client_for(target)
    try:
        return plan_target(
            live.bridge.database,
            target,
            client,
            live.bridge.mappings[target.name],
            live.bridge.directories[target.name],
        )
    finally:
        client.close()


def apply(live: LiveBridge, found: Plan) -> None:
    """``--apply``, then the outbox delivered."""
    target = live.bridge.config.targets[0]
    apply_plan(live.bridge.database, target, found, live.bridge.directories[target.name])
    live.drain()


def kinds_of(found: Plan) -> dict[str, str]:
    """Each finding that is not in step: the user's (or account's) name, and its kind."""
    return {
        str(finding.user or finding.account): finding.kind.value
        for finding in found.findings
        if finding.kind is not Kind.IN_STEP and finding.kind is not Kind.EXCLUDED
    }


class ReconcileCases(VendorFacts):
    """The reconcile cases of :class:`~scimbridge.testing.contract.VendorContract`."""

    mapping_change: ClassVar[tuple[str, str, str, Any] | None] = None
    """An edit of the vendor's default mapping that changes the record of the members of
    the SCIM group "Reconcile Testers" only: (text replaced, replacement, the account's
    field as ``emulator.users()`` shows it, the value a member then holds there — a list
    field holds it among others). None where the vendor reads back no field a mapping
    could change without changing the account's identity (CloudShell reads the user name
    only)."""
    managed_drift: ClassVar[dict[str, Any] | None] = None
    """Fields an admin changes at the vendor that the mapping manages (as
    ``emulator.users()`` shows them). None where the vendor shows no managed field an
    admin can change."""
    unmanaged_drift: ClassVar[dict[str, Any] | None] = None
    """Fields an admin changes that the mapping does not manage (a role granted in the
    product): never drift, never undone."""
    orphan_fields: ClassVar[dict[str, Any] | None] = None
    """An account an admin makes by hand (``admin_create``), unrelated to the bridge."""
    reenabled: ClassVar[dict[str, Any] | None] = None
    """What an admin changes to make a deprovisioned account active again; None where
    deprovisioning removes the account (:meth:`reenable_by_admin` then makes it anew)."""

    # -- hooks ---------------------------------------------------------------------------

    def reenable_by_admin(self, live: LiveBridge, name: str) -> None:
        """Make the deprovisioned account of ``name`` active again, as an admin would."""
        if self.reenabled is None:
            pytest.fail(f"{type(self).__name__} must say how an admin re-enables an account")
        live.emulator.admin_change(self.account_name(name), **self.reenabled)

    def lose_accounts(self, live: LiveBridge) -> None:
        """The vendor loses every account (restored from an old backup, a wiped tenant)."""
        with live.emulator.emulator.lock:
            live.emulator.emulator.reset_state()

    # -- helpers -------------------------------------------------------------------------

    def readable(self) -> None:
        if vendor_plugin(self.vendor).client.read_back == "none":
            pytest.skip(f"{self.vendor} documents no way to read its accounts")

    def user_of(self, name: str) -> str:
        return f"{name}@example.com"

    # -- cases ---------------------------------------------------------------------------

    def test_a_vendor_that_cannot_be_read_has_every_user_unverifiable_and_apply_resends(
        self, live: LiveBridge
    ) -> None:
        if vendor_plugin(self.vendor).client.read_back != "none":
            pytest.skip(f"{self.vendor} can be read back: this case is for one that cannot")
        self.provision(live, "ann")
        live.drain()
        sent = len(live.emulator.requests())
        found = plan(live)
        assert [finding.kind for finding in found.findings] == [Kind.UNVERIFIABLE]
        assert not found.drift
        apply(live, found)
        assert len(live.emulator.requests()) > sent, "apply sent the user again"
        self.active_account_of(live, "ann")

    def test_users_just_delivered_are_in_step(self, live: LiveBridge) -> None:
        self.readable()
        for name in ("ann", "bob"):
            self.provision(live, name)
        live.drain()
        found = plan(live)
        assert kinds_of(found) == {}
        assert found.counts()["in_step"] == 2

    def test_a_mapping_change_plans_exactly_the_users_it_changes_and_apply_sends_it(
        self, live: LiveBridge, tmp_path: Path
    ) -> None:
        self.readable()
        if self.mapping_change is None:
            pytest.skip(f"{self.vendor} reads back no field a mapping change could move")
        old, new, field, value = self.mapping_change
        ann = self.provision(live, "ann")
        self.provision(live, "bob")
        self._group(live, TESTERS, ann["id"])
        live.drain()
        text = default_mapping(self.vendor).read_text()
        assert old in text, f"the mapping change's text is not in {self.vendor}.yaml"
        edited = tmp_path / "edited.yaml"
        edited.write_text(text.replace(old, new))
        restarted = live.restarted_with_mapping(edited)
        found = plan(restarted)
        assert kinds_of(found) == {self._user(found, "ann"): "differs"}
        (change,) = found.of(Kind.DIFFERS)
        assert [difference.field for difference in change.differences] != []
        apply(restarted, found)
        held = self.active_account_of(restarted, "ann")[field]
        assert value in held if isinstance(held, list) else held == value
        assert kinds_of(plan(restarted)) == {}

    def test_an_admin_change_of_a_managed_field_is_drift_that_apply_undoes(
        self, live: LiveBridge
    ) -> None:
        self.readable()
        if self.managed_drift is None:
            pytest.skip(f"an admin can change no field of {self.vendor}'s record")
        self.provision(live, "ann")
        live.drain()
        before = self.active_account_of(live, "ann")
        live.emulator.admin_change(self.account_name("ann"), **self.managed_drift)
        found = plan(live)
        assert kinds_of(found) == {self._user(found, "ann"): "differs"}
        apply(live, found)
        after = self.active_account_of(live, "ann")
        assert {key: after[key] for key in self.managed_drift} == {
            key: before[key] for key in self.managed_drift
        }
        assert kinds_of(plan(live)) == {}

    def test_an_admin_change_of_an_unmanaged_value_is_neither_reported_nor_undone(
        self, live: LiveBridge
    ) -> None:
        self.readable()
        if self.unmanaged_drift is None:
            pytest.skip(f"{self.vendor} holds no value the mapping leaves alone")
        self.provision(live, "ann")
        live.drain()
        live.emulator.admin_change(self.account_name("ann"), **self.unmanaged_drift)
        assert kinds_of(plan(live)) == {}
        if self.managed_drift is not None:
            live.emulator.admin_change(self.account_name("ann"), **self.managed_drift)
            apply(live, plan(live))
        held = self.active_account_of(live, "ann")
        assert {key: held[key] for key in self.unmanaged_drift} == self.unmanaged_drift

    def test_a_hand_made_account_is_an_orphan_that_apply_leaves_alone(
        self, live: LiveBridge
    ) -> None:
        self.readable()
        assert self.orphan_fields is not None, "orphan_fields: an account made by hand"
        self.provision(live, "ann")
        live.drain()
        made = live.emulator.admin_create(**self.orphan_fields)
        found = plan(live)
        (orphan,) = found.of(Kind.ORPHAN)
        assert orphan.vendor_ids == (str(made[self.account_id_field]),)
        assert orphan.active and found.drift
        apply(live, found)
        (still,) = [
            user
            for user in live.emulator.users()
            if str(user[self.account_id_field]) == str(made[self.account_id_field])
        ]
        assert still == made

    def test_an_orphan_is_disabled_only_when_asked_and_never_deleted(
        self, live: LiveBridge
    ) -> None:
        self.readable()
        assert self.orphan_fields is not None, "orphan_fields: an account made by hand"
        made = live.emulator.admin_create(**self.orphan_fields)
        target = live.bridge.config.targets[0]
        orphans = plan(live).of(Kind.ORPHAN)
        try:
            disable_orphans(
                live.bridge.database, target, live.bridge.mappings[target.name], orphans
            )
        except OrphansNotDisabled:
            assert live.bridge.mappings[target.name].on_deactivate.action.value == "remove"
            return
        live.drain()
        (account,) = [
            user
            for user in live.emulator.users()
            if str(user[self.account_id_field]) == str(made[self.account_id_field])
        ]
        assert self.is_deprovisioned(account)
        assert not plan(live).drift

    def test_a_user_the_vendor_lost_is_missing_and_apply_provisions_it_again(
        self, live: LiveBridge
    ) -> None:
        self.readable()
        self.provision(live, "ann")
        live.drain()
        self.lose_accounts(live)
        found = plan(live)
        assert kinds_of(found) == {self._user(found, "ann"): "missing"}
        apply(live, found)
        self.active_account_of(live, "ann")
        assert kinds_of(plan(live)) == {}

    def test_a_deprovisioned_user_found_active_is_deprovisioned_again(
        self, live: LiveBridge
    ) -> None:
        self.readable()
        ann = self.provision(live, "ann")
        live.drain()
        set_active(live, ann["id"], False)
        live.drain()
        self.reenable_by_admin(live, "ann")
        found = plan(live)
        assert kinds_of(found) == {self._user(found, "ann"): "active_but_deprovisioned"}
        apply(live, found)
        assert self.is_deprovisioned(self.account_of(live, "ann"))
        assert kinds_of(plan(live)) == {}

    # -- helpers -------------------------------------------------------------------------

    @staticmethod
    def _user(found: Plan, name: str) -> str:
        """How the plan names the user of ``scim_user(name)``."""
        (user,) = [
            str(finding.user)
            for finding in found.findings
            if finding.user and finding.user.startswith(f"{name}@example.com ")
        ]
        return user

    @staticmethod
    def _group(live: LiveBridge, name: str, *members: str) -> None:
        response = live.scim(
            "POST",
            "/Groups",
            {"schemas": [GROUP], "displayName": name, "members": [{"value": m} for m in members]},
        )
        assert response.status_code == 201, response.text
