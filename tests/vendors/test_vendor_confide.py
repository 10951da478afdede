"""AvePoint Confide: import and update tasks, polled for per-user results; the email Confide has."""

from __future__ import annotations

from dataclasses import replace

import pytest

from scimbridge.vendors.base import Action, VendorUnavailable

VENDOR = "confide"


def test_users_confide_knows_are_sent_to_update_users(harness):
    client = harness.client()
    [known] = harness.imported(client, 1)

    [outcome] = client.deliver([known])

    assert outcome.ok
    assert harness.calls("/update-users") == 1
    assert harness.calls("/import-users") == 1


def test_the_vendor_identity_is_the_email(harness):
    [outcome] = harness.client().deliver([harness.item(1)])

    assert outcome.vendor_id == "user1@example.com"


def test_a_user_the_task_failed_gets_the_vendors_reason(harness):
    client = harness.client()

    outcomes = client.deliver([harness.item(1), harness.item(2, email="not-an-email")])

    assert [outcome.ok for outcome in outcomes] == [True, False]
    assert "Invalid email format." in outcomes[1].error
    assert outcomes[1].details["taskId"]


def test_disable_revokes_every_permission_and_the_invitation(harness):
    client = harness.client()
    [known] = harness.imported(client, 1)

    client.deliver([harness.item(1, Action.DISABLE, known.vendor_id, first_import=False)])

    [update] = harness.sent("/update-users")
    assert update["json"][0]["sendInvitationEmail"] is False
    assert not any(value for key, value in harness.user(1).items() if key != "email")


def test_a_task_still_running_after_the_last_poll_makes_confide_unavailable(harness):
    client = harness.client(options={"max_polls": 1})

    with pytest.raises(VendorUnavailable, match="still running"):
        client.deliver([harness.item(1)])


def test_a_token_url_given_as_a_path_resolves_against_the_base_url(harness):
    client = harness.client(credentials={"token_url": "/connect/token"})

    [outcome] = client.deliver([harness.item(1)])

    assert outcome.ok


def sent_emails(harness, kind: str) -> list[str]:
    return [user["email"] for logged in harness.sent(f"/{kind}") for user in logged["json"]]


def test_confide_a_first_import_delivered_twice_leaves_one_user(harness):
    client = harness.client()
    client.deliver([harness.item(1)])

    [again] = client.deliver([harness.item(1, canShareLink=False)])

    assert again.ok
    assert again.vendor_id == "user1@example.com"
    assert len(harness.emu.users()) == 1
    assert harness.user(1)["canShareLink"] is False


def test_confide_updates_go_to_the_stored_address(harness):
    client = harness.client()
    harness.imported(client, 1)
    stored = harness.item(1, first_import=False, email="USER1@example.com")
    stored = replace(stored, previous={"email": "user1@example.com"})

    [outcome] = client.deliver([stored])

    assert outcome.ok
    assert sent_emails(harness, "update-users") == ["user1@example.com"]
    assert len(harness.emu.users()) == 1


def test_confide_a_deactivation_goes_to_the_stored_address(harness):
    client = harness.client()
    [known] = harness.imported(client, 1)
    disable = replace(known, action=Action.DISABLE, record={"email": "moved1@example.com"})

    [outcome] = client.deliver([disable])

    assert outcome.ok
    assert sent_emails(harness, "update-users") == ["user1@example.com"]
    assert harness.kit.disabled(harness.user(1))


def test_confide_a_known_address_confide_does_not_have_is_imported(harness):
    [outcome] = harness.client().deliver(
        [harness.item(1, vendor_id="user1@example.com", first_import=False)]
    )

    assert outcome.ok
    assert harness.user(1)["isShareCoordinator"] is True
