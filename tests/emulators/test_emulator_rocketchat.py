"""Rocket.Chat: the import operation's state machine and the user calls (seed rocketchat-bulk-user-import.md)."""

from __future__ import annotations

from emulator_harness import Emulated, emulated

API = "/api/v1"


def rc_user(username: str, **fields) -> dict:
    return {
        "username": username,
        "emails": [f"{username}@example.com"],
        "importIds": [f"id-{username}"],
        **fields,
    }


def run_import(rc: Emulated, *users: dict) -> dict:
    """new → addUsers → run → status until it ends; the last status."""
    rc.call("POST", f"{API}/import.new")
    rc.call("POST", f"{API}/import.addUsers", json={"users": list(users)})
    rc.call("POST", f"{API}/import.run")
    for _ in range(10):
        status = rc.call("GET", f"{API}/import.status").get_json()
        if status["state"] != "importing":
            return status
    raise AssertionError("the import never ended")


def test_a_call_without_the_token_headers_is_401() -> None:
    _, client = emulated("rocketchat")
    response = client.post(f"{API}/import.new")
    assert response.status_code == 401
    assert response.get_json()["error"] == "You must be logged in to do this."


def test_a_revoked_token_is_401(rocketchat: Emulated) -> None:
    rocketchat.emulator.expire_tokens()
    assert rocketchat.call("POST", f"{API}/import.new").status_code == 401


def test_status_without_an_operation_is_none(rocketchat: Emulated) -> None:
    assert rocketchat.call("GET", f"{API}/import.status").get_json() == {
        "state": "none",
        "success": True,
    }


def test_new_operation_is_in_state_new(rocketchat: Emulated) -> None:
    operation = rocketchat.call("POST", f"{API}/import.new").get_json()["operation"]
    assert operation["status"] == "importer_new"
    assert rocketchat.call("GET", f"{API}/import.status").get_json()["state"] == "new"


def test_add_users_without_an_operation_is_refused(rocketchat: Emulated) -> None:
    response = rocketchat.call("POST", f"{API}/import.addUsers", json={"users": [rc_user("ann")]})
    assert response.status_code == 400
    assert response.get_json()["error"] == "Import operation not initialized."


def test_add_users_makes_the_operation_ready(rocketchat: Emulated) -> None:
    rocketchat.call("POST", f"{API}/import.new")
    assert (
        rocketchat.call(
            "POST", f"{API}/import.addUsers", json={"users": [rc_user("ann")]}
        ).status_code
        == 200
    )
    assert rocketchat.call("GET", f"{API}/import.status").get_json()["state"] == "ready"


def test_one_user_without_email_rejects_the_whole_batch(rocketchat: Emulated) -> None:
    rocketchat.call("POST", f"{API}/import.new")
    users = [rc_user("ann"), rc_user("bob", emails=[])]
    response = rocketchat.call("POST", f"{API}/import.addUsers", json={"users": users})
    assert response.get_json() == {"success": False, "error": "Users are missing required data."}
    assert rocketchat.call("GET", f"{API}/import.status").get_json()["state"] == "new"


def test_one_bad_role_rejects_the_whole_batch(rocketchat: Emulated) -> None:
    rocketchat.call("POST", f"{API}/import.new")
    users = [rc_user("ann"), rc_user("bob", roles=["overlord"])]
    response = rocketchat.call("POST", f"{API}/import.addUsers", json={"users": users})
    assert response.status_code == 400
    assert "invalid roles" in response.get_json()["error"]


def test_add_users_refuses_unknown_top_level_fields(rocketchat: Emulated) -> None:
    rocketchat.call("POST", f"{API}/import.new")
    response = rocketchat.call("POST", f"{API}/import.addUsers", json={"users": [], "channels": []})
    assert response.get_json()["errorType"] == "invalid-params"


def test_run_requires_a_ready_operation(rocketchat: Emulated) -> None:
    rocketchat.call("POST", f"{API}/import.new")
    response = rocketchat.call("POST", f"{API}/import.run")
    assert response.get_json()["error"] == "error-invalid-operation-status"


def test_run_is_importing_then_done(rocketchat: Emulated) -> None:
    rocketchat.call("POST", f"{API}/import.new")
    rocketchat.call("POST", f"{API}/import.addUsers", json={"users": [rc_user("ann")]})
    rocketchat.call("POST", f"{API}/import.run")
    states = [rocketchat.call("GET", f"{API}/import.status").get_json()["state"] for _ in range(2)]
    assert states == ["importing", "done"]


def test_imported_user_has_default_role_and_import_id(rocketchat: Emulated) -> None:
    run_import(rocketchat, rc_user("ann", roles=["admin"]))
    [user] = rocketchat.emulator.users()
    assert user["roles"] == ["admin", "user"]
    assert user["importIds"] == ["id-ann"]
    assert user["active"] is True


def test_deleted_user_is_created_deactivated(rocketchat: Emulated) -> None:
    run_import(rocketchat, rc_user("ann", deleted=True))
    assert rocketchat.emulator.users()[0]["active"] is False


def test_import_never_updates_an_existing_user(rocketchat: Emulated) -> None:
    run_import(rocketchat, rc_user("ann", name="Ann"))
    status = run_import(rocketchat, rc_user("ann", name="Changed"))
    assert status["operation"]["count"]["error"] == 1
    [user] = rocketchat.emulator.users()
    assert user["name"] == "Ann"


def test_rejected_user_is_a_counted_error_and_not_created(rocketchat: Emulated) -> None:
    rocketchat.emulator.reject_users(["bad@example.com"])
    status = run_import(rocketchat, rc_user("ok"), rc_user("bad"))
    assert status["operation"]["count"] == {"total": 2, "users": 2, "completed": 2, "error": 1}
    assert [user["username"] for user in rocketchat.emulator.users()] == ["ok"]


def test_users_info_finds_a_user_by_import_id(rocketchat: Emulated) -> None:
    run_import(rocketchat, rc_user("ann"))
    response = rocketchat.call("GET", f"{API}/users.info", query_string={"importId": "id-ann"})
    assert response.get_json()["user"]["username"] == "ann"


def test_users_info_of_an_unknown_import_id_is_400(rocketchat: Emulated) -> None:
    response = rocketchat.call("GET", f"{API}/users.info", query_string={"importId": "nobody"})
    assert response.status_code == 400


def test_set_active_status_deactivates_a_user(rocketchat: Emulated) -> None:
    run_import(rocketchat, rc_user("ann"))
    user_id = rocketchat.emulator.users()[0]["_id"]
    response = rocketchat.call(
        "POST", f"{API}/users.setActiveStatus", json={"userId": user_id, "activeStatus": False}
    )
    assert response.get_json()["user"] == {"_id": user_id, "active": False}


def test_users_update_changes_the_name(rocketchat: Emulated) -> None:
    run_import(rocketchat, rc_user("ann"))
    user_id = rocketchat.emulator.users()[0]["_id"]
    rocketchat.call(
        "POST", f"{API}/users.update", json={"userId": user_id, "data": {"name": "Ann Lee"}}
    )
    assert rocketchat.emulator.users()[0]["name"] == "Ann Lee"


def test_users_update_refuses_a_taken_username(rocketchat: Emulated) -> None:
    run_import(rocketchat, rc_user("ann"), rc_user("bob"))
    bob = next(user for user in rocketchat.emulator.users() if user["username"] == "bob")
    response = rocketchat.call(
        "POST", f"{API}/users.update", json={"userId": bob["_id"], "data": {"username": "ann"}}
    )
    assert response.status_code == 400


def test_429_fault_has_rate_limit_headers_and_no_retry_after(rocketchat: Emulated) -> None:
    rocketchat.emulator.fault(status=429, retry_after=5)
    response = rocketchat.call("POST", f"{API}/import.new")
    assert response.status_code == 429
    assert "Retry-After" not in response.headers
    assert int(response.headers["X-RateLimit-Reset"]) > 10**12
    assert response.headers["X-RateLimit-Remaining"] == "0"
