"""Rocket.Chat: the import operation's state machine and the user calls (Rocket.Chat's Bulk User Import API reference)."""

from __future__ import annotations

import time

import pytest
from emulator_harness import Emulated, emulated, signed_in

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


def test_import_of_a_taken_email_under_another_username_is_an_error(rocketchat: Emulated) -> None:
    run_import(rocketchat, rc_user("ann"))
    status = run_import(rocketchat, rc_user("annie", emails=["ann@example.com"]))
    assert status["operation"]["count"]["error"] == 1
    assert [user["username"] for user in rocketchat.emulator.users()] == ["ann"]


# -- the per-route rate limiter ---------------------------------------------------------------

STATUS = f"{API}/import.status"


def statuses(rc: Emulated, path: str, calls: int) -> list[int]:
    return [rc.call("GET", path).status_code for _ in range(calls)]


def test_rocketchat_answers_429_after_ten_calls_to_one_route(rocketchat: Emulated) -> None:
    assert statuses(rocketchat, STATUS, 11) == [200] * 10 + [429]


def test_rocketchat_429_says_how_many_seconds_to_wait() -> None:
    rc = signed_in("rocketchat", rate_limit_calls=1, rate_limit_seconds=2)
    rc.call("GET", STATUS)
    assert rc.call("GET", STATUS).get_json() == {
        "success": False,
        "error": "Error, too many requests. Please slow down. You must wait 2 seconds "
        "before trying this endpoint again. [error-too-many-requests]",
    }


def test_rocketchat_429_has_no_retry_after() -> None:
    rc = signed_in("rocketchat", rate_limit_calls=1, rate_limit_seconds=2)
    rc.call("GET", STATUS)
    response = rc.call("GET", STATUS)
    assert response.status_code == 429
    assert "Retry-After" not in response.headers


def test_rocketchat_429_reset_header_is_epoch_ms_when_the_window_frees() -> None:
    rc = signed_in("rocketchat", rate_limit_calls=1, rate_limit_seconds=2)
    rc.call("GET", STATUS)
    response = rc.call("GET", STATUS)
    wait_ms = int(response.headers["X-RateLimit-Reset"]) - time.time() * 1000
    assert 1000 < wait_ms <= 2001
    assert (response.headers["X-RateLimit-Limit"], response.headers["X-RateLimit-Remaining"]) == (
        "1",
        "0",
    )


def test_rocketchat_allowed_calls_report_the_calls_remaining(rocketchat: Emulated) -> None:
    first = rocketchat.call("GET", STATUS)
    second = rocketchat.call("GET", STATUS)
    assert (first.headers["X-RateLimit-Limit"], first.headers["X-RateLimit-Remaining"]) == (
        "10",
        "9",
    )
    assert second.headers["X-RateLimit-Remaining"] == "8"


def test_rocketchat_limits_each_route_apart(rocketchat: Emulated) -> None:
    statuses(rocketchat, STATUS, 11)
    assert rocketchat.call("POST", f"{API}/import.new").status_code == 200


def test_rocketchat_rate_limit_covers_the_users_routes(rocketchat: Emulated) -> None:
    info = f"{API}/users.info?importId=nobody"
    assert statuses(rocketchat, info, 11)[-1] == 429


def test_rocketchat_refused_call_changes_nothing() -> None:
    rc = signed_in("rocketchat", rate_limit_calls=1, rate_limit_seconds=2)
    rc.call("POST", f"{API}/import.new")
    rc.call("POST", f"{API}/import.addUsers", json={"users": [rc_user("ann")]})
    rc.call("POST", f"{API}/import.new")
    assert rc.call("GET", STATUS).get_json()["state"] == "ready"


def test_rocketchat_route_is_allowed_again_once_the_window_ends() -> None:
    rc = signed_in("rocketchat", rate_limit_calls=1, rate_limit_seconds=0.3)
    statuses(rc, STATUS, 2)
    time.sleep(0.35)
    assert rc.call("GET", STATUS).status_code == 200


def test_rocketchat_refused_calls_do_not_move_the_fixed_window() -> None:
    rc = signed_in("rocketchat", rate_limit_calls=1, rate_limit_seconds=0.4)
    rc.call("GET", STATUS)
    time.sleep(0.2)
    assert rc.call("GET", STATUS).status_code == 429
    time.sleep(0.25)
    assert rc.call("GET", STATUS).status_code == 200


def test_rocketchat_unauthenticated_calls_are_not_counted() -> None:
    rc = signed_in("rocketchat", rate_limit_calls=1, rate_limit_seconds=2)
    for _ in range(2):
        assert rc.client.get(STATUS).status_code == 401
    assert rc.call("GET", STATUS).status_code == 200


def test_rocketchat_bypass_rate_limit_exempts_the_account() -> None:
    rc = signed_in("rocketchat", rate_limit_calls=1, rate_limit_seconds=2, bypass_rate_limit=True)
    assert statuses(rc, STATUS, 3) == [200, 200, 200]


def test_rocketchat_rate_limit_cannot_be_switched_off() -> None:
    with pytest.raises(ValueError):
        signed_in("rocketchat", rate_limit_calls=0)


def test_rocketchat_429_fault_says_to_wait_its_retry_after(rocketchat: Emulated) -> None:
    rocketchat.emulator.fault(status=429, retry_after=5)
    error = rocketchat.call("POST", f"{API}/import.new").get_json()["error"]
    assert "You must wait 5 seconds" in error


# -- users.list -------------------------------------------------------------------------------

LIST = f"{API}/users.list"


def listed(rc: Emulated, **parameters: object) -> dict:
    response = rc.call("GET", LIST, query_string=parameters)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_users_list_shows_an_admin_the_default_fields_and_never_the_import_ids(
    rocketchat: Emulated,
) -> None:
    run_import(rocketchat, rc_user("ann", name="Ann Lee"))
    [user] = listed(rocketchat)["users"]
    assert set(user) == {
        "_id", "name", "username", "emails", "roles", "active", "type", "nameInsensitive"
    }  # fmt: skip
    assert (user["username"], user["nameInsensitive"]) == ("ann", "ann lee")
    assert user["emails"] == [{"address": "ann@example.com", "verified": False}]


def test_users_list_pages_by_user_name_and_tells_the_total(rocketchat: Emulated) -> None:
    run_import(rocketchat, *(rc_user(name) for name in ("cid", "ann", "bob")))
    page = listed(rocketchat, count=2, offset=1)
    assert [user["username"] for user in page["users"]] == ["bob", "cid"]
    assert (page["count"], page["offset"], page["total"], page["success"]) == (2, 1, 3, True)


def test_users_list_counts_50_by_default_and_at_most_100() -> None:
    rc = signed_in("rocketchat", rate_limit_calls=100)
    run_import(rc, *(rc_user(f"user{n:03d}") for n in range(120)))
    assert listed(rc)["count"] == 50
    assert listed(rc, count=500)["count"] == 100
    assert listed(rc, count=0)["count"] == 120  # API_Allow_Infinite_Count, on by default


def test_users_list_without_infinite_count_answers_the_default_count_for_0() -> None:
    """``API_Allow_Infinite_Count`` off: ``getPaginationItems`` turns 0 into the default count."""
    rc = signed_in("rocketchat", rate_limit_calls=100, allow_infinite_count=False)
    run_import(rc, *(rc_user(f"user{n:03d}") for n in range(120)))
    page = listed(rc, count=0)
    assert (page["count"], page["total"]) == (50, 120)
    assert page["users"][0]["username"] == "user000"


def test_ten_thousand_users_in_one_add_users_are_all_imported() -> None:
    """The documents and the ajv schema name no most users per ``addUsers``."""
    rc = signed_in("rocketchat")
    status = run_import(rc, *(rc_user(f"user{n:05d}") for n in range(10_000)))
    assert status["state"] == "done"
    assert status["operation"]["count"] == {
        "total": 10_000,
        "users": 10_000,
        "completed": 10_000,
        "error": 0,
    }
    assert len(rc.emulator.users()) == 10_000
    assert rc.emulator.request_counts()["POST /api/v1/import.addUsers"] == 1


def test_users_list_refuses_a_negative_offset(rocketchat: Emulated) -> None:
    assert rocketchat.call("GET", LIST, query_string={"offset": "-1"}).status_code == 400


@pytest.mark.parametrize("parameter", ["query", "fields", "sort"])
def test_users_list_refuses_the_parameters_it_does_not_emulate(
    rocketchat: Emulated, parameter: str
) -> None:
    response = rocketchat.call("GET", LIST, query_string={parameter: '{"importIds": 1}'})
    assert response.status_code == 400


def test_users_list_is_a_route_of_its_own_under_the_rate_limit(rocketchat: Emulated) -> None:
    statuses(rocketchat, STATUS, 10)
    assert statuses(rocketchat, LIST, 11) == [200] * 10 + [429]
