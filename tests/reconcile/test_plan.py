"""The plan's rules, with a scripted client: which account is whose, and what is drift.

The vendor contract checks them against every emulator; these name the rules one by one,
on Aria's default mapping (its account key: ``username``).
"""

from __future__ import annotations

from typing import Any, ClassVar

import pytest
import yaml

from scimbridge.config import Target, default_mapping, parse_config
from scimbridge.delivery.wanted import BridgeUser
from scimbridge.mapping import Action, MappedRecord, Mapping, load_mapping
from scimbridge.reconcile.compare import differences
from scimbridge.reconcile.plan import Kind, make_plan
from scimbridge.reconcile.reading import read_accounts
from scimbridge.vendors import record_shape
from scimbridge.vendors.base import DeliveryItem, Outcome, ReadBack, VendorAccount, VendorClient


class Scripted(VendorClient):
    """Aria's facts, and the accounts a test gives it."""

    vendor = "aria"
    max_batch = 2
    account_keys = frozenset({"username"})
    read_back: ClassVar[ReadBack] = "list"

    def authenticate(self) -> None:
        return None

    def deliver(self, items: list[DeliveryItem]) -> list[Outcome]:
        raise AssertionError("a plan sends nothing")

    def excluded(self, account: VendorAccount) -> str | None:
        return "the service account" if account.record.get("username") == "svc" else None


class LookingUp(Scripted):
    read_back: ClassVar[ReadBack] = "lookup"

    def __init__(self, target: Target, held: list[VendorAccount]):
        super().__init__(target)
        self.held = held
        self.asked: list[list[str]] = []

    def look_up(self, field: str, values: list[str]) -> list[VendorAccount]:
        self.asked.append(values)
        return [a for a in self.held if str(a.record.get(field)).lower() in values]


@pytest.fixture
def target() -> Target:
    document = {
        "targets": [
            {"name": "aria", "vendor": "aria", "base_url": "http://127.0.0.1:9",
             "credentials": {"username": "admin", "password": "aria-password"},
             "options": {"auth_source_id": "local"},
             "inbound": {"bearer_tokens": ["t" * 24]}}
        ]
    }  # fmt: skip
    return parse_config(yaml.safe_dump(document)).targets[0]


@pytest.fixture
def mapping() -> Mapping:
    return load_mapping(str(default_mapping("aria")), record_shape)


def user(name: str, vendor_id: str | None = None, **fields: Any) -> BridgeUser:
    document = {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": name,
        "name": {"givenName": name.title(), "familyName": "Tester"},
        "active": True,
    }
    values: dict[str, Any] = {
        "link_id": f"link-{name}",
        "scim_id": f"id-{name}",
        "external_id": None,
        "user_name": name,
        "vendor_id": vendor_id,
        "delivered_once": vendor_id is not None,
        "vendor_record": {"username": name} if vendor_id else None,
        "sent_at": None,
        "deleted": False,
        "document": document,
        "groups": [],
    }
    return BridgeUser(**{**values, **fields})


def account(vendor_id: str, username: str, active: bool = True, **record: Any) -> VendorAccount:
    held = {"id": vendor_id, "username": username, "firstName": username.title()}
    return VendorAccount(vendor_id, {**held, **record}, active)


def kinds(plan: Any) -> dict[str, str]:
    return {str(f.user or f.account).split(" ")[0]: f.kind.value for f in plan.findings}


def test_an_account_is_found_by_the_vendor_id_the_link_holds(target, mapping) -> None:
    plan = make_plan(
        target, Scripted(target), mapping, [user("ann", "1")], [account("1", "ann")], {}
    )
    assert kinds(plan) == {"ann": "in_step"}


def test_an_account_is_found_by_its_key_when_the_link_knows_no_id(target, mapping) -> None:
    plan = make_plan(target, Scripted(target), mapping, [user("ann")], [account("1", "ann")], {})
    assert kinds(plan) == {"ann": "in_step"}


def test_an_account_whose_key_another_user_holds_is_never_this_users(target, mapping) -> None:
    reserved = {("username", "ann"): "link-someone-else"}
    plan = make_plan(
        target, Scripted(target), mapping, [user("ann")], [account("1", "ann")], reserved
    )
    assert plan.of(Kind.MISSING) and not plan.of(Kind.IN_STEP)


def test_two_accounts_answering_to_one_user_are_duplicated(target, mapping) -> None:
    accounts = [account("1", "ann"), account("2", "ANN")]
    plan = make_plan(target, Scripted(target), mapping, [user("ann", "1")], accounts, {})
    (duplicated,) = plan.of(Kind.DUPLICATED)
    assert duplicated.vendor_ids == ("1", "2") and plan.drift


def test_a_disabled_account_of_an_active_user_differs_on_active(target, mapping) -> None:
    accounts = [account("1", "ann", active=False, enabled=False)]
    plan = make_plan(target, Scripted(target), mapping, [user("ann", "1")], accounts, {})
    (differs,) = plan.of(Kind.DIFFERS)
    assert [d.field for d in differs.differences] == ["active", "enabled"]


def test_a_deleted_user_is_looked_for_only_under_what_it_was_sent(target, mapping) -> None:
    """Its link forgot the account (the vendor said it was gone): a new account with its
    user name is somebody else's business, an orphan."""
    gone = user("ann", deleted=True, document=None)
    plan = make_plan(target, Scripted(target), mapping, [gone], [account("9", "ann")], {})
    assert kinds(plan) == {"ann": "orphan"}


def test_the_service_account_is_excluded_not_an_orphan(target, mapping) -> None:
    plan = make_plan(target, Scripted(target), mapping, [], [account("1", "svc")], {})
    (excluded,) = plan.findings
    assert excluded.kind is Kind.EXCLUDED and excluded.detail == "the service account"
    assert not plan.drift


def test_an_inactive_orphan_is_reported_but_is_no_drift(target, mapping) -> None:
    plan = make_plan(target, Scripted(target), mapping, [], [account("1", "bob", False)], {})
    assert [f.kind for f in plan.findings] == [Kind.ORPHAN] and not plan.drift


def test_a_user_with_a_delivery_on_its_way_is_pending_not_judged(target, mapping) -> None:
    waiting = user("ann", "1", open_entry="pending")
    plan = make_plan(target, Scripted(target), mapping, [waiting], [], {})
    assert kinds(plan) == {"ann": "pending"} and not plan.drift


def test_a_lookup_client_is_asked_for_the_users_keys_and_reports_no_orphans(
    target, mapping
) -> None:
    held = [account("1", "ann"), account("2", "stranger")]
    client = LookingUp(target, held)
    users = [user("ann", "1"), user("bob"), user("cyd")]
    plan = make_plan(
        target, client, mapping, users, read_accounts(target, client, mapping, users), {}
    )
    assert kinds(plan) == {"ann": "in_step", "bob": "missing", "cyd": "missing"}
    assert client.asked == [["ann", "bob"], ["cyd"]], "the keys, max_batch at a time"


@pytest.mark.parametrize(
    ("held", "wanted", "managed", "drift"),
    [
        ({"roleNames": ["ContentAdmin", "ReadOnly"]}, ["ReadOnly"], ("ReadOnly",), False),
        ({"roleNames": ["Administrator"]}, [], ("Administrator", "ReadOnly"), True),
        ({"roleNames": ["ContentAdmin"]}, [], ("Administrator",), False),
        ({"roleNames": []}, ["ReadOnly"], ("ReadOnly",), True),
    ],
    ids=["a role of the vendor's own", "a managed role no longer granted", "none", "missing"],
)
def test_a_list_holds_the_granted_values_and_no_stale_managed_one(held, wanted, managed, drift):
    mapped = MappedRecord(Action.IMPORT, {"roleNames": wanted}, {"roleNames": managed})
    assert bool(differences(mapped, held, frozenset(), lambda _, v: v)) is drift


def test_a_field_the_mapping_gives_no_value_is_never_drift() -> None:
    mapped = MappedRecord(Action.IMPORT, {"lastName": None, "firstName": "Ann"})
    assert (
        differences(mapped, {"lastName": "Set by hand", "firstName": "Ann"}, frozenset(), str) == []
    )


def test_an_account_key_is_compared_as_the_vendor_compares_it() -> None:
    mapped = MappedRecord(Action.IMPORT, {"username": "Ann"})

    def lower(_: str, value: str) -> str:
        return value.lower()

    assert differences(mapped, {"username": "ann"}, frozenset({"username"}), lower) == []
    assert differences(mapped, {"username": "ann"}, frozenset(), lower) != []
