"""Autodesk Construction Cloud: import, confirmation by email, PATCH and DELETE of project users."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

import pytest
from scimbridge_emulators import demo_options

from scimbridge.vendors.base import Action, VendorUnavailable

VENDOR = "acc"
PROJECT = demo_options("acc")["project_id"]


def test_the_vendor_id_is_the_acc_user_id_found_by_email(harness):
    [outcome] = harness.client().deliver([harness.item(1)])

    assert outcome.vendor_id == harness.user(1)["id"]


def test_a_project_id_with_the_data_management_prefix_is_used_without_it(harness):
    client = harness.client(options={"project_id": f"b.{PROJECT}"})

    [outcome] = client.deliver([harness.item(1)])

    assert outcome.ok
    assert harness.calls(f"/projects/{PROJECT}/users:import") == 1


def test_a_known_member_is_patched_not_imported_again(harness):
    client = harness.client()
    [known] = harness.imported(client, 1)

    [outcome] = client.deliver(
        [harness.item(1, vendor_id=known.vendor_id, first_import=False, roleIds=["role-7"])]
    )

    assert outcome.ok
    assert harness.calls("users:import") == 1
    assert harness.calls(f"/users/{known.vendor_id}", method="PATCH") == 1
    assert harness.user(1)["roleIds"] == ["role-7"]


def test_a_member_who_left_the_project_is_imported_again(harness):
    client = harness.client()
    [known] = harness.imported(client, 1)
    client.deliver([harness.item(1, Action.REMOVE, known.vendor_id, first_import=False)])

    [outcome] = client.deliver([known])

    assert outcome.ok
    assert outcome.vendor_id == harness.user(1)["id"] != known.vendor_id


def test_removing_a_member_without_a_vendor_id_finds_it_by_email(harness):
    client = harness.client()
    harness.imported(client, 1)

    [outcome] = client.deliver([harness.item(1, Action.REMOVE)])

    assert outcome.ok
    assert harness.user(1) is None


def test_a_target_without_a_project_is_refused_at_construction(harness):
    with pytest.raises(ValueError, match="project_id"):
        harness.client(options={"project_id": ""})


def test_a_disable_of_a_user_acc_never_had_is_done(harness):
    [outcome] = harness.client().deliver([harness.item(1, Action.DISABLE)])

    assert outcome.ok and "skipped" in outcome.details
    assert harness.calls("/users", method="PATCH") == 0


def test_an_unconfirmed_import_is_confirmed_by_the_next_round(own_emulator):
    slow = own_emulator("acc", import_delay_seconds=0.3)
    client = slow.client()
    client.deliver([slow.item(1)])
    time.sleep(0.4)

    [outcome] = client.deliver([slow.item(1)])

    assert outcome.ok and outcome.vendor_id == slow.user(1)["id"]
    assert slow.calls("users:import") == 1


def test_acc_a_first_import_delivered_twice_leaves_one_member(harness):
    client = harness.client()
    item = harness.item(1)

    first, again = client.deliver([item]) + client.deliver([item])

    assert first.ok and again.ok
    assert again.vendor_id == first.vendor_id
    assert [user["email"] for user in harness.emu.users()] == [harness.kit.name(1)]
    assert harness.calls("users:import") == 1
    assert harness.calls("/users/", method="PATCH") == 0  # the member holds the record already


def test_acc_an_existing_member_is_updated_not_imported(harness):
    existing = member(harness, 1, [product("docs", "administrator"), product("build", "member")])
    wanted = [product("docs", "member"), product("build", "none")]

    [outcome] = harness.client().deliver([harness.item(1, products=wanted)])

    assert outcome.ok and outcome.vendor_id == existing["id"]
    assert harness.calls("users:import") == 0
    assert harness.user(1)["products"] == wanted


def test_acc_an_unconfirmed_import_is_retryable(own_emulator):
    slow = own_emulator("acc", import_delay_seconds=5)

    [outcome] = slow.client().deliver([slow.item(1)])

    assert not outcome.ok and outcome.retryable
    assert "checking again later" in outcome.error
    assert outcome.details["jobId"]


def test_acc_a_removal_with_a_stored_id_deletes_it_without_a_lookup(harness):
    client = harness.client()
    [known] = harness.imported(client, 1)
    reads = harness.calls("/users", method="GET")

    [outcome] = client.deliver([harness.item(1, Action.REMOVE, known.vendor_id, False)])

    assert outcome.ok
    assert harness.calls("/users", method="GET") == reads
    assert harness.user(1) is None


def test_acc_lookups_page_through_the_listing(own_emulator):
    acc = own_emulator("acc", import_delay_seconds=0)

    outcomes = acc.client().deliver([acc.item(n) for n in range(1, 51)])

    assert all(outcome.ok for outcome in outcomes)
    reads = acc.sent("/users", method="GET")
    assert len(reads) == 2  # one page before the import, one to confirm it
    assert not any("filter[email]" in read["query"] for read in reads)


def test_acc_a_few_emails_in_a_long_listing_are_looked_up_one_by_one(harness):
    for n in range(100, 350):
        member(harness, n, [product("docs", "member")])

    [outcome] = harness.client().deliver([harness.item(1, Action.REMOVE)])

    assert outcome.ok and "skipped" in outcome.details
    reads = harness.sent("/users", method="GET")
    assert [read["query"].get("filter[email]") for read in reads] == [None, harness.kit.name(1)]


def test_acc_a_429_in_mid_batch_keeps_the_patches_already_applied(own_emulator):
    limited = own_emulator("acc", write_limit=5, limit_seconds=60, import_delay_seconds=0)
    client = limited.client()
    known = limited.imported(client, *range(1, 9))
    admin = [product("docs", "administrator")]

    outcomes = client.deliver(
        [replace(item, record={**item.record, "products": admin}) for item in known]
    )

    assert [outcome.ok for outcome in outcomes] == [True] * 4 + [
        False
    ] * 4  # 1 of 5 writes imported
    assert all(outcome.retryable and outcome.retry_after for outcome in outcomes[4:])
    assert [limited.user(n)["products"] == admin for n in range(1, 9)] == [True] * 4 + [False] * 4


def test_acc_a_timed_out_first_import_then_a_removal_without_vendor_id_removes_the_member(
    harness,
):
    client = harness.client(delivery={"timeout_seconds": 0.3})
    harness.emu.fault(after="timeout", delay=1.0, path="users:import")
    with pytest.raises(VendorUnavailable, match="Timeout"):
        client.deliver([harness.item(1)])

    [outcome] = client.deliver([harness.item(1, Action.REMOVE)])

    assert outcome.ok and outcome.vendor_id
    assert harness.user(1) is None


def test_acc_leaving_a_role_group_removes_the_role_and_keeps_others(harness):
    client = harness.client()
    [known] = harness.imported(client, 1)
    harness.emu.emulator.members[known.vendor_id]["roleIds"] = ["set-in-acc", "engineer"]
    update = harness.item(1, vendor_id=known.vendor_id, first_import=False, roleIds=[])

    [outcome] = client.deliver([replace(update, managed={"roleIds": ("engineer", "manager")})])

    assert outcome.ok
    assert harness.user(1)["roleIds"] == ["set-in-acc"]


def product(key: str, access: str) -> dict[str, str]:
    return {"key": key, "access": access}


def member(harness, n: int, products: list[dict[str, str]]) -> dict[str, Any]:
    """A project member added in ACC, outside the bridge."""
    harness.emu.admin_create(email=harness.kit.name(n), products=products)
    return harness.user(n)


def test_acc_a_disable_carries_the_records_company_with_the_products_stripped(harness):
    client = harness.client()
    [known] = harness.imported(client, 1)
    moved = harness.item(
        1, Action.DISABLE, known.vendor_id, first_import=False, companyId="company-moved"
    )

    [outcome] = client.deliver([moved])

    assert outcome.ok
    assert harness.user(1)["companyId"] == "company-moved"
    assert harness.user(1)["products"] == [product("docs", "none")]
