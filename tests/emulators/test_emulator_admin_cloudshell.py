"""Quali CloudShell's admin console in the emulator: "Edit user", "Create user", and the
system users a real "Get all users" listing shows."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from emulator_harness import CLOUDSHELL, SIGN_IN, Emulated, emulated, signed_in
from scimbridge_emulators import RunningEmulator, run_in_thread

IMPORT = "/api/v1/integrations/IdentityManagement/users"
USERS = "/api/v1/users"
ADMIN = "/_emulator/admin/accounts"


@pytest.fixture
def served() -> Iterator[RunningEmulator]:
    running = run_in_thread("cloudshell")
    yield running
    running.stop()


def imported(cloudshell: Emulated, name: str) -> dict[str, Any]:
    body = cloudshell.call("POST", IMPORT, json={"UserName": name}).get_json()
    user: dict[str, Any] = body["Users"][0]
    return user


def listed(cloudshell: Emulated) -> dict[str, dict[str, Any]]:
    """Every user of the listing's first page (ample for these tests), by ``Username``."""
    body = cloudshell.call("GET", USERS, query_string={"paginationProperties.limit": 250})
    return {user["Username"]: user for user in body.get_json()["Users"]}


def test_an_admin_change_shows_in_the_listing_and_the_end_state(cloudshell: Emulated) -> None:
    imported(cloudshell, "ann")

    cloudshell.emulator.admin_change("ann", {"IsAdmin": True, "GroupIds": [1, 3]})

    assert listed(cloudshell)["ann"]["GroupIds"] == [1, 3]
    assert cloudshell.emulator.users()[0]["IsAdmin"] is True


def test_an_admin_deactivation_shows_in_the_user_read_by_id(cloudshell: Emulated) -> None:
    user = imported(cloudshell, "ann")

    cloudshell.emulator.admin_change("ann", {"IsActive": False})

    assert cloudshell.call("GET", f"{USERS}/{user['Id']}").get_json()["IsActive"] is False


def test_an_admin_finds_the_user_by_email_in_any_case(cloudshell: Emulated) -> None:
    imported(cloudshell, "ann")
    cloudshell.emulator.admin_change("ann", {"Email": "Ann@Example.com"})

    changed = cloudshell.emulator.admin_change("ann@example.COM", {"IsActive": False})

    assert changed["Username"] == "ann"


def test_an_admin_cannot_rename_a_user(cloudshell: Emulated) -> None:
    imported(cloudshell, "ann")

    with pytest.raises(ValueError, match="Username"):
        cloudshell.emulator.admin_change("ann", {"Username": "ann.smith"})
    assert listed(cloudshell)["ann"]["Username"] == "ann"


def test_an_admin_cannot_change_the_vendor_id(cloudshell: Emulated) -> None:
    user = imported(cloudshell, "ann")

    with pytest.raises(ValueError):
        cloudshell.emulator.admin_change("ann", {"Id": 99})
    assert cloudshell.emulator.users()[0]["Id"] == user["Id"]


def test_an_admin_change_of_an_unknown_user_is_a_key_error(cloudshell: Emulated) -> None:
    with pytest.raises(KeyError):
        cloudshell.emulator.admin_change("nobody", {"IsActive": False})


def test_an_admin_created_user_is_a_local_user_with_its_own_id(cloudshell: Emulated) -> None:
    ann = imported(cloudshell, "ann")

    carol = cloudshell.emulator.admin_create({"Username": "carol", "Email": "carol@example.com"})

    assert carol["Id"] not in (ann["Id"], None)
    assert carol["Sid"] != ann["Sid"]
    assert (carol["DomainName"], carol["ImportedSid"]) == (None, None)
    assert carol["IsActive"] is True


def test_an_admin_created_user_is_listed_and_in_the_end_state(cloudshell: Emulated) -> None:
    carol = cloudshell.emulator.admin_create({"Username": "carol"})

    assert listed(cloudshell)["carol"] == carol
    assert cloudshell.emulator.users() == [carol]


def test_an_admin_cannot_create_a_second_user_of_a_name(cloudshell: Emulated) -> None:
    imported(cloudshell, "ann")

    with pytest.raises(ValueError, match="already exists"):
        cloudshell.emulator.admin_create({"Username": "ANN"})
    assert len(cloudshell.emulator.users()) == 1


def test_an_admin_created_user_needs_a_name(cloudshell: Emulated) -> None:
    with pytest.raises(ValueError, match="Username"):
        cloudshell.emulator.admin_create({"Email": "carol@example.com"})


def test_an_import_of_an_admin_created_name_is_refused_without_allow_update(
    cloudshell: Emulated,
) -> None:
    cloudshell.emulator.admin_create({"Username": "carol"})

    body = cloudshell.call("POST", IMPORT, json={"UserName": "carol"}).get_json()

    assert body["Errors"] == [{"Message": "User 'carol' already exists."}]


def test_the_listing_shows_no_total(cloudshell: Emulated) -> None:
    imported(cloudshell, "ann")

    body = cloudshell.call("GET", USERS).get_json()

    assert set(body) == {"Users", "Cursor"}


def test_system_users_are_listed_with_the_built_in_admin_first() -> None:
    cloudshell = signed_in("cloudshell", system_users=True)
    imported(cloudshell, "ann")

    users = cloudshell.call("GET", USERS).get_json()["Users"]

    assert [(user["Id"], user["Username"]) for user in users[:2]] == [
        (1, "admin"),
        (2, CLOUDSHELL["username"]),
    ]
    assert all(user["IsAdmin"] for user in users[:2])


def test_system_users_are_not_in_the_end_state() -> None:
    cloudshell = signed_in("cloudshell", system_users=True)
    imported(cloudshell, "ann")

    assert [user["Username"] for user in cloudshell.emulator.users()] == ["ann"]


def test_a_login_as_admin_lists_one_system_user() -> None:
    credentials = {**CLOUDSHELL, "username": "admin"}
    _, client = emulated("cloudshell", credentials=credentials, system_users=True)
    login = {"Username": "admin", "Password": CLOUDSHELL["password"], "Domain": "Global"}
    token = client.put("/Api/Auth/Login", json=login).get_json()

    users = client.get(USERS, headers={"Authorization": f"Basic {token}"}).get_json()["Users"]

    assert [user["Username"] for user in users] == ["admin"]


def test_system_users_are_listed_again_after_a_reset() -> None:
    cloudshell = signed_in("cloudshell", system_users=True)

    cloudshell.emulator.reset()
    again = Emulated(
        cloudshell.emulator, cloudshell.client, SIGN_IN["cloudshell"](cloudshell.client)
    )

    assert set(listed(again)) == {"admin", CLOUDSHELL["username"]}


def test_admin_change_over_http(cloudshell: Emulated) -> None:
    imported(cloudshell, "ann")

    response = cloudshell.client.patch(f"{ADMIN}/ann", json={"IsActive": False})

    assert response.status_code == 200
    assert listed(cloudshell)["ann"]["IsActive"] is False


def test_a_rename_over_http_is_a_400(cloudshell: Emulated) -> None:
    imported(cloudshell, "ann")

    response = cloudshell.client.patch(f"{ADMIN}/ann", json={"Username": "ann.smith"})

    assert response.status_code == 400
    assert "ann" in listed(cloudshell)


def test_a_change_of_an_unknown_user_over_http_is_a_404(cloudshell: Emulated) -> None:
    assert cloudshell.client.patch(f"{ADMIN}/nobody", json={"IsActive": False}).status_code == 404


def test_admin_create_over_http(cloudshell: Emulated) -> None:
    response = cloudshell.client.post(ADMIN, json={"Username": "carol"})

    assert response.status_code == 201
    assert listed(cloudshell)["carol"] == response.get_json()


def test_a_second_user_of_a_name_over_http_is_a_400(cloudshell: Emulated) -> None:
    imported(cloudshell, "ann")

    assert cloudshell.client.post(ADMIN, json={"Username": "ann"}).status_code == 400


def test_admin_controls_of_a_served_emulator(served: RunningEmulator) -> None:
    control = f"{served.url}/_emulator/admin/accounts"

    created = requests.post(control, json={"Username": "carol"}, timeout=5)
    changed = requests.patch(f"{control}/carol", json={"IsActive": False}, timeout=5)

    assert (created.status_code, changed.status_code) == (201, 200)
    assert served.users() == [{**created.json(), "IsActive": False}]
