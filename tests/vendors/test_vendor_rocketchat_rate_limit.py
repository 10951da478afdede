"""Rocket.Chat's per-route rate limit: the client paces itself, learns from the answers, and a
wait too long to take in place keeps what was done and postpones the rest."""

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


def refused(harness) -> list[dict]:
    return [logged for logged in harness.emu.requests() if logged["status"] == 429]


def known(harness, client: VendorClient, numbers: range, **record) -> list[DeliveryItem]:
    """Items of users Rocket.Chat has, as a later delivery carries them (looked up by import id)."""
    imported = deliver_until_done(client, [harness.item(n) for n in numbers])
    return [
        harness.item(n, vendor_id=imported[f"link-{n}"].vendor_id, first_import=False, **record)
        for n in numbers
    ]


def test_a_rate_limit_wait_comes_from_the_reset_header(harness):
    harness.emu.fault(status=429, retry_after=30, path="import.new")

    with pytest.raises(VendorUnavailable) as raised:
        harness.client().deliver([harness.item(1)])

    # the reset is the emulator's "now + 30 s" in epoch milliseconds, rounded up
    assert 20 < raised.value.retry_after <= 30.01


def test_a_429s_reset_holds_the_route_back_without_another_call(harness):
    client = harness.client()
    [user] = harness.imported(client, 1)
    harness.emu.fault(status=429, retry_after=30, path="users.info")
    with pytest.raises(VendorUnavailable):
        client.deliver([user])

    with pytest.raises(VendorUnavailable, match="the vendor's reset") as raised:
        client.deliver([user])

    assert 20 < raised.value.retry_after <= 31
    assert harness.calls("users.info", "GET") == 1


def test_twelve_users_through_a_limit_the_client_paces_at_are_never_refused(own_emulator):
    limited = own_emulator("rocketchat", rate_limit_calls=10, rate_limit_seconds=2)
    client = limited.client(options={"rate_limits": {"per_route": {"calls": 10, "seconds": 2}}})

    delivered = deliver_until_done(client, [limited.item(n) for n in range(1, 13)])

    assert all(outcome.ok for outcome in delivered.values())
    assert refused(limited) == []
    assert sorted(user["username"] for user in limited.emu.users()) == sorted(
        f"user{n}" for n in range(1, 13)
    )


def test_a_short_wait_for_the_window_is_taken_in_place(own_emulator):
    """Two lookups a second: the third user's waits for the window, in the same delivery."""
    limited = own_emulator("rocketchat", rate_limit_calls=2, rate_limit_seconds=1)
    client = limited.client(options={"rate_limits": {"per_route": {"calls": 2, "seconds": 1}}})
    users = known(limited, client, range(1, 4), name="New")
    time.sleep(1.1)  # a fresh window for every route
    started = len(limited.emu.requests())

    outcomes = client.deliver(users)

    assert all(outcome.ok for outcome in outcomes)
    lookups = [
        logged["at"]
        for logged in limited.emu.requests()[started:]
        if "users.info" in logged["path"]
    ]
    assert len(lookups) == 3 and lookups[2] - lookups[0] >= 1.0
    assert refused(limited) == []


def test_an_answer_with_no_call_remaining_postpones_the_next_without_sending_it(own_emulator):
    """The deployment allows 3 calls a minute where the client expects 10: Rocket.Chat says
    so (``X-RateLimit-Remaining: 0``), and the fourth lookup is never sent, never refused."""
    limited = own_emulator("rocketchat", rate_limit_calls=3, rate_limit_seconds=60)
    client = limited.client()
    users = known(limited, client, range(1, 5), name="New")

    outcomes = client.deliver(users)

    assert [outcome.ok for outcome in outcomes] == [True, True, True, False]
    assert outcomes[3].retryable and 50 < outcomes[3].retry_after <= 61
    assert limited.calls("users.info", "GET") == 3
    assert refused(limited) == []
    names = {user["username"]: user["name"] for user in limited.emu.users()}
    assert names == {"user1": "New", "user2": "New", "user3": "New", "user4": "User 4"}


def test_the_limit_reached_while_verifying_an_import_postpones_the_unverified_users(own_emulator):
    """Without the listing (refused: the account lacks ``view-d-room``), six lookups before
    the import and four after it fill ``users.info``'s 10 calls a minute."""
    limited = own_emulator("rocketchat", rate_limit_calls=10, rate_limit_seconds=60)
    limited.emu.fault(status=403, path="users.list", times=10)

    outcomes = limited.client().deliver([limited.item(n) for n in range(1, 7)])

    assert [outcome.ok for outcome in outcomes] == [True] * 4 + [False] * 2
    assert all(outcome.retryable and outcome.retry_after > 30 for outcome in outcomes[4:])
    assert refused(limited) == []
    assert sorted(user["username"] for user in limited.emu.users()) == [
        f"user{n}" for n in range(1, 7)
    ]


def test_rocketchat_a_429_on_the_import_keeps_the_updates_already_applied(harness):
    client = harness.client()
    [user] = harness.imported(client, 1)
    harness.emu.fault(status=429, retry_after=5, path="import.new")

    renamed, new = client.deliver(
        [harness.item(1, vendor_id=user.vendor_id, name="Renamed"), harness.item(2)]
    )

    assert renamed.ok and harness.user(1)["name"] == "Renamed"
    assert not new.ok and new.retryable and 0 < new.retry_after <= 5.01  # epoch ms, rounded up
    assert harness.user(2) is None
