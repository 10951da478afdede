"""VMware Aria Operations: synchronous import with ids, PUT to disable, token release."""

from __future__ import annotations

from scimbridge.vendors.base import Action

VENDOR = "aria"


def imports_sent(harness) -> list[list[dict]]:
    return [logged["json"]["users"] for logged in harness.sent("/api/auth/sources/")]


def test_the_vendor_id_is_the_id_aria_assigned(harness):
    [outcome] = harness.client().deliver([harness.item(1)])

    assert outcome.vendor_id == harness.user(1)["id"]


def test_a_reimport_carries_the_stored_id(harness):
    client = harness.client()
    [known] = harness.imported(client, 1)

    client.deliver([known])

    first, second = imports_sent(harness)
    assert "id" not in first[0]
    assert second[0]["id"] == known.vendor_id


def test_an_empty_id_in_the_record_is_not_sent(harness):
    [outcome] = harness.client().deliver([harness.item(1, id=None)])

    assert outcome.ok
    assert "id" not in imports_sent(harness)[0][0]


def test_disable_puts_the_user_with_enabled_false(harness):
    client = harness.client()
    [known] = harness.imported(client, 1)

    client.deliver([harness.item(1, Action.DISABLE, known.vendor_id, first_import=False)])

    assert harness.calls("/api/auth/users", method="PUT") == 1


def test_closing_the_client_releases_its_token(harness):
    client = harness.client()
    harness.imported(client, 1)

    client.close()

    assert harness.calls("/api/auth/token/release") == 1
    assert client.token is None


def test_the_older_token_scheme_can_be_configured(harness):
    client = harness.client(credentials={"token_scheme": "vRealizeOpsToken"})

    [outcome] = client.deliver([harness.item(1)])

    assert outcome.ok


def test_a_user_deleted_in_aria_since_is_imported_again_despite_its_stale_id(harness):
    client = harness.client()
    [known] = harness.imported(client, 1)
    client.deliver([harness.item(1, Action.REMOVE, known.vendor_id, first_import=False)])

    outcomes = client.deliver([harness.item(2), known])

    assert all(outcome.ok for outcome in outcomes)
    assert outcomes[1].vendor_id == harness.user(1)["id"] != known.vendor_id
