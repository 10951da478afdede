"""Quali CloudShell: one import a call, AllowUpdate once known, lookups by name, PUT to (de)activate."""

from __future__ import annotations

from dataclasses import replace

from scimbridge.vendors import cloudshell
from scimbridge.vendors.base import Action

VENDOR = "cloudshell"


def test_the_vendor_id_is_the_cloudshell_user_id(harness):
    [outcome] = harness.client().deliver([harness.item(1)])

    assert outcome.vendor_id == str(harness.user(1)["Id"])
    assert outcome.details["Sid"] == harness.user(1)["Sid"]


def test_a_reimport_allows_the_update(harness):
    client = harness.client()
    [known] = harness.imported(client, 1)

    client.deliver([known])

    first, again = harness.sent("IdentityManagement/users")
    assert "AllowUpdate" not in first["json"]
    assert again["json"]["AllowUpdate"] is True


def test_a_user_cloudshell_refuses_fails_with_its_errors(harness):
    harness.emu.reject_users(["user1"])

    [outcome] = harness.client().deliver([harness.item(1)])

    assert not outcome.ok
    assert "user1" in outcome.error
    assert harness.emu.users() == []


def test_reimporting_a_deactivated_user_reactivates_it(harness):
    client = harness.client()
    [known] = harness.imported(client, 1)
    client.deliver([harness.item(1, Action.DISABLE, known.vendor_id, first_import=False)])

    [outcome] = client.deliver([known])

    assert outcome.ok
    assert harness.user(1)["IsActive"] is True


def test_the_bearer_scheme_can_be_configured(harness):
    client = harness.client(credentials={"token_scheme": "Bearer"})

    [outcome] = client.deliver([harness.item(1)])

    assert outcome.ok


def test_cloudshell_a_first_import_delivered_twice_leaves_one_user(harness):
    client = harness.client()
    [first] = client.deliver([harness.item(1)])

    [again] = client.deliver([harness.item(1)])

    assert again.ok
    assert again.vendor_id == first.vendor_id == str(harness.user(1)["Id"])
    assert len(harness.emu.users()) == 1


def test_cloudshell_a_repeated_first_import_reactivates_the_user(harness):
    client = harness.client()
    [known] = harness.imported(client, 1)
    client.deliver([replace(known, action=Action.DISABLE)])

    [again] = client.deliver([harness.item(1)])

    assert again.vendor_id == known.vendor_id
    assert harness.user(1)["IsActive"] is True


def test_cloudshell_a_user_deleted_in_cloudshell_since_is_imported_again(harness):
    client = harness.client()
    [known] = harness.imported(client, 1)
    client.deliver([replace(known, action=Action.REMOVE)])

    [outcome] = client.deliver([known])

    assert outcome.ok
    assert outcome.vendor_id == str(harness.user(1)["Id"]) != known.vendor_id


def test_cloudshell_the_name_lookup_follows_the_cursor_to_the_exact_name(harness, monkeypatch):
    monkeypatch.setattr(cloudshell, "PAGE_LIMIT", 1)
    client = harness.client()
    harness.imported(client, 10, 11, 1)

    [again] = client.deliver([harness.item(1)])

    assert again.vendor_id == str(harness.user(1)["Id"])
    assert harness.calls("/api/v1/users", method="GET") == 3


def test_cloudshell_a_claim_of_a_hundred_users_sends_each_its_own_import(harness):
    client = harness.client()
    items = [harness.item(n) for n in range(client.claim_size)]

    outcomes = client.deliver(items)

    assert [outcome.vendor_id for outcome in outcomes] == [
        str(harness.user(n)["Id"]) for n in range(client.claim_size)
    ]
    assert harness.calls("IdentityManagement/users") == client.claim_size
    assert harness.calls("/Api/Auth/Login", method="PUT") == 1


def test_cloudshell_each_user_of_a_claim_gets_its_own_outcome(harness):
    """A new user, one CloudShell refuses, a repeated first import, and a known user found
    inactive, in one claim."""
    client = harness.client()
    [repeated, inactive] = harness.imported(client, 3, 4)
    client.deliver([replace(inactive, action=Action.DISABLE)])
    harness.emu.reject_users(["user2"])

    new, refused, adopted, reactivated = client.deliver(
        [harness.item(1), harness.item(2), harness.item(3), inactive]
    )

    assert new.ok and new.vendor_id == str(harness.user(1)["Id"])
    assert not refused.ok and not refused.retryable and harness.user(2) is None
    assert adopted.ok and adopted.vendor_id == repeated.vendor_id
    assert reactivated.ok and harness.user(4)["IsActive"] is True
    assert len(harness.emu.users()) == 3


def test_cloudshell_a_429_in_mid_claim_keeps_the_users_delivered_and_postpones_the_rest(harness):
    client = harness.client()
    [known] = harness.imported(client, 3)
    harness.emu.fault(status=429, retry_after=7, path="/api/v1/users/")

    outcomes = client.deliver(
        [harness.item(1), harness.item(2), replace(known, action=Action.DISABLE), harness.item(4)]
    )

    assert [outcome.ok for outcome in outcomes] == [True, True, False, False]
    assert all(outcome.retryable and 0 < outcome.retry_after <= 7 for outcome in outcomes[2:])
    assert harness.user(1) and harness.user(2)
    assert harness.user(3)["IsActive"] is True
    assert harness.user(4) is None
