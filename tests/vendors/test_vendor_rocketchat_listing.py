"""Rocket.Chat: new users found absent, and found created, by the run's directory (one
``users.list`` of every user) rather than one ``users.info?importId=`` each, where the
listing can tell; the directory serves the run, not one batch, and never hands a user an
account somebody else created since it was read."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

import pytest

from scimbridge.vendors.base import VendorClient

VENDOR = "rocketchat"
API = "/api/v1"


def seed(client: VendorClient, count: int) -> None:
    """``count`` users the bridge does not manage, imported in one operation."""
    users = [
        {"username": f"staff{n}", "emails": [f"staff{n}@example.com"], "importIds": [f"hr-{n}"]}
        for n in range(count)
    ]
    imported(client, users)


def imported(client: VendorClient, users: list[dict[str, Any]]) -> None:
    """Import ``users`` as somebody other than the bridge would, and wait for the run."""
    client.call("POST", f"{API}/import.new")
    client.call("POST", f"{API}/import.addUsers", json={"users": users})
    client.call("POST", f"{API}/import.run")
    while client.call("GET", f"{API}/import.status").json()["state"] == "importing":
        pass


def test_new_users_cost_a_listing_before_and_after_the_import_not_a_lookup_each(harness):
    outcomes = harness.client().deliver([harness.item(n) for n in range(1, 31)])

    assert all(outcome.ok for outcome in outcomes)
    assert harness.calls("users.list", "GET") == 2
    assert harness.calls("users.info", "GET") == 0
    users = {user["username"]: user["_id"] for user in harness.emu.users()}
    assert [outcome.vendor_id for outcome in outcomes] == [users[f"user{n}"] for n in range(1, 31)]


def test_everyone_is_listed_in_one_answer(harness):
    """250 users: ``count=0`` lists them all at once (``API_Allow_Infinite_Count``)."""
    client = harness.client()
    seed(client, 250)

    [outcome] = client.deliver([harness.item(1)])

    assert outcome.ok
    assert [logged["query"]["count"] for logged in harness.sent("users.list", "GET")] == [
        "0",
        "0",
    ]
    assert harness.calls("users.info", "GET") == 0


def test_the_directory_serves_the_runs_later_batches(harness):
    """One listing before the first import; each import is then confirmed by one listing,
    which the next batch uses: no listing before it."""
    client = harness.client()

    first = client.deliver([harness.item(n) for n in range(1, 4)])
    second = client.deliver([harness.item(n) for n in range(4, 7)])

    assert all(outcome.ok for outcome in first + second)
    assert harness.calls("users.list", "GET") == 3
    assert harness.calls("users.info", "GET") == 0
    assert sorted(user["username"] for user in harness.emu.users()) == [
        f"user{n}" for n in range(1, 7)
    ]


def test_a_run_that_ended_lists_again(harness):
    client = harness.client()
    client.deliver([harness.item(1)])

    client.run_ended()
    client.deliver([harness.item(2)])

    assert harness.calls("users.list", "GET") == 4  # before and after each import


def test_a_directory_older_than_its_maximum_age_is_read_again(harness):
    client = harness.client(options={"directory_max_age_seconds": 0.2})
    client.deliver([harness.item(1)])
    time.sleep(0.3)

    client.deliver([harness.item(2)])

    assert harness.calls("users.list", "GET") == 4


@pytest.mark.parametrize("age", [-1, "soon", True])
def test_a_directory_max_age_that_is_no_number_is_refused(harness, age):
    with pytest.raises(ValueError, match="directory_max_age_seconds"):
        harness.client(options={"directory_max_age_seconds": age})


def test_a_name_the_client_freed_is_free_in_the_directory(harness):
    """The bridge renamed user1's account in this run: its former user name is free to a new
    user, who is imported without a lookup."""
    client = harness.client()
    [known] = harness.imported(client, 1)
    client.deliver([replace(known, record={**known.record, "username": "renamed"})])

    assert client.holders("username", ["user1", "renamed"]) == {
        "user1": None,
        "renamed": harness.emu.users()[0]["_id"],
    }
    assert harness.calls("users.list", "GET") == 2  # the first import's, before and after


def test_a_user_the_bridge_delivered_before_is_looked_up_by_import_id(harness):
    """An admin renamed the account in Rocket.Chat: only its import id still finds it."""
    client = harness.client()
    [known] = harness.imported(client, 1)
    account = harness.user(1)
    client.call(
        "POST",
        f"{API}/users.update",
        json={"userId": account["_id"], "data": {"username": "renamed", "email": "r@example.com"}},
    )

    [outcome] = client.deliver([replace(known, record={**known.record, "name": "Updated"})])

    assert outcome.ok and outcome.vendor_id == account["_id"]
    assert [(user["username"], user["name"]) for user in harness.emu.users()] == [
        ("user1", "Updated")
    ]


def test_a_new_user_whose_user_name_is_held_is_looked_up_by_import_id(harness):
    client = harness.client()
    client.deliver([harness.item(9, username="user1")])

    [outcome] = client.deliver([harness.item(1)])

    assert not outcome.ok and "user name user1 is taken" in outcome.error
    assert harness.calls("users.info", "GET") >= 1


def test_a_refused_listing_leaves_the_lookups_one_by_one(harness):
    """The account lacks ``view-d-room``: users.list is 403, and the users still arrive."""
    harness.emu.fault(status=403, path="users.list", times=10)

    outcomes = harness.client().deliver([harness.item(1), harness.item(2)])

    assert all(outcome.ok for outcome in outcomes)
    assert harness.calls("users.info", "GET") == 4  # before and after the import


def test_an_import_reporting_errors_confirms_each_user_by_import_id(harness):
    """user2's user name is taken: the run counts an error, so the accounts holding the
    other records' names could be anybody's; each is looked up by import id."""
    client = harness.client()
    client.deliver([harness.item(9, username="user2")])
    listed = harness.calls("users.list", "GET")

    outcomes = client.deliver([harness.item(1), harness.item(2), harness.item(3)])

    assert [outcome.ok for outcome in outcomes] == [True, False, True]
    assert "user name user2 is taken" in outcomes[1].error
    # user2 (held in the directory) looked up before the import, the three after it, and
    # the holder of user2's name; no listing after the errors
    assert harness.calls("users.info", "GET") == 5
    assert harness.calls("users.list", "GET") == listed
    assert [user["importIds"] for user in harness.emu.users() if user["username"] == "user2"] == [
        ["link-9"]
    ]


def test_a_listing_dearer_than_the_lookups_is_not_paged(own_emulator):
    """250 users where the deployment turned ``API_Allow_Infinite_Count`` off: three calls
    before and three after cost more than two lookups."""
    rc = own_emulator(VENDOR, allow_infinite_count=False)
    client = rc.client()
    seed(client, 250)

    [outcome] = client.deliver([rc.item(1)])

    assert outcome.ok
    assert rc.calls("users.list", "GET") == 2  # each first answer tells the total
    assert rc.calls("users.info", "GET") == 2


def test_a_short_answer_is_paged_on_from_where_it_stopped(own_emulator):
    """With infinite count off, ``count=0`` answers 50 users; the listing pages on by 100."""
    rc = own_emulator(VENDOR, allow_infinite_count=False)
    seed(rc.client(), 250)

    holders = rc.client().holders("username", [f"staff{n}" for n in range(0, 250, 25)])

    assert all(holders.values())
    assert [
        (logged["query"]["count"], logged["query"]["offset"])
        for logged in rc.sent("users.list", "GET")
    ] == [("0", "0"), ("100", "50"), ("100", "150")]


def test_a_listing_that_does_not_fit_in_the_routes_limit_is_not_started(own_emulator):
    """Two calls a minute per route, infinite count off: the first answer leaves room for
    one more call, and the listing needs two; the users are looked up one by one, as far as
    that limit allows."""
    rc = own_emulator(VENDOR, allow_infinite_count=False)
    seed(rc.client(), 250)
    client = rc.client(options={"rate_limits": {"per_route": {"calls": 2}}})

    outcomes = client.deliver([rc.item(n) for n in range(1, 11)])

    assert rc.calls("users.list", "GET") == 2  # a first answer before and after the import
    assert rc.calls("users.info", "GET") == 2
    assert rc.user(1) and rc.user(2) and not rc.user(3)
    assert all(outcome.retryable for outcome in outcomes)  # unverified, or not looked up


def test_the_listing_that_chose_the_user_names_serves_the_batch_it_chose_for(harness):
    """Choosing user names lists every user; the import that follows needs no second
    listing before it, only the one after it."""
    client = harness.client()
    items = [harness.item(n) for n in range(1, 31)]

    holders = client.holders("username", [item.record["username"] for item in items])
    outcomes = client.deliver(items)

    assert set(holders.values()) == {None}
    assert all(outcome.ok for outcome in outcomes)
    assert harness.calls("users.list", "GET") == 2
    assert harness.calls("users.info", "GET") == 0


def test_a_directory_read_before_never_hands_a_user_a_strangers_account(harness):
    """Between two batches of the run somebody else created an account with the user's name
    and email: the directory still says both are free, the import refuses the user (an
    error), and the user fails naming the holder, whose account is untouched."""
    client = harness.client()
    assert client.holders("username", ["user1", "user2"]) == {"user1": None, "user2": None}
    imported(client, [{**harness.item(1).record, "importIds": ["hr-1"]}])

    [outcome] = client.deliver([harness.item(1)])

    assert not outcome.ok and "does not manage" in outcome.error
    assert outcome.vendor_id is None
    [account] = harness.emu.users()
    assert account["importIds"] == ["hr-1"] and account["name"] == "User 1"


def test_user_names_are_listed_in_place_when_the_route_is_busy(own_emulator):
    """Two calls per 3 s, infinite count off: the third call waits 3 s, longer than a
    listing for delivery would, but choosing waits it out (up to a window) rather than be
    postponed, to start over next time, or ask about each name on a route just as limited."""
    rc = own_emulator(VENDOR, allow_infinite_count=False)
    seed(rc.client(), 250)
    client = rc.client(options={"rate_limits": {"per_route": {"calls": 2, "seconds": 3}}})
    names = [f"staff{n}" for n in range(0, 250, 25)]

    holders = client.holders("username", names)

    assert all(holders[name] for name in names)
    assert rc.calls("users.list", "GET") == 3
    assert rc.calls("users.info", "GET") == 0
