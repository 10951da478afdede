"""Autodesk ACC: importProjectUsers and the v1 project users (accountadmin.yaml, authentication.yaml)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from emulator_harness import ACC, ACC_PROJECT, Emulated, acc_token, basic, emulated, signed_in

IMPORT = f"/construction/admin/v2/projects/{ACC_PROJECT}/users:import"
USERS = f"/construction/admin/v1/projects/{ACC_PROJECT}/users"
DOCS = [{"key": "docs", "access": "member"}]


def user(email: str, **fields) -> dict:
    return {"email": email, "products": DOCS, **fields}


def imported(acc: Emulated, *emails: str) -> list[dict]:
    acc.call("POST", IMPORT, json={"users": [user(email) for email in emails]})
    return acc.emulator.users()


def test_token_requires_basic_client_credentials() -> None:
    _, client = emulated("acc")
    response = client.post(
        "/authentication/v2/token",
        data={"grant_type": "client_credentials", "scope": "account:write"},
    )
    assert response.status_code == 401
    assert response.get_json()["errorCode"] == "AUTH-001"


def test_token_is_a_bearer_token_with_expiry() -> None:
    _, client = emulated("acc")
    response = client.post(
        "/authentication/v2/token",
        data={"grant_type": "client_credentials", "scope": "account:write"},
        headers={"Authorization": basic(ACC["client_id"], ACC["client_secret"])},
    )
    assert response.get_json()["token_type"] == "Bearer"
    assert response.get_json()["expires_in"] == 3599


def test_token_refuses_another_grant_type() -> None:
    _, client = emulated("acc")
    response = client.post(
        "/authentication/v2/token",
        data={"grant_type": "password", "scope": "account:write"},
        headers={"Authorization": basic(ACC["client_id"], ACC["client_secret"])},
    )
    assert response.status_code == 400


def test_import_answers_202_with_a_job_id(acc: Emulated) -> None:
    response = acc.call("POST", IMPORT, json={"users": [user("ann@example.com")]})
    assert response.status_code == 202
    assert set(response.get_json()) == {"jobId"}


def test_import_adds_project_users_with_their_products(acc: Emulated) -> None:
    [member] = imported(acc, "ann@example.com")
    assert member["email"] == "ann@example.com"
    assert member["products"] == DOCS
    assert member["status"] == "pending"


def test_import_accepts_200_users(acc: Emulated) -> None:
    body = {"users": [user(f"u{n}@example.com") for n in range(200)]}
    assert acc.call("POST", IMPORT, json=body).status_code == 202
    assert len(acc.emulator.users()) == 200


def test_import_refuses_201_users(acc: Emulated) -> None:
    body = {"users": [user(f"u{n}@example.com") for n in range(201)]}
    response = acc.call("POST", IMPORT, json=body)
    assert response.status_code == 400
    assert acc.emulator.users() == []


@pytest.mark.parametrize("missing", ["email", "products"])
def test_import_requires_email_and_products(acc: Emulated, missing: str) -> None:
    record = user("ann@example.com")
    del record[missing]
    assert acc.call("POST", IMPORT, json={"users": [record]}).status_code == 400


def test_import_refuses_an_unknown_product_key(acc: Emulated) -> None:
    record = user("ann@example.com", products=[{"key": "bim360", "access": "member"}])
    assert acc.call("POST", IMPORT, json={"users": [record]}).status_code == 400


def test_import_refuses_an_unknown_access_level(acc: Emulated) -> None:
    record = user("ann@example.com", products=[{"key": "docs", "access": "owner"}])
    assert acc.call("POST", IMPORT, json={"users": [record]}).status_code == 400


def test_import_refuses_a_wrongly_typed_name(acc: Emulated) -> None:
    assert (
        acc.call("POST", IMPORT, json={"users": [user("a@example.com", firstName=7)]}).status_code
        == 400
    )


def test_import_requires_json_content_type(acc: Emulated) -> None:
    response = acc.call("POST", IMPORT, data='{"users": []}', content_type="text/plain")
    assert response.status_code == 415


def test_import_into_an_unknown_project_is_404(acc: Emulated) -> None:
    response = acc.call(
        "POST",
        IMPORT.replace(ACC_PROJECT, f"b.{ACC_PROJECT}"),
        json={"users": [user("ann@example.com")]},
    )
    assert response.status_code == 404


def test_import_without_user_id_header_is_403(acc: Emulated) -> None:
    response = acc.call(
        "POST", IMPORT, json={"users": [user("a@example.com")]}, headers={"User-Id": ""}
    )
    assert response.status_code == 403


def test_import_with_a_read_only_token_is_403(acc: Emulated) -> None:
    token = acc_token(acc.client, scope="account:read")
    response = acc.call(
        "POST",
        IMPORT,
        json={"users": [user("a@example.com")]},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 403


def test_import_with_an_unknown_region_is_400(acc: Emulated) -> None:
    response = acc.call(
        "POST", IMPORT, json={"users": [user("a@example.com")]}, headers={"Region": "MARS"}
    )
    assert response.status_code == 400


def test_expired_token_is_401_auth_006(acc: Emulated) -> None:
    acc.emulator.expire_tokens()
    response = acc.call("POST", IMPORT, json={"users": [user("a@example.com")]})
    assert response.status_code == 401
    assert response.get_json()["errorCode"] == "AUTH-006"


def test_acc_import_never_updates_an_existing_member(acc: Emulated) -> None:
    [before] = imported(acc, "ann@example.com")
    products = [{"key": "build", "access": "administrator"}]
    acc.call(
        "POST",
        IMPORT,
        json={"users": [user("ann@example.com", products=products, firstName="Anna")]},
    )
    assert acc.emulator.users() == [before]


def test_acc_import_of_an_existing_member_is_answered_202_as_any_import(acc: Emulated) -> None:
    imported(acc, "ann@example.com")
    response = acc.call("POST", IMPORT, json={"users": [user("ann@example.com")]})
    assert response.status_code == 202
    assert set(response.get_json()) == {"jobId"}


def test_rejected_user_is_silently_absent_after_the_202(acc: Emulated) -> None:
    acc.emulator.reject_users(["bad@example.com"])
    response = acc.call(
        "POST", IMPORT, json={"users": [user("ok@example.com"), user("bad@example.com")]}
    )
    assert response.status_code == 202
    assert [member["email"] for member in acc.emulator.users()] == ["ok@example.com"]


def test_list_filters_by_email(acc: Emulated) -> None:
    imported(acc, "ann@example.com", "bob@example.com")
    response = acc.call(
        "GET", USERS, query_string={"filter[email]": "bob@example.com", "filterTextMatch": "equals"}
    )
    assert [member["email"] for member in response.get_json()["results"]] == ["bob@example.com"]


def test_list_does_not_need_the_user_id_header(acc: Emulated) -> None:
    imported(acc, "ann@example.com")
    assert acc.call("GET", USERS, headers={"User-Id": ""}).status_code == 200


def test_list_paginates_with_limit_and_offset(acc: Emulated) -> None:
    imported(acc, *(f"u{n}@example.com" for n in range(5)))
    page = acc.call("GET", USERS, query_string={"limit": 2, "offset": 2}).get_json()
    assert len(page["results"]) == 2
    assert page["pagination"]["totalResults"] == 5
    assert "nextUrl" in page["pagination"]


def test_list_refuses_a_limit_over_200(acc: Emulated) -> None:
    assert acc.call("GET", USERS, query_string={"limit": 201}).status_code == 400


def test_patch_updates_products_and_answers_201(acc: Emulated) -> None:
    [member] = imported(acc, "ann@example.com")
    response = acc.call(
        "PATCH", f"{USERS}/{member['id']}", json={"products": [{"key": "docs", "access": "none"}]}
    )
    assert response.status_code == 201
    assert response.get_json()["id"] == member["id"]
    assert acc.emulator.users()[0]["products"] == [{"key": "docs", "access": "none"}]


def test_delete_removes_the_project_user_with_204(acc: Emulated) -> None:
    [member] = imported(acc, "ann@example.com")
    assert acc.call("DELETE", f"{USERS}/{member['id']}").status_code == 204
    assert acc.emulator.users() == []


def test_delete_of_an_unknown_user_is_404(acc: Emulated) -> None:
    assert acc.call("DELETE", f"{USERS}/no-such-user").status_code == 404


def test_429_fault_carries_retry_after_and_quota_message(acc: Emulated) -> None:
    acc.emulator.fault(status=429, retry_after=2)
    response = acc.call("POST", IMPORT, json={"users": [user("a@example.com")]})
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "2"
    assert response.get_json() == {"developerMessage": "Quota limit exceeded."}


def test_request_counts_are_kept_per_endpoint(acc: Emulated) -> None:
    for batch in range(5):
        acc.call(
            "POST", IMPORT, json={"users": [user(f"u{batch}-{n}@example.com") for n in range(200)]}
        )
    counts = acc.emulator.request_counts()
    assert counts["POST /construction/admin/v2/projects/<project_id>/users:import"] == 5
    assert len(acc.emulator.users()) == 1000


def test_patch_of_an_unknown_user_is_404(acc: Emulated) -> None:
    response = acc.call("PATCH", f"{USERS}/no-such-user", json={"products": DOCS})
    assert response.status_code == 404


def test_list_reports_limit_offset_total_and_the_previous_page(acc: Emulated) -> None:
    imported(acc, *(f"u{n}@example.com" for n in range(5)))
    pagination = acc.call("GET", USERS, query_string={"limit": 2, "offset": 4}).get_json()[
        "pagination"
    ]
    assert (pagination["limit"], pagination["offset"], pagination["totalResults"]) == (2, 4, 5)
    assert "offset=2" in pagination["previousUrl"]
    assert "nextUrl" not in pagination


def test_list_filters_by_the_start_of_the_email(acc: Emulated) -> None:
    imported(acc, "ann@example.com", "bob@example.com")
    response = acc.call(
        "GET", USERS, query_string={"filter[email]": "bo", "filterTextMatch": "startsWith"}
    )
    assert [member["email"] for member in response.get_json()["results"]] == ["bob@example.com"]


def sorted_emails(acc: Emulated, *sort: str) -> list[str]:
    response = acc.call("GET", USERS, query_string=[("sort", value) for value in sort])
    assert response.status_code == 200, response.get_json()
    return [member["email"] for member in response.get_json()["results"]]


def added_one_by_one(acc: Emulated, *emails: str) -> None:
    """Members imported apart, so that each has an ``addedOn`` of its own (milliseconds)."""
    for email in emails:
        imported(acc, email)
        time.sleep(0.005)


def test_acc_list_sorts_by_added_on_newest_first(acc: Emulated) -> None:
    added_one_by_one(acc, "bob@example.com", "ann@example.com", "cid@example.com")
    assert sorted_emails(acc, "addedOn desc") == [
        "cid@example.com",
        "ann@example.com",
        "bob@example.com",
    ]


def test_acc_list_sorts_by_added_on_oldest_first(acc: Emulated) -> None:
    added_one_by_one(acc, "bob@example.com", "ann@example.com", "cid@example.com")
    assert sorted_emails(acc, "addedOn asc") == [
        "bob@example.com",
        "ann@example.com",
        "cid@example.com",
    ]


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("email asc", ["ann@example.com", "bob@example.com", "cid@example.com"]),
        ("email desc", ["cid@example.com", "bob@example.com", "ann@example.com"]),
    ],
)
def test_acc_list_sorts_by_email(acc: Emulated, sort: str, expected: list[str]) -> None:
    added_one_by_one(acc, "bob@example.com", "cid@example.com", "ann@example.com")
    assert sorted_emails(acc, sort) == expected


def test_acc_list_applies_each_sort_within_the_groups_of_the_one_before(acc: Emulated) -> None:
    for email, status in [
        ("bob@x.com", "pending"),
        ("ann@x.com", "active"),
        ("cid@x.com", "active"),
    ]:
        acc.emulator.admin_create({"email": email, "products": DOCS, "status": status})
    assert sorted_emails(acc, "status asc,email desc") == ["cid@x.com", "ann@x.com", "bob@x.com"]


def test_acc_list_sort_pages_follow_the_order(acc: Emulated) -> None:
    added_one_by_one(acc, *(f"u{n}@example.com" for n in range(5)))
    page = acc.call("GET", USERS, query_string={"sort": "addedOn desc", "limit": 2, "offset": 2})
    assert [member["email"] for member in page.get_json()["results"]] == [
        "u2@example.com",
        "u1@example.com",
    ]


@pytest.mark.parametrize("sort", ["addedOn", "id desc", "addedOn descending", "updatedAt asc"])
def test_acc_list_refuses_an_undocumented_sort(acc: Emulated, sort: str) -> None:
    imported(acc, "ann@example.com")
    response = acc.call("GET", USERS, query_string={"sort": sort})
    assert response.status_code == 400
    assert response.get_json()["code"] == "ERR_BAD_INPUT"


def test_acc_members_carry_the_moment_they_were_added(acc: Emulated) -> None:
    before = datetime.now(UTC) - timedelta(milliseconds=1)  # addedOn is in milliseconds
    [member] = imported(acc, "ann@example.com")
    assert before <= datetime.fromisoformat(member["addedOn"]) <= datetime.now(UTC)


# -- the asynchronous import ------------------------------------------------------------------


def listed_emails(acc: Emulated) -> list[str]:
    return [member["email"] for member in acc.call("GET", USERS).get_json()["results"]]


def test_acc_imported_user_is_not_listed_before_the_import_delay() -> None:
    acc = signed_in("acc", import_delay_seconds=0.2)
    acc.call("POST", IMPORT, json={"users": [user("ann@example.com")]})
    assert listed_emails(acc) == []


def test_acc_imported_user_is_listed_once_the_import_delay_passed() -> None:
    acc = signed_in("acc", import_delay_seconds=0.2)
    acc.call("POST", IMPORT, json={"users": [user("ann@example.com")]})
    time.sleep(0.25)
    assert listed_emails(acc) == ["ann@example.com"]


def test_acc_import_delay_defaults_to_half_a_second() -> None:
    acc = signed_in("acc")
    acc.call("POST", IMPORT, json={"users": [user("ann@example.com")]})
    assert acc.emulator.users() == []
    time.sleep(0.55)
    assert [member["email"] for member in acc.emulator.users()] == ["ann@example.com"]


def test_acc_second_import_of_a_pending_email_keeps_the_first() -> None:
    acc = signed_in("acc", import_delay_seconds=0.2)
    acc.call("POST", IMPORT, json={"users": [user("ann@example.com")]})
    other = [{"key": "build", "access": "administrator"}]
    acc.call("POST", IMPORT, json={"users": [user("ann@example.com", products=other)]})
    time.sleep(0.25)
    [member] = acc.emulator.users()
    assert member["products"] == DOCS


# -- rate limits ------------------------------------------------------------------------------


def limited(**options) -> Emulated:
    return signed_in("acc", import_delay_seconds=0, **options)


def test_acc_answers_429_after_the_write_limit() -> None:
    acc = limited(write_limit=3, limit_seconds=2)
    statuses = [
        acc.call("POST", IMPORT, json={"users": [user(f"u{n}@example.com")]}).status_code
        for n in range(4)
    ]
    assert statuses == [202, 202, 202, 429]


def test_acc_429_carries_the_quota_message_and_retry_after_in_seconds() -> None:
    acc = limited(write_limit=1, limit_seconds=2)
    acc.call("DELETE", f"{USERS}/nobody")
    response = acc.call("DELETE", f"{USERS}/nobody")
    assert response.get_json() == {"developerMessage": "Quota limit exceeded."}
    assert response.headers["Retry-After"] == "2"


def test_acc_refused_write_changes_nothing() -> None:
    acc = limited(write_limit=1, limit_seconds=2)
    acc.call("POST", IMPORT, json={"users": [user("ann@example.com")]})
    acc.call("POST", IMPORT, json={"users": [user("bob@example.com")]})
    assert [member["email"] for member in acc.emulator.users()] == ["ann@example.com"]


def test_acc_write_limit_counts_every_write_method_together() -> None:
    acc = limited(write_limit=2, limit_seconds=2)
    [member] = imported(acc, "ann@example.com")
    acc.call("PATCH", f"{USERS}/{member['id']}", json={"products": DOCS})
    assert acc.call("DELETE", f"{USERS}/{member['id']}").status_code == 429


def test_acc_answers_429_after_the_read_limit() -> None:
    acc = limited(read_limit=2, limit_seconds=2)
    statuses = [acc.call("GET", USERS).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]


def test_acc_reads_do_not_use_up_the_write_limit() -> None:
    acc = limited(read_limit=5, write_limit=1, limit_seconds=2)
    for _ in range(3):
        acc.call("GET", USERS)
    response = acc.call("POST", IMPORT, json={"users": [user("ann@example.com")]})
    assert response.status_code == 202


def test_acc_token_endpoint_is_not_rate_limited() -> None:
    acc = limited(write_limit=1, limit_seconds=2)
    for _ in range(2):
        acc_token(acc.client)
    response = acc.call("POST", IMPORT, json={"users": [user("ann@example.com")]})
    assert response.status_code == 202


def test_acc_write_is_allowed_again_once_the_window_frees() -> None:
    acc = limited(write_limit=1, limit_seconds=0.3)
    acc.call("POST", IMPORT, json={"users": [user("ann@example.com")]})
    time.sleep(0.35)
    response = acc.call("POST", IMPORT, json={"users": [user("bob@example.com")]})
    assert response.status_code == 202


def test_acc_refused_write_counts_against_the_rolling_window() -> None:
    acc = limited(write_limit=1, limit_seconds=0.4)
    acc.call("DELETE", f"{USERS}/nobody")
    time.sleep(0.2)
    assert acc.call("DELETE", f"{USERS}/nobody").status_code == 429
    time.sleep(0.25)
    assert acc.call("DELETE", f"{USERS}/nobody").status_code == 429


def test_acc_rate_limit_cannot_be_switched_off() -> None:
    with pytest.raises(ValueError):
        signed_in("acc", write_limit=0)


def test_acc_write_limit_defaults_to_100_a_minute() -> None:
    acc = signed_in("acc")
    statuses = [acc.call("DELETE", f"{USERS}/nobody").status_code for _ in range(101)]
    assert statuses == [404] * 100 + [429]
    assert 59 <= int(acc.call("DELETE", f"{USERS}/nobody").headers["Retry-After"]) <= 60
