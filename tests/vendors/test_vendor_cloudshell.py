"""Quali CloudShell: one import call per user, AllowUpdate once known, PUT to (de)activate."""

from __future__ import annotations

from scimbridge.vendors.base import Action, DeliveryItem

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
    client = harness.client()
    harness.imported(client, 1)

    [outcome] = client.deliver([harness.item(1)])

    assert not outcome.ok
    assert "already exists" in outcome.error


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


def test_a_group_import_lists_the_members_it_imported(own_emulator):
    harness = own_emulator("cloudshell", groups={"Cloud Admins": ["ann", "bob"]})
    group = DeliveryItem(key="group-1", action=Action.IMPORT, record={"GroupName": "Cloud Admins"})

    [outcome] = harness.client().deliver([group])

    assert outcome.ok
    assert sorted(outcome.details["userIds"]) == sorted(str(u["Id"]) for u in harness.emu.users())
    assert len(outcome.details["userIds"]) == 2
