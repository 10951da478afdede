"""Rocket.Chat: the import operation for new users, the user calls for existing ones."""

from __future__ import annotations

from scimbridge.vendors.base import Action

VENDOR = "rocketchat"


def test_the_vendor_id_is_the_import_id_and_the_details_name_the_user(harness):
    [outcome] = harness.client().deliver([harness.item(1)])

    assert outcome.vendor_id == "link-1"
    assert outcome.details["userId"] == harness.user(1)["_id"]


def test_an_existing_user_is_updated_not_imported(harness):
    client = harness.client()
    [known] = harness.imported(client, 1)

    [outcome] = client.deliver(
        [harness.item(1, vendor_id=known.vendor_id, first_import=False, name="Renamed User")]
    )

    assert outcome.ok
    assert harness.calls("import.addUsers") == 1
    assert harness.calls("users.update") == 1
    assert harness.user(1)["name"] == "Renamed User"


def test_an_update_of_roles_keeps_the_default_role(harness):
    client = harness.client()
    [known] = harness.imported(client, 1)

    client.deliver(
        [harness.item(1, vendor_id=known.vendor_id, first_import=False, roles=["admin"])]
    )

    assert harness.user(1)["roles"] == ["admin", "user"]


def test_a_user_with_an_invalid_role_fails_alone(harness):
    client = harness.client()

    outcomes = client.deliver(
        [harness.item(1), harness.item(2, roles=["no-such-role"]), harness.item(3)]
    )

    assert [outcome.ok for outcome in outcomes] == [True, False, True]
    assert "invalid roles" in outcomes[1].error


def test_reimporting_a_deactivated_user_reactivates_it(harness):
    client = harness.client()
    [known] = harness.imported(client, 1)
    client.deliver([harness.item(1, Action.DISABLE, known.vendor_id, first_import=False)])

    [outcome] = client.deliver([known])

    assert outcome.ok
    assert harness.user(1)["active"] is True


def test_disabling_a_user_never_imported_creates_it_deactivated(harness):
    [outcome] = harness.client().deliver([harness.item(1, Action.DISABLE)])

    assert outcome.ok
    assert harness.user(1)["active"] is False


def test_a_rate_limit_wait_comes_from_the_reset_header(harness):
    harness.emu.fault(status=429, retry_after=30, path="import.new")

    try:
        harness.client().deliver([harness.item(1)])
    except Exception as error:
        unavailable = error
    assert type(unavailable).__name__ == "VendorUnavailable"
    assert 20 < unavailable.retry_after <= 30
