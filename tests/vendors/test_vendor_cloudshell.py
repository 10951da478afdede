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
