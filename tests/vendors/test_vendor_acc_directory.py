"""ACC: the members a delivery run knows (the directory), and imports confirmed newest first.

A run reads the project listing once and keeps it current with what the client writes and
confirms; a claim's imports are submitted back to back and confirmed together from the
newest members (``sort=addedOn desc``). What is asserted is ACC's state (the emulator's
members) and the calls it served.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from scimbridge.vendors.base import Action

VENDOR = "acc"
DOCS_MEMBER = {"key": "docs", "access": "member"}


def product(key: str, access: str) -> dict[str, str]:
    return {"key": key, "access": access}


def routes(harness: Any) -> Counter[str]:
    """The calls ACC served, by method and route (the listing apart by its ``sort``)."""
    counted: Counter[str] = Counter()
    for logged in harness.emu.requests():
        path = logged["path"]
        if path.endswith("/token"):
            counted["token"] += 1
        elif path.endswith("users:import"):
            counted["import"] += 1
        elif logged["method"] == "GET" and path.endswith("/users"):
            counted["newest" if logged["query"].get("sort") else "listing"] += 1
        else:
            counted[logged["method"]] += 1
    return counted


def emails(harness: Any) -> list[str]:
    return sorted(member["email"] for member in harness.emu.users())


def test_acc_2000_new_users_cost_ten_imports_one_listing_and_ten_confirmation_reads(
    own_emulator,
):
    acc = own_emulator("acc", import_delay_seconds=0)
    numbers = range(1, 2001)

    outcomes = acc.client().deliver([acc.item(n) for n in numbers])

    assert all(outcome.ok for outcome in outcomes)
    assert emails(acc) == sorted(acc.kit.name(n) for n in numbers)  # each exactly once
    by_email = {member["email"]: member["id"] for member in acc.emu.users()}
    assert [outcome.vendor_id for outcome in outcomes] == [
        by_email[acc.kit.name(n)] for n in numbers
    ]
    assert routes(acc) == {"token": 1, "listing": 1, "import": 10, "newest": 10}


def test_acc_a_member_added_in_acc_since_the_listing_was_read_gets_the_record(harness):
    client = harness.client()
    harness.imported(client, 1)  # the run has read the listing
    added = harness.emu.admin_create(
        email=harness.kit.name(2),
        companyId="company-set-in-acc",
        products=[product("docs", "administrator"), product("build", "member")],
    )

    [outcome] = client.deliver([harness.item(2, companyId="company-2")])

    [member] = [user for user in harness.emu.users() if user["email"] == harness.kit.name(2)]
    assert outcome.ok and outcome.vendor_id == member["id"] == added["id"]
    assert member["companyId"] == "company-2"
    assert member["products"] == [DOCS_MEMBER, product("build", "member")]
    assert harness.calls("users:import") == 2  # ACC ignored the second import


def test_acc_a_run_reads_the_listing_once(harness):
    client = harness.client()
    harness.imported(client, 1)
    harness.imported(client, 2, 3)

    outcomes = client.deliver([harness.item(1, Action.REMOVE), harness.item(4)])

    assert all(outcome.ok for outcome in outcomes)
    assert emails(harness) == sorted(harness.kit.name(n) for n in (2, 3, 4))
    assert routes(harness)["listing"] == 1
    assert harness.user(1) is None


def test_acc_a_user_disabled_then_enabled_in_one_run_gets_its_access_back(harness):
    client = harness.client()
    [known] = harness.imported(client, 1)
    client.deliver([harness.item(1, Action.DISABLE, known.vendor_id, first_import=False)])

    [outcome] = client.deliver([known])

    assert outcome.ok
    assert harness.user(1)["products"] == [DOCS_MEMBER]


def test_acc_the_next_run_sees_what_an_admin_changed_in_acc(harness):
    client = harness.client()
    [known] = harness.imported(client, 1)
    harness.emu.admin_change(harness.kit.name(1), products=[product("docs", "none")])
    client.run_ended()

    [outcome] = client.deliver([known])

    assert outcome.ok
    assert harness.user(1)["products"] == [DOCS_MEMBER]


def test_acc_a_listing_older_than_its_max_age_is_read_again(harness):
    client = harness.client(options={"directory_max_age_seconds": 0})
    [known] = harness.imported(client, 1)
    harness.emu.admin_change(harness.kit.name(1), products=[product("docs", "none")])

    [outcome] = client.deliver([known])

    assert outcome.ok
    assert harness.user(1)["products"] == [DOCS_MEMBER]


def test_acc_a_429_between_imports_confirms_those_accepted_and_postpones_the_rest(own_emulator):
    acc = own_emulator("acc", write_limit=3, limit_seconds=60, import_delay_seconds=0)
    numbers = range(1, 1001)

    outcomes = acc.client().deliver([acc.item(n) for n in numbers])

    assert [outcome.ok for outcome in outcomes] == [True] * 600 + [False] * 400
    assert all(outcome.retryable and outcome.retry_after for outcome in outcomes[600:])
    assert emails(acc) == sorted(acc.kit.name(n) for n in range(1, 601))
