"""AvePoint Confide: the documented import-users contract (AvePoint's "Import Confide Sharing Users")."""

from __future__ import annotations

import base64

from emulator_harness import CONFIDE, Emulated, emulated, request_confide_token

IMPORT = "/confide/admin/shareSetting/import-users"
UPDATE = "/confide/admin/shareSetting/update-users"


def finished_task(confide: Emulated, path: str, task_id: str) -> dict:
    for _ in range(10):
        status = confide.call("GET", f"{path}/{task_id}").get_json()["data"]
        if status["status"] == "Completed":
            return status
    raise AssertionError("the task never completed")


def test_token_endpoint_accepts_client_secret_post() -> None:
    _, client = emulated("confide")
    response = request_confide_token(client)
    assert response.status_code == 200
    assert response.get_json()["token_type"] == "Bearer"
    assert response.get_json()["expires_in"] == 3600


def test_token_endpoint_accepts_client_secret_basic_as_authlib_sends_it() -> None:
    _, client = emulated("confide")
    pair = base64.b64encode(f"{CONFIDE['client_id']}:{CONFIDE['client_secret']}".encode()).decode()
    response = client.post(
        "/connect/token",
        data={"grant_type": "client_credentials", "scope": CONFIDE["scope"]},
        headers={"Authorization": f"Basic {pair}"},
    )
    assert response.status_code == 200


def test_token_endpoint_refuses_a_wrong_secret_as_invalid_client() -> None:
    _, client = emulated("confide")
    response = client.post(
        "/connect/token",
        data={
            "grant_type": "client_credentials",
            "client_id": CONFIDE["client_id"],
            "client_secret": "wrong",
            "scope": CONFIDE["scope"],
        },
    )
    assert response.status_code == 400
    assert response.get_json() == {"error": "invalid_client"}


def test_token_endpoint_requires_the_confide_scope() -> None:
    _, client = emulated("confide")
    response = client.post(
        "/connect/token",
        data={
            "grant_type": "client_credentials",
            "client_id": CONFIDE["client_id"],
            "client_secret": CONFIDE["client_secret"],
            "scope": "other.scope",
        },
    )
    assert response.get_json() == {"error": "invalid_scope"}


def test_token_endpoint_requires_a_form_body() -> None:
    _, client = emulated("confide")
    response = client.post("/connect/token", json={"grant_type": "client_credentials"})
    assert response.status_code == 400
    assert response.get_json() == {"error": "invalid_request"}


def test_import_without_a_token_is_401_error_response() -> None:
    _, client = emulated("confide")
    response = client.post(IMPORT, json=[{"email": "a@example.com"}])
    assert response.status_code == 401
    assert set(response.get_json()) == {"traceId", "error", "statusCode"}
    assert response.get_json()["statusCode"] == 401


def test_import_answers_200_with_a_task_id(confide: Emulated) -> None:
    response = confide.call("POST", IMPORT, json=[{"email": "a@example.com", "canShareLink": True}])
    assert response.status_code == 200
    assert set(response.get_json()["data"]) == {"taskId"}


def test_import_stores_the_user_with_its_permissions(confide: Emulated) -> None:
    confide.call("POST", IMPORT, json=[{"email": "a@example.com", "isShareCoordinator": True}])
    [user] = confide.emulator.users()
    assert user["email"] == "a@example.com"
    assert user["isShareCoordinator"] is True
    assert user["canShareLink"] is False


def test_import_body_must_be_an_array(confide: Emulated) -> None:
    response = confide.call("POST", IMPORT, json={"email": "a@example.com"})
    assert response.status_code == 400
    assert response.get_json()["statusCode"] == 400


def test_import_requires_an_email_on_every_user(confide: Emulated) -> None:
    response = confide.call(
        "POST", IMPORT, json=[{"email": "a@example.com"}, {"canShareLink": True}]
    )
    assert response.status_code == 400
    assert confide.emulator.users() == []


def test_import_refuses_a_permission_that_is_not_a_boolean(confide: Emulated) -> None:
    response = confide.call(
        "POST", IMPORT, json=[{"email": "a@example.com", "canShareLink": "yes"}]
    )
    assert response.status_code == 400


def test_import_refuses_a_non_json_content_type(confide: Emulated) -> None:
    response = confide.call(
        "POST", IMPORT, data="email=a@example.com", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 400


def test_task_reports_in_progress_before_completed(confide: Emulated) -> None:
    task_id = confide.call("POST", IMPORT, json=[{"email": "a@example.com"}]).get_json()["data"][
        "taskId"
    ]
    first = confide.call("GET", f"{IMPORT}/{task_id}").get_json()["data"]
    second = confide.call("GET", f"{IMPORT}/{task_id}").get_json()["data"]
    assert first["status"] == "InProgress"
    assert second["status"] == "Completed"
    assert (second["totalCount"], second["processedCount"], second["failedCount"]) == (1, 1, 0)


def test_rejected_user_is_a_failed_item_of_the_task(confide: Emulated) -> None:
    confide.emulator.reject_users(["bad@example.com"])
    body = [{"email": "good@example.com"}, {"email": "bad@example.com"}]
    task_id = confide.call("POST", IMPORT, json=body).get_json()["data"]["taskId"]
    status = finished_task(confide, IMPORT, task_id)
    assert status["failedCount"] == 1
    assert status["items"][0]["email"] == "bad@example.com"
    assert [user["email"] for user in confide.emulator.users()] == ["good@example.com"]


def test_unknown_task_id_is_400(confide: Emulated) -> None:
    response = confide.call("GET", f"{IMPORT}/00000000-0000-0000-0000-000000000000")
    assert response.status_code == 400


def test_update_users_changes_the_permissions_of_an_imported_user(confide: Emulated) -> None:
    confide.call("POST", IMPORT, json=[{"email": "a@example.com", "canShareLink": True}])
    confide.call("POST", UPDATE, json=[{"email": "a@example.com", "canShareLink": False}])
    assert confide.emulator.users()[0]["canShareLink"] is False


def test_update_users_fails_a_user_that_was_never_imported(confide: Emulated) -> None:
    task_id = confide.call("POST", UPDATE, json=[{"email": "new@example.com"}]).get_json()["data"][
        "taskId"
    ]
    status = finished_task(confide, UPDATE, task_id)
    assert status["failedCount"] == 1
    assert confide.emulator.users() == []


def test_reimport_does_not_duplicate_the_user(confide: Emulated) -> None:
    confide.call("POST", IMPORT, json=[{"email": "a@example.com"}])
    confide.call("POST", IMPORT, json=[{"email": "A@example.com", "canShareLink": True}])
    assert len(confide.emulator.users()) == 1


def test_an_expired_token_is_401(confide: Emulated) -> None:
    confide.emulator.expire_tokens()
    assert confide.call("POST", IMPORT, json=[{"email": "a@example.com"}]).status_code == 401


def test_wrong_method_is_answered_in_the_error_shape(confide: Emulated) -> None:
    response = confide.call("GET", IMPORT)
    assert response.status_code == 405
    assert response.get_json()["statusCode"] == 405


def test_confide_import_never_changes_an_existing_user(confide: Emulated) -> None:
    confide.call("POST", IMPORT, json=[{"email": "a@example.com", "canShareLink": True}])
    confide.call("POST", IMPORT, json=[{"email": "A@example.com", "canShareLink": False}])
    [user] = confide.emulator.users()
    assert (user["email"], user["canShareLink"]) == ("a@example.com", True)


def test_confide_import_of_an_existing_user_is_a_failed_item(confide: Emulated) -> None:
    confide.call("POST", IMPORT, json=[{"email": "a@example.com"}])
    body = [{"email": "a@example.com"}, {"email": "b@example.com"}]
    task_id = confide.call("POST", IMPORT, json=body).get_json()["data"]["taskId"]
    status = finished_task(confide, IMPORT, task_id)
    assert status["failedCount"] == 1
    assert status["items"] == [
        {
            "email": "a@example.com",
            "success": False,
            "status": "Failed",
            "errorMessage": "The user already exists.",
        }
    ]


def test_confide_update_of_an_unknown_user_says_it_does_not_exist(confide: Emulated) -> None:
    task_id = confide.call("POST", UPDATE, json=[{"email": "new@example.com"}]).get_json()["data"][
        "taskId"
    ]
    [item] = finished_task(confide, UPDATE, task_id)["items"]
    assert item["errorMessage"] == "The user does not exist."


def test_confide_update_keeps_the_permissions_it_does_not_name(confide: Emulated) -> None:
    confide.call(
        "POST",
        IMPORT,
        json=[{"email": "a@example.com", "canShareLink": True, "canConfigureScan": True}],
    )
    confide.call("POST", UPDATE, json=[{"email": "a@example.com", "canShareLink": False}])
    [user] = confide.emulator.users()
    assert (user["canShareLink"], user["canConfigureScan"]) == (False, True)


def test_confide_import_takes_ten_thousand_users_in_one_request(confide: Emulated) -> None:
    """AvePoint documents no limit on the users of one import: the emulator sets none."""
    body = [{"email": f"user{n}@example.com", "canShareLink": True} for n in range(10_000)]

    response = confide.call("POST", IMPORT, json=body)

    assert response.status_code == 200
    status = finished_task(confide, IMPORT, response.get_json()["data"]["taskId"])
    assert (status["totalCount"], status["failedCount"]) == (10_000, 0)
    assert len(confide.emulator.users()) == 10_000
