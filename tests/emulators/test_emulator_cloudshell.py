"""Quali CloudShell: login and the external-user import (Quali's "Import external users")."""

from __future__ import annotations

from emulator_harness import CLOUDSHELL, Emulated, emulated, signed_in

IMPORT = "/api/v1/integrations/IdentityManagement/users"


def test_login_returns_the_token_as_a_json_string() -> None:
    _, client = emulated("cloudshell")
    body = {
        "Username": CLOUDSHELL["username"],
        "Password": CLOUDSHELL["password"],
        "Domain": "Global",
    }
    response = client.put("/Api/Auth/Login", json=body)
    assert response.status_code == 200
    assert response.get_data(as_text=True).strip().startswith('"')


def test_login_accepts_the_form_body_of_the_python_client() -> None:
    _, client = emulated("cloudshell")
    form = {
        "username": CLOUDSHELL["username"],
        "password": CLOUDSHELL["password"],
        "domain": "Global",
    }
    assert client.put("/api/auth/login", data=form).status_code == 200


def test_login_with_a_wrong_password_is_401() -> None:
    _, client = emulated("cloudshell")
    body = {"Username": CLOUDSHELL["username"], "Password": "wrong", "Domain": "Global"}
    assert client.put("/Api/Auth/Login", json=body).status_code == 401


def test_login_by_post_is_405() -> None:
    _, client = emulated("cloudshell")
    assert client.post("/Api/Auth/Login", json={}).status_code == 405


def test_import_without_a_token_is_401() -> None:
    _, client = emulated("cloudshell")
    assert client.post(IMPORT, json={"UserName": "ann"}).status_code == 401


def test_bearer_scheme_is_also_accepted(cloudshell: Emulated) -> None:
    token = cloudshell.headers["Authorization"].split()[1]
    response = cloudshell.call(
        "POST", IMPORT, json={"UserName": "ann"}, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200


def test_import_by_user_name_returns_the_user(cloudshell: Emulated) -> None:
    body = cloudshell.call("POST", IMPORT, json={"UserName": "ann"}).get_json()
    assert body["Errors"] == []
    [user] = body["Users"]
    assert (user["Username"], user["IsActive"]) == ("ann", True)
    assert isinstance(user["Id"], int)


def test_import_needs_user_name_or_group_name(cloudshell: Emulated) -> None:
    assert cloudshell.call("POST", IMPORT, json={"AllowUpdate": True}).status_code == 400


def test_import_refuses_both_user_name_and_group_name(cloudshell: Emulated) -> None:
    assert (
        cloudshell.call("POST", IMPORT, json={"UserName": "a", "GroupName": "g"}).status_code == 400
    )


def test_import_requires_json_content_type(cloudshell: Emulated) -> None:
    response = cloudshell.call(
        "POST", IMPORT, data="UserName=ann", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 415


def test_existing_user_without_allow_update_is_an_error_entry(cloudshell: Emulated) -> None:
    cloudshell.call("POST", IMPORT, json={"UserName": "ann"})
    body = cloudshell.call("POST", IMPORT, json={"UserName": "ann"}).get_json()
    assert body["Users"] == []
    assert len(body["Errors"]) == 1
    assert len(cloudshell.emulator.users()) == 1


def test_existing_user_with_allow_update_is_returned_with_the_same_id(cloudshell: Emulated) -> None:
    first = cloudshell.call("POST", IMPORT, json={"UserName": "ann"}).get_json()["Users"][0]
    again = cloudshell.call(
        "POST", IMPORT, json={"UserName": "ann", "AllowUpdate": True}
    ).get_json()["Users"][0]
    assert again["Id"] == first["Id"]


def test_a_name_outside_a_configured_directory_is_an_error_entry() -> None:
    directory = signed_in("cloudshell", directory={"ann": {"Email": "ann@example.com"}})
    body = directory.call("POST", IMPORT, json={"UserName": "zed"}).get_json()
    assert body["Users"] == []
    assert len(body["Errors"]) == 1


def test_a_directory_user_is_imported_with_its_directory_email() -> None:
    directory = signed_in("cloudshell", directory={"ann": {"Email": "ann@example.com"}})
    body = directory.call("POST", IMPORT, json={"UserName": "ann"}).get_json()
    assert body["Users"][0]["Email"] == "ann@example.com"


def test_import_by_group_imports_its_members() -> None:
    directory = signed_in("cloudshell", groups={"Admins": ["ann", "bob"]})
    body = directory.call("POST", IMPORT, json={"GroupName": "Admins"}).get_json()
    assert [user["Username"] for user in body["Users"]] == ["ann", "bob"]


def test_import_of_an_unknown_group_is_an_error_entry(cloudshell: Emulated) -> None:
    body = cloudshell.call("POST", IMPORT, json={"GroupName": "Nobody"}).get_json()
    assert body["Users"] == []
    assert len(body["Errors"]) == 1


def test_rejected_user_is_an_error_entry(cloudshell: Emulated) -> None:
    cloudshell.emulator.reject_users(["bad"])
    body = cloudshell.call("POST", IMPORT, json={"UserName": "bad"}).get_json()
    assert body["Users"] == [] and len(body["Errors"]) == 1


def test_put_user_deactivates_it(cloudshell: Emulated) -> None:
    user = cloudshell.call("POST", IMPORT, json={"UserName": "ann"}).get_json()["Users"][0]
    response = cloudshell.call(
        "PUT", f"/api/v1/users/{user['Id']}", json={**user, "IsActive": False}
    )
    assert response.status_code == 200
    assert cloudshell.emulator.users()[0]["IsActive"] is False


def test_put_user_cannot_rename(cloudshell: Emulated) -> None:
    user = cloudshell.call("POST", IMPORT, json={"UserName": "ann"}).get_json()["Users"][0]
    response = cloudshell.call(
        "PUT", f"/api/v1/users/{user['Id']}", json={**user, "Username": "bob"}
    )
    assert response.status_code == 400


def test_delete_user_removes_it(cloudshell: Emulated) -> None:
    user = cloudshell.call("POST", IMPORT, json={"UserName": "ann"}).get_json()["Users"][0]
    assert cloudshell.call("DELETE", f"/api/v1/users/{user['Id']}").status_code == 200
    assert cloudshell.emulator.users() == []


def test_expired_token_is_401(cloudshell: Emulated) -> None:
    cloudshell.emulator.expire_tokens()
    response = cloudshell.call("POST", IMPORT, json={"UserName": "ann"})
    assert response.status_code == 401
    assert "Message" in response.get_json()


def test_put_of_an_unknown_user_is_404(cloudshell: Emulated) -> None:
    body = {"Username": "ann", "IsActive": True}
    assert cloudshell.call("PUT", "/api/v1/users/999", json=body).status_code == 404


def test_existing_user_without_allow_update_names_it_in_the_error(cloudshell: Emulated) -> None:
    cloudshell.call("POST", IMPORT, json={"UserName": "ann"})
    body = cloudshell.call("POST", IMPORT, json={"UserName": "ann"}).get_json()
    assert body["Errors"] == [{"Message": "User 'ann' already exists."}]


USERS = "/api/v1/users"


def import_names(cloudshell: Emulated, *names: str) -> None:
    for name in names:
        cloudshell.call("POST", IMPORT, json={"UserName": name})


def page(cloudshell: Emulated, **query: object) -> dict:
    params = {f"paginationProperties.{key}": value for key, value in query.items()}
    return cloudshell.call("GET", USERS, query_string=params).get_json()


def test_list_answers_users_and_a_null_cursor_when_all_fit(cloudshell: Emulated) -> None:
    import_names(cloudshell, "ann", "bob")
    body = page(cloudshell)
    assert [user["Username"] for user in body["Users"]] == ["ann", "bob"]
    assert body["Cursor"] is None


def test_list_pages_50_users_by_default(cloudshell: Emulated) -> None:
    import_names(cloudshell, *(f"u{n}" for n in range(51)))
    body = page(cloudshell)
    assert len(body["Users"]) == 50
    assert body["Cursor"]


def test_list_follows_the_cursor_to_the_next_page(cloudshell: Emulated) -> None:
    import_names(cloudshell, "ann", "bob", "cid")
    first = page(cloudshell, limit=2)
    second = page(cloudshell, limit=2, cursor=first["Cursor"])
    assert [user["Username"] for user in second["Users"]] == ["cid"]
    assert second["Cursor"] is None


def test_list_accepts_a_limit_of_250(cloudshell: Emulated) -> None:
    assert (
        cloudshell.call("GET", USERS, query_string={"paginationProperties.limit": 250}).status_code
        == 200
    )


def test_list_refuses_a_limit_over_250(cloudshell: Emulated) -> None:
    response = cloudshell.call("GET", USERS, query_string={"paginationProperties.limit": 251})
    assert response.status_code == 400
    assert "Message" in response.get_json()


def test_list_refuses_a_cursor_it_did_not_issue(cloudshell: Emulated) -> None:
    response = cloudshell.call(
        "GET", USERS, query_string={"paginationProperties.cursor": "not-a-cursor"}
    )
    assert response.status_code == 400


def test_list_filter_matches_a_substring_of_the_username(cloudshell: Emulated) -> None:
    import_names(cloudshell, "ann", "Joanna", "bob")
    assert [user["Username"] for user in page(cloudshell, filter="ANN")["Users"]] == [
        "ann",
        "Joanna",
    ]


def test_list_accepts_and_ignores_sorting(cloudshell: Emulated) -> None:
    import_names(cloudshell, "bob", "ann")
    body = page(cloudshell, **{"sort-by": "Name", "sort-order": -1})
    assert [user["Username"] for user in body["Users"]] == ["bob", "ann"]
