"""Aria Operations: token acquire/release and the user import (VCF Operations OpenAPI)."""

from __future__ import annotations

from emulator_harness import ARIA, ARIA_SOURCE, Emulated, emulated

ACQUIRE = "/suite-api/api/auth/token/acquire"
IMPORT = f"/suite-api/api/auth/sources/{ARIA_SOURCE}/users"
USERS = "/suite-api/api/auth/users"
JSON = {"Accept": "application/json"}


def imported(aria: Emulated, *users: dict) -> list[dict]:
    return aria.call("POST", IMPORT, json={"users": list(users)}).get_json()["users"]


def test_acquire_returns_token_and_validity_in_epoch_ms() -> None:
    _, client = emulated("aria")
    body = {"username": ARIA["username"], "password": ARIA["password"], "authSource": "LOCAL"}
    token = client.post(ACQUIRE, json=body, headers=JSON).get_json()
    assert token["token"]
    assert token["validity"] > 10**12


def test_acquire_with_a_wrong_password_is_401() -> None:
    _, client = emulated("aria")
    body = {"username": ARIA["username"], "password": "wrong"}
    response = client.post(ACQUIRE, json=body, headers=JSON)
    assert response.status_code == 401
    assert response.get_json()["httpStatusCode"] == 401


def test_a_call_without_accept_json_is_refused_as_the_api_would_answer_xml(aria: Emulated) -> None:
    response = aria.call(
        "POST", IMPORT, json={"users": [{"username": "ann"}]}, headers={"Accept": "*/*"}
    )
    assert response.status_code == 406


def test_expired_token_is_401_with_api_error_code_1512(aria: Emulated) -> None:
    aria.emulator.expire_tokens()
    response = aria.call("POST", IMPORT, json={"users": [{"username": "ann"}]})
    assert response.status_code == 401
    assert response.get_json()["apiErrorCode"] == 1512


def test_the_older_vrealizeopstoken_scheme_is_accepted(aria: Emulated) -> None:
    token = aria.headers["Authorization"].split()[1]
    response = aria.call(
        "POST",
        IMPORT,
        json={"users": [{"username": "ann"}]},
        headers={"Authorization": f"vRealizeOpsToken {token}"},
    )
    assert response.status_code == 201


def test_bearer_is_not_an_ops_token(aria: Emulated) -> None:
    token = aria.headers["Authorization"].split()[1]
    response = aria.call(
        "POST",
        IMPORT,
        json={"users": [{"username": "ann"}]},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 401


def test_released_token_no_longer_works(aria: Emulated) -> None:
    assert aria.call("POST", "/suite-api/api/auth/token/release").status_code == 200
    assert aria.call("POST", IMPORT, json={"users": [{"username": "ann"}]}).status_code == 401


def test_import_answers_201_with_assigned_ids(aria: Emulated) -> None:
    response = aria.call(
        "POST", IMPORT, json={"users": [{"username": "ann", "emailAddress": "ann@example.com"}]}
    )
    assert response.status_code == 201
    [user] = response.get_json()["users"]
    assert user["id"]
    assert user["username"] == "ann"


def test_reimport_with_id_updates_that_user(aria: Emulated) -> None:
    [user] = imported(aria, {"username": "ann", "firstName": "Ann"})
    imported(aria, {"id": user["id"], "username": "ann", "firstName": "Anna"})
    [stored] = aria.emulator.users()
    assert (stored["id"], stored["firstName"]) == (user["id"], "Anna")


def test_reimport_without_id_is_refused(aria: Emulated) -> None:
    imported(aria, {"username": "ann"})
    response = aria.call("POST", IMPORT, json={"users": [{"username": "ann"}]})
    assert response.status_code == 400
    assert len(aria.emulator.users()) == 1


def test_import_refuses_a_username_outside_the_pattern(aria: Emulated) -> None:
    response = aria.call("POST", IMPORT, json={"users": [{"username": "ann smith"}]})
    assert response.status_code == 400
    assert response.get_json()["validationFailures"][0]["violationPath"] == "users[0].username"


def test_import_refuses_an_unknown_role(aria: Emulated) -> None:
    record = {
        "username": "ann",
        "role-permissions": [{"roleName": "Wizard", "allowAllObjects": True}],
    }
    assert aria.call("POST", IMPORT, json={"users": [record]}).status_code == 404


def test_import_into_an_unknown_source_is_404(aria: Emulated) -> None:
    response = aria.call(
        "POST", "/suite-api/api/auth/sources/nope/users", json={"users": [{"username": "a"}]}
    )
    assert response.status_code == 404


def test_import_requires_json_content_type(aria: Emulated) -> None:
    response = aria.call("POST", IMPORT, data="<user-list/>", content_type="application/xml")
    assert response.status_code == 415


def test_rejected_user_fails_the_whole_request(aria: Emulated) -> None:
    aria.emulator.reject_users(["bad"])
    response = aria.call("POST", IMPORT, json={"users": [{"username": "ok"}, {"username": "bad"}]})
    assert response.status_code == 400
    assert aria.emulator.users() == []


def test_put_users_disables_a_user(aria: Emulated) -> None:
    [user] = imported(aria, {"username": "ann", "enabled": True})
    response = aria.call("PUT", USERS, json={**user, "enabled": False})
    assert response.status_code == 200
    assert aria.emulator.users()[0]["enabled"] is False


def test_put_users_of_an_unknown_id_is_404(aria: Emulated) -> None:
    response = aria.call(
        "PUT", USERS, json={"id": "0b7f0c9e-0000-0000-0000-000000000000", "username": "x"}
    )
    assert response.status_code == 404


def test_delete_user_answers_204_then_404(aria: Emulated) -> None:
    [user] = imported(aria, {"username": "ann"})
    assert aria.call("DELETE", f"{USERS}/{user['id']}").status_code == 204
    assert aria.call("DELETE", f"{USERS}/{user['id']}").status_code == 404


def test_import_with_an_unknown_id_is_404(aria: Emulated) -> None:
    record = {"id": "0b7f0c9e-0000-0000-0000-000000000000", "username": "ann"}
    assert aria.call("POST", IMPORT, json={"users": [record]}).status_code == 404


def test_reimport_with_id_keeps_the_fields_it_leaves_out(aria: Emulated) -> None:
    [user] = imported(aria, {"username": "ann", "firstName": "Ann", "lastName": "Lee"})
    imported(aria, {"id": user["id"], "username": "ann", "firstName": "Anna"})
    [stored] = aria.emulator.users()
    assert (stored["firstName"], stored["lastName"]) == ("Anna", "Lee")


def test_reimport_with_id_replaces_the_whole_role_list(aria: Emulated) -> None:
    roles = [{"roleName": "ReadOnly", "allowAllObjects": True}]
    [user] = imported(
        aria,
        {"username": "ann", "role-permissions": [*roles, {"roleName": "PowerUser"}]},
    )
    imported(aria, {"id": user["id"], "username": "ann", "role-permissions": roles})
    assert aria.emulator.users()[0]["role-permissions"] == roles


def test_put_users_keeps_the_fields_it_leaves_out(aria: Emulated) -> None:
    [user] = imported(aria, {"username": "ann", "emailAddress": "ann@example.com"})
    aria.call("PUT", USERS, json={"id": user["id"], "username": "ann", "enabled": False})
    assert aria.emulator.users()[0]["emailAddress"] == "ann@example.com"


def test_put_users_replaces_the_whole_role_list(aria: Emulated) -> None:
    [user] = imported(aria, {"username": "ann", "roleNames": ["ReadOnly", "PowerUser"]})
    aria.call("PUT", USERS, json={"id": user["id"], "username": "ann", "roleNames": ["ReadOnly"]})
    assert aria.emulator.users()[0]["roleNames"] == ["ReadOnly"]


def found_usernames(aria: Emulated, query: list[tuple[str, str]]) -> list[str]:
    response = aria.call("GET", USERS, query_string=query)
    return [user["username"] for user in response.get_json()["users"]]


def test_lookup_without_parameters_lists_every_user(aria: Emulated) -> None:
    imported(aria, {"username": "ann"}, {"username": "bob"})
    assert found_usernames(aria, []) == ["ann", "bob"]


def test_lookup_by_username_matches_a_substring(aria: Emulated) -> None:
    imported(aria, {"username": "ann"}, {"username": "joanna"}, {"username": "bob"})
    assert found_usernames(aria, [("username", "ann")]) == ["ann", "joanna"]


def test_lookup_by_username_ignores_case(aria: Emulated) -> None:
    imported(aria, {"username": "Ann"})
    assert found_usernames(aria, [("username", "aNN")]) == ["Ann"]


def test_lookup_by_repeated_ids_finds_each(aria: Emulated) -> None:
    ann, _, cid = imported(aria, {"username": "ann"}, {"username": "bob"}, {"username": "cid"})
    assert found_usernames(aria, [("id", ann["id"]), ("id", cid["id"])]) == ["ann", "cid"]


def test_lookup_by_role_name_finds_holders_of_either_role_list(aria: Emulated) -> None:
    imported(
        aria,
        {"username": "ann", "roleNames": ["ReadOnly"]},
        {"username": "bob", "role-permissions": [{"roleName": "ReadOnly"}]},
        {"username": "cid", "roleNames": ["PowerUser"]},
    )
    assert found_usernames(aria, [("roleName", "ReadOnly")]) == ["ann", "bob"]


def test_lookup_parameters_must_all_match(aria: Emulated) -> None:
    imported(
        aria,
        {"username": "ann", "roleNames": ["ReadOnly"]},
        {"username": "joanna", "roleNames": ["PowerUser"]},
    )
    assert found_usernames(aria, [("username", "ann"), ("roleName", "PowerUser")]) == ["joanna"]


def test_lookup_answers_the_same_user_objects(aria: Emulated) -> None:
    [user] = imported(aria, {"username": "ann", "emailAddress": "ann@example.com"})
    [found] = aria.call("GET", USERS, query_string={"id": user["id"]}).get_json()["users"]
    assert found == aria.call("GET", f"{USERS}/{user['id']}").get_json()


def test_lookup_of_an_unknown_id_finds_nobody(aria: Emulated) -> None:
    imported(aria, {"username": "ann"})
    assert found_usernames(aria, [("id", "0b7f0c9e-0000-0000-0000-000000000000")]) == []


def test_aria_import_takes_ten_thousand_users_in_one_request(aria: Emulated) -> None:
    """Broadcom documents no limit on the users of one import (``user-list`` has no
    ``maxItems``): the emulator sets none."""
    users = [{"username": f"user{n}", "enabled": True} for n in range(10_000)]

    response = aria.call("POST", IMPORT, json={"users": users})

    assert response.status_code == 201
    assert len({user["id"] for user in response.get_json()["users"]}) == 10_000
    assert len(aria.emulator.users()) == 10_000
