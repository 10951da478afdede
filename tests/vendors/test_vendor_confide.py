"""AvePoint Confide: import and update tasks, polled for per-user results; the email Confide has."""

from __future__ import annotations

from collections import Counter
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


def test_confide_two_thousand_new_users_go_out_in_one_import_task(harness):
    items = [harness.item(n) for n in range(2_000)]

    outcomes = harness.client().deliver(items)

    assert all(outcome.ok for outcome in outcomes)
    assert harness.calls("/import-users") == 1
    held = Counter(user["email"] for user in harness.emu.users())
    assert held == Counter(item.record["email"] for item in items)


def shared_setting_methods(harness, after: int = 0) -> list[str]:
    """The methods of the import, update and task calls, in the order Confide got them."""
    return [logged["method"] for logged in harness.emu.requests("/admin/shareSetting/")][after:]


def test_confide_an_import_task_and_an_update_task_are_both_submitted_before_either_is_polled(
    harness,
):
    client = harness.client()
    [known] = harness.imported(client, 1)
    before = len(shared_setting_methods(harness))

    outcomes = client.deliver(
        [replace(known, record={**known.record, "canShareLink": False}), harness.item(2)]
    )

    assert all(outcome.ok for outcome in outcomes)
    assert shared_setting_methods(harness, before) == ["POST", "POST", "GET", "GET", "GET", "GET"]
    assert harness.user(1)["canShareLink"] is False
    assert harness.user(2)["canShareLink"] is True


def test_confide_the_tasks_of_a_list_longer_than_max_batch_are_all_submitted_before_polling(
    harness,
):
    client = harness.client()
    client.max_batch = 2

    outcomes = client.deliver([harness.item(n) for n in range(5)])

    assert all(outcome.ok for outcome in outcomes)
    methods = shared_setting_methods(harness)
    assert methods[:3] == ["POST"] * 3
    assert set(methods[3:]) == {"GET"}
    assert len(harness.emu.users()) == 5


def test_confide_a_task_polled_before_it_finished_is_polled_again(own_emulator):
    harness = own_emulator(VENDOR, async_polls=3)

    [outcome] = harness.client().deliver([harness.item(1)])

    assert outcome.ok
    assert harness.calls("/import-users/", method="GET") == 4
    assert harness.user(1)["isShareCoordinator"] is True
