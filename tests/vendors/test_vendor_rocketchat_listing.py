"""Rocket.Chat: new users found absent, and found created, by listing every user
(``users.list``) rather than one ``users.info?importId=`` each, where the listing can tell."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

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
    harness.emu.fault(status=403, path="users.list")

    outcomes = harness.client().deliver([harness.item(1), harness.item(2)])

    assert all(outcome.ok for outcome in outcomes)
    assert harness.calls("users.info", "GET") == 4  # before and after the import


def test_a_listing_dearer_than_the_lookups_is_not_paged(harness):
    """250 users: three pages before and three after cost more than two lookups."""
    client = harness.client()
    seed(client, 250)

    [outcome] = client.deliver([harness.item(1)])

    assert outcome.ok
    assert harness.calls("users.list", "GET") == 1  # the first page tells the total
    assert harness.calls("users.info", "GET") == 2


def test_a_listing_that_does_not_fit_in_the_routes_limit_is_not_started(harness):
    """Two calls a minute per route: the first page leaves room for one more, and the
    listing needs two; the users are looked up one by one, as far as that limit allows."""
    seed(harness.client(), 250)
    client = harness.client(options={"rate_limits": {"per_route": {"calls": 2}}})

    outcomes = client.deliver([harness.item(n) for n in range(1, 11)])

    assert harness.calls("users.list", "GET") == 1
    assert harness.calls("users.info", "GET") == 2
    assert harness.user(1) and harness.user(2) and not harness.user(3)
    assert all(outcome.retryable for outcome in outcomes)  # unverified, or not looked up


def test_the_listing_that_chose_the_user_names_serves_the_batch_it_chose_for(harness):
    """Choosing user names lists every user; the import that follows needs no second
    listing before it, only the one after it."""
    client = harness.client()
    items = [harness.item(n) for n in range(1, 31)]

    with client.one_batch():
        holders = client.holders("username", [item.record["username"] for item in items])
        outcomes = client.deliver(items)

    assert set(holders.values()) == {None}
    assert all(outcome.ok for outcome in outcomes)
    assert harness.calls("users.list", "GET") == 2
    assert harness.calls("users.info", "GET") == 0


def test_a_listing_never_serves_a_later_batch(harness):
    """Between two batches somebody else created an account with the user's name and
    email: listed again, it is found held, and never taken for the one the import made."""
    client = harness.client()
    with client.one_batch():
        assert client.holders("username", ["user1", "user2"]) == {"user1": None, "user2": None}
    imported(client, [{**harness.item(1).record, "importIds": ["hr-1"]}])

    with client.one_batch():
        [outcome] = client.deliver([harness.item(1)])

    assert not outcome.ok and "does not manage" in outcome.error


def test_user_names_are_listed_in_place_when_the_route_is_busy(harness):
    """Two calls per 3 s: the third page waits 3 s, longer than a listing for delivery
    would, but choosing waits it out (up to a window) rather than be postponed, to start
    over next time, or ask about each name on a route just as limited."""
    seed(harness.client(), 250)
    client = harness.client(options={"rate_limits": {"per_route": {"calls": 2, "seconds": 3}}})
    names = [f"staff{n}" for n in range(0, 250, 25)]

    with client.one_batch():
        holders = client.holders("username", names)

    assert all(holders[name] for name in names)
    assert harness.calls("users.list", "GET") == 3
    assert harness.calls("users.info", "GET") == 0
