"""Rocket.Chat's admin (Administration > Users), played by the emulator's admin controls: what
the admin changes or adds shows in ``users.list`` as Rocket.Chat would list it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from emulator_harness import ROCKETCHAT, Emulated, signed_in
from scimbridge_emulators import RunningEmulator, run_in_thread

API = "/api/v1"
LIST = f"{API}/users.list"


def imported(rc: Emulated, username: str) -> None:
    """``username`` created by the import, as the bridge creates users."""
    user = {"username": username, "emails": [f"{username}@example.com"], "importIds": ["x"]}
    rc.call("POST", f"{API}/import.new")
    rc.call("POST", f"{API}/import.addUsers", json={"users": [user]})
    rc.call("POST", f"{API}/import.run")


def listed(rc: Emulated) -> dict[str, dict[str, Any]]:
    """Every user ``users.list`` shows, by user name."""
    users = rc.call("GET", LIST, query_string={"count": 100}).get_json()["users"]
    return {user["username"]: user for user in users}


def person(username: str, **fields: Any) -> dict[str, Any]:
    """The fields Administration > Users requires of a new user."""
    return {
        "username": username,
        "name": username.title(),
        "emails": [{"address": f"{username}@example.com", "verified": False}],
        **fields,
    }


@pytest.fixture
def served() -> Iterator[RunningEmulator]:
    running = run_in_thread("rocketchat")
    yield running
    running.stop()


def served_list(running: RunningEmulator) -> dict[str, dict[str, Any]]:
    headers = {"X-User-Id": ROCKETCHAT["user_id"], "X-Auth-Token": ROCKETCHAT["auth_token"]}
    answer = requests.get(f"{running.url}{LIST}", headers=headers, timeout=5).json()
    return {user["username"]: user for user in answer["users"]}


def test_an_admin_rename_shows_in_the_listing(rocketchat: Emulated) -> None:
    imported(rocketchat, "ann")

    rocketchat.emulator.admin_change("ANN@example.com", {"name": "Ann Renamed"})

    assert listed(rocketchat)["ann"]["name"] == "Ann Renamed"


def test_an_admin_deactivation_shows_in_the_listing(rocketchat: Emulated) -> None:
    imported(rocketchat, "ann")

    rocketchat.emulator.admin_change("Ann", {"active": False})

    assert listed(rocketchat)["ann"]["active"] is False


def test_an_admin_cannot_give_a_user_name_another_user_holds(rocketchat: Emulated) -> None:
    imported(rocketchat, "ann")
    imported(rocketchat, "bob")

    with pytest.raises(ValueError, match="already in use"):
        rocketchat.emulator.admin_change("bob", {"username": "ANN"})

    assert set(listed(rocketchat)) == {"ann", "bob"}


def test_an_admin_cannot_grant_an_unknown_role(rocketchat: Emulated) -> None:
    imported(rocketchat, "ann")

    with pytest.raises(ValueError, match="Invalid role"):
        rocketchat.emulator.admin_change("ann", {"roles": ["user", "wizard"]})

    assert listed(rocketchat)["ann"]["roles"] == ["user"]


def test_an_admin_cannot_set_an_import_id(rocketchat: Emulated) -> None:
    imported(rocketchat, "ann")

    with pytest.raises(ValueError, match="importIds"):
        rocketchat.emulator.admin_change("ann", {"importIds": ["forged"]})


def test_changing_an_unknown_account_is_a_key_error(rocketchat: Emulated) -> None:
    with pytest.raises(KeyError):
        rocketchat.emulator.admin_change("nobody", {"name": "X"})


def test_an_admin_created_user_is_listed_active_with_the_default_role(
    rocketchat: Emulated,
) -> None:
    created = rocketchat.emulator.admin_create(person("cid"))

    user = listed(rocketchat)["cid"]
    assert user["_id"] == created["_id"] and len(created["_id"]) == 17
    assert (user["active"], user["roles"], user["type"]) == (True, ["user"], "user")


def test_an_admin_created_user_has_no_import_id(rocketchat: Emulated) -> None:
    created = rocketchat.emulator.admin_create(person("cid"))

    assert "importIds" not in created
    assert rocketchat.call("GET", f"{API}/users.info", query_string={"importId": "x"}).json == {
        "success": False,
        "error": "User not found.",
    }


def test_an_admin_cannot_create_a_user_with_a_taken_email(rocketchat: Emulated) -> None:
    imported(rocketchat, "ann")

    with pytest.raises(ValueError, match=r"the email Ann@Example\.com is already in use"):
        rocketchat.emulator.admin_create(
            person("other", emails=[{"address": "Ann@Example.com", "verified": True}])
        )


def test_an_admin_created_user_needs_a_name_a_user_name_and_an_email(
    rocketchat: Emulated,
) -> None:
    with pytest.raises(ValueError, match="needs a name"):
        rocketchat.emulator.admin_create({"username": "cid", "name": "Cid"})


def test_emails_are_given_as_the_listing_shows_them(rocketchat: Emulated) -> None:
    with pytest.raises(ValueError, match="address"):
        rocketchat.emulator.admin_create(person("cid", emails=["cid@example.com"]))


def test_a_workspace_lists_rocket_cat_and_the_tokens_own_user() -> None:
    rocketchat = signed_in("rocketchat", workspace_users=True)

    users = listed(rocketchat)

    assert users["rocket.cat"]["_id"] == "rocket.cat" and users["rocket.cat"]["type"] == "bot"
    assert "emails" not in users["rocket.cat"]
    assert users["bridge.admin"]["_id"] == ROCKETCHAT["user_id"]
    assert "admin" in users["bridge.admin"]["roles"]


def test_an_admin_change_over_http_shows_in_the_listing(served: RunningEmulator) -> None:
    served.admin_create(**person("ann"))

    response = requests.patch(
        f"{served.origin}/_emulator/admin/accounts/ann@example.com",
        json={"roles": ["user", "livechat-agent"]},
        timeout=5,
    )

    assert response.status_code == 200
    assert served_list(served)["ann"]["roles"] == ["user", "livechat-agent"]


def test_an_admin_change_over_http_of_an_unknown_account_is_404(served: RunningEmulator) -> None:
    response = requests.patch(
        f"{served.origin}/_emulator/admin/accounts/nobody", json={"name": "X"}, timeout=5
    )

    assert response.status_code == 404


def test_a_refused_admin_change_over_http_is_400(served: RunningEmulator) -> None:
    served.admin_create(**person("ann"))
    served.admin_create(**person("bob"))

    response = requests.patch(
        f"{served.origin}/_emulator/admin/accounts/bob", json={"username": "ann"}, timeout=5
    )

    assert response.status_code == 400
    assert set(served_list(served)) == {"ann", "bob"}


def test_an_admin_creation_over_http_is_listed(served: RunningEmulator) -> None:
    response = requests.post(
        f"{served.origin}/_emulator/admin/accounts", json=person("cid"), timeout=5
    )

    assert response.status_code == 201
    assert served_list(served)["cid"]["_id"] == response.json()["_id"]
