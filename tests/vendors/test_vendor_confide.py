"""AvePoint Confide: import and update tasks, polled for their per-user results."""

from __future__ import annotations

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
    assert outcomes[1].details["taskId"] == outcomes[0].details["taskId"]


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
