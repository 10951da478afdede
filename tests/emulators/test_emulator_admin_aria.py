"""Aria Operations: the emulator plays Aria's admin (changes and local users made in the
product) and lists every user in one answer, as ``getUsers`` documents it."""

from __future__ import annotations

from typing import Any

import pytest
from emulator_harness import ARIA_SOURCE, Emulated

IMPORT = f"/suite-api/api/auth/sources/{ARIA_SOURCE}/users"
USERS = "/suite-api/api/auth/users"
ADMIN = "/_emulator/admin/accounts"
READ_ONLY = {"roleName": "ReadOnly", "allowAllObjects": True}


def imported(aria: Emulated, username: str, **fields: Any) -> dict[str, Any]:
    user = {"username": username, **fields}
    [answer] = aria.call("POST", IMPORT, json={"users": [user]}).get_json()["users"]
    return dict(answer)


def listed(aria: Emulated, **params: Any) -> dict[str, Any]:
    response = aria.call("GET", USERS, query_string=params)
    assert response.status_code == 200
    return dict(response.get_json())


def test_an_admin_change_shows_in_the_end_state_and_the_listing(aria: Emulated) -> None:
    imported(aria, "ada", firstName="Ada")

    aria.emulator.admin_change("ada", {"firstName": "Augusta"})

    assert [user["firstName"] for user in aria.emulator.users()] == ["Augusta"]
    assert [user["firstName"] for user in listed(aria)["users"]] == ["Augusta"]


def test_an_admin_change_finds_the_account_by_its_email_in_any_case(aria: Emulated) -> None:
    imported(aria, "ada", emailAddress="ada@example.com")

    changed = aria.emulator.admin_change("ADA@Example.com", {"enabled": False})

    assert changed["username"] == "ada"
    assert aria.emulator.users()[0]["enabled"] is False


def test_an_admin_change_of_an_unknown_account_is_a_key_error(aria: Emulated) -> None:
    with pytest.raises(KeyError):
        aria.emulator.admin_change("nobody", {"enabled": False})


def test_an_admin_created_user_is_an_enabled_local_user_with_an_id_aria_assigned(
    aria: Emulated,
) -> None:
    created = aria.emulator.admin_create({"username": "carol", "role-permissions": [READ_ONLY]})

    [user] = listed(aria)["users"]
    assert user["id"] == created["id"]
    assert (user["username"], user["enabled"]) == ("carol", True)
    assert created["sourceId"] == "LOCAL"


def test_an_admin_created_user_does_not_take_its_id_from_the_admin(aria: Emulated) -> None:
    with pytest.raises(ValueError, match="id"):
        aria.emulator.admin_create({"id": "0f6a1c3e-5d9b-4b8e-9a47-2f1d3c5e7a90", "username": "c"})

    assert aria.emulator.users() == []


def test_an_admin_cannot_create_a_username_its_source_holds(aria: Emulated) -> None:
    aria.emulator.admin_create({"username": "carol"})

    with pytest.raises(ValueError, match="already exists"):
        aria.emulator.admin_create({"username": "CAROL"})


def test_an_admin_cannot_grant_a_role_aria_does_not_have(aria: Emulated) -> None:
    with pytest.raises(ValueError, match="Role"):
        aria.emulator.admin_create(
            {"username": "carol", "role-permissions": [{"roleName": "Superhero"}]}
        )


def test_an_admin_created_username_follows_the_user_schema(aria: Emulated) -> None:
    with pytest.raises(ValueError, match="does not match"):
        aria.emulator.admin_create({"username": "carol smith"})


def test_the_listing_answers_every_user_at_once_whatever_paging_is_asked(aria: Emulated) -> None:
    for n in range(3):
        aria.emulator.admin_create({"username": f"user{n}"})

    answer = listed(aria, page=1, pageSize=1)

    assert sorted(user["username"] for user in answer["users"]) == ["user0", "user1", "user2"]
    assert "pageInfo" not in answer


# -- over HTTP (/_emulator/admin) ----------------------------------------------------------


def test_patching_an_account_over_http_changes_it(aria: Emulated) -> None:
    imported(aria, "ada", firstName="Ada")

    response = aria.client.patch(f"{ADMIN}/ada", json={"firstName": "Augusta"})

    assert response.status_code == 200
    assert response.get_json()["firstName"] == "Augusta"
    assert listed(aria)["users"][0]["firstName"] == "Augusta"


def test_patching_an_unknown_account_over_http_is_404(aria: Emulated) -> None:
    response = aria.client.patch(f"{ADMIN}/nobody", json={"enabled": False})

    assert response.status_code == 404


def test_posting_an_account_over_http_creates_it(aria: Emulated) -> None:
    response = aria.client.post(ADMIN, json={"username": "carol", "firstName": "Carol"})

    assert response.status_code == 201
    [user] = listed(aria)["users"]
    assert (user["id"], user["firstName"]) == (response.get_json()["id"], "Carol")


def test_posting_an_account_aria_would_refuse_over_http_is_400(aria: Emulated) -> None:
    response = aria.client.post(ADMIN, json={"username": "carol", "password": "secret"})

    assert response.status_code == 400
    assert aria.emulator.users() == []
