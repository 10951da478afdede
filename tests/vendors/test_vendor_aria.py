"""VMware Aria Operations: synchronous import with ids, lookups by username, PUT to disable."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

from scimbridge.vendors.base import Action

VENDOR = "aria"
READ_ONLY = {"roleName": "ReadOnly", "allowAllObjects": True}
ADMINISTRATOR = {"roleName": "Administrator", "allowAllObjects": True}
POWER_USER = {"roleName": "PowerUser", "allowAllObjects": True}


def imports_sent(harness) -> list[list[dict]]:
    return [logged["json"]["users"] for logged in harness.sent("/api/auth/sources/")]


def role_names(user: dict) -> list[str]:
    return [permission["roleName"] for permission in user["role-permissions"]]


def grant_in_aria(client, user: dict, *permissions: dict) -> None:
    """An Aria administrator adds role permissions to the user, outside the bridge."""
    granted = {**user, "role-permissions": [*user["role-permissions"], *permissions]}
    client.call(
        "PUT", "/api/auth/users", json={k: v for k, v in granted.items() if k != "sourceId"}
    )


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


def test_aria_the_username_lookup_takes_the_exact_name_only(harness):
    client = harness.client()
    harness.imported(client, 11, 1)

    [again] = client.deliver([harness.item(1)])

    assert again.vendor_id == harness.user(1)["id"]
    assert len(harness.emu.users()) == 2


def test_aria_a_deactivation_keeps_the_users_roles(harness):
    client = harness.client()
    [known] = harness.imported(client, 1)
    grant_in_aria(client, harness.user(1), POWER_USER)

    client.deliver([replace(known, action=Action.DISABLE, record={"username": "user1"})])

    assert harness.user(1)["enabled"] is False
    assert role_names(harness.user(1)) == ["ReadOnly", "PowerUser"]


def test_aria_an_update_keeps_roles_granted_in_aria_and_drops_managed_ones_not_granted(harness):
    client = harness.client()
    [known] = harness.imported(client, 1)
    grant_in_aria(client, harness.user(1), POWER_USER)
    now_admin = replace(
        known,
        record={**known.record, "role-permissions": [ADMINISTRATOR]},
        managed={"role-permissions": (READ_ONLY, ADMINISTRATOR)},
    )

    [outcome] = client.deliver([now_admin])

    assert outcome.ok
    assert role_names(harness.user(1)) == ["PowerUser", "Administrator"]


def test_aria_reimports_read_the_current_users_in_one_call(harness):
    client = harness.client()
    known = harness.imported(client, 1, 2, 3)

    client.deliver(known)

    assert harness.calls("/api/auth/users", method="GET") == 1


def test_aria_a_deactivation_whose_profile_aria_refuses_still_disables_the_user(harness):
    """Aria answers 404 for a role it does not have, as for a missing user: the profile is
    dropped, never the deactivation."""
    client = harness.client()
    [known] = harness.imported(client, 1)
    unknown_role = {"roleName": "NoSuchRole", "allowAllObjects": True}
    disabling = replace(
        known,
        action=Action.DISABLE,
        record={**known.record, "firstName": "Renamed", "role-permissions": [unknown_role]},
        managed={"role-permissions": (READ_ONLY, unknown_role)},
    )

    [outcome] = client.deliver([disabling])

    assert outcome.ok
    assert harness.user(1)["enabled"] is False


def test_aria_two_thousand_new_users_go_out_in_one_import(harness):
    items = [harness.item(n) for n in range(2_000)]

    outcomes = harness.client().deliver(items)

    assert all(outcome.ok for outcome in outcomes)
    assert len(imports_sent(harness)) == 1
    held = Counter(user["username"] for user in harness.emu.users())
    assert held == Counter(item.record["username"] for item in items)


def test_aria_two_thousand_known_users_are_read_and_reimported_in_full(harness):
    """Their ids would make one lookup's request line longer than a server takes (the
    emulator's, like http.server's, refuses one over 64 KB): the lookup is split."""
    client = harness.client()
    known = harness.imported(client, *range(2_000))

    outcomes = client.deliver(
        [replace(item, record={**item.record, "firstName": "Renamed"}) for item in known]
    )

    assert all(outcome.ok for outcome in outcomes)
    assert [outcome.vendor_id for outcome in outcomes] == [item.vendor_id for item in known]
    assert len(imports_sent(harness)) == 2
    assert {user["firstName"] for user in harness.emu.users()} == {"Renamed"}
    assert len(harness.emu.users()) == 2_000
