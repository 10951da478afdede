"""Rocket.Chat's per-route rate limit: what a 429 keeps, what it postpones, and how to the end."""

from __future__ import annotations

import time

import pytest

from scimbridge.vendors.base import DeliveryItem, Outcome, VendorClient, VendorUnavailable

VENDOR = "rocketchat"


def deliver_until_done(client: VendorClient, items: list[DeliveryItem]) -> dict[str, Outcome]:
    """Deliver, then deliver what was postponed after the wait the vendor asked for, as the
    worker does, until nothing is postponed (a few rounds at most)."""
    delivered: dict[str, Outcome] = {}
    for _ in range(10):
        try:
            outcomes = client.deliver(items)
        except VendorUnavailable as unavailable:
            time.sleep((unavailable.retry_after or 0) + 0.05)
            continue
        delivered.update({outcome.key: outcome for outcome in outcomes})
        postponed = [outcome for outcome in outcomes if not outcome.ok and outcome.retryable]
        if not postponed:
            return delivered
        time.sleep(max(outcome.retry_after or 0 for outcome in postponed) + 0.05)
        items = [item for item in items if item.key in {outcome.key for outcome in postponed}]
    raise AssertionError(f"still postponed after 10 rounds: {delivered}")


def test_a_rate_limit_wait_comes_from_the_reset_header(harness):
    harness.emu.fault(status=429, retry_after=30, path="import.new")

    with pytest.raises(VendorUnavailable) as raised:
        harness.client().deliver([harness.item(1)])

    assert 20 < raised.value.retry_after <= 30


def test_rocketchat_rate_limit_is_hit_and_survived(own_emulator):
    limited = own_emulator("rocketchat", rate_limit_calls=10, rate_limit_seconds=2)
    client = limited.client()

    delivered = deliver_until_done(client, [limited.item(n) for n in range(1, 13)])

    assert all(outcome.ok for outcome in delivered.values())
    assert any(logged["status"] == 429 for logged in limited.emu.requests())
    assert sorted(user["username"] for user in limited.emu.users()) == sorted(
        f"user{n}" for n in range(1, 13)
    )


def test_rocketchat_a_429_during_verification_postpones_the_unverified_users(own_emulator):
    """Six lookups before the import and four after it fill ``users.info``'s 10 calls."""
    limited = own_emulator("rocketchat", rate_limit_calls=10, rate_limit_seconds=60)

    outcomes = limited.client().deliver([limited.item(n) for n in range(1, 7)])

    assert [outcome.ok for outcome in outcomes] == [True] * 4 + [False] * 2
    assert all(outcome.retryable and outcome.retry_after > 30 for outcome in outcomes[4:])
    assert sorted(user["username"] for user in limited.emu.users()) == [
        f"user{n}" for n in range(1, 7)
    ]


def test_rocketchat_a_429_on_the_import_keeps_the_updates_already_applied(harness):
    client = harness.client()
    [known] = harness.imported(client, 1)
    harness.emu.fault(status=429, retry_after=5, path="import.new")

    renamed, new = client.deliver(
        [harness.item(1, vendor_id=known.vendor_id, name="Renamed"), harness.item(2)]
    )

    assert renamed.ok and harness.user(1)["name"] == "Renamed"
    assert not new.ok and new.retryable and 0 < new.retry_after <= 5
    assert harness.user(2) is None


def test_rocketchat_a_429_while_looking_users_up_keeps_the_updates_applied(own_emulator):
    """Three lookups fit in a window: the fourth user waits, the first three are updated."""
    limited = own_emulator("rocketchat", rate_limit_calls=3, rate_limit_seconds=2)
    client = limited.client()
    imported = deliver_until_done(client, [limited.item(n) for n in range(1, 5)])
    time.sleep(2.1)  # a fresh window for every route
    renamed = [
        limited.item(n, vendor_id=imported[f"link-{n}"].vendor_id, first_import=False, name="New")
        for n in range(1, 5)
    ]

    outcomes = client.deliver(renamed)

    assert [outcome.ok for outcome in outcomes] == [True, True, True, False]
    assert outcomes[3].retryable and 0 < outcomes[3].retry_after <= 2
    names = {user["username"]: user["name"] for user in limited.emu.users()}
    assert names == {"user1": "New", "user2": "New", "user3": "New", "user4": "User 4"}
