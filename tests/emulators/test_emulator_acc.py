"""Autodesk ACC: importProjectUsers and the v1 project users (accountadmin.yaml, authentication.yaml)."""

from __future__ import annotations

import pytest
from emulator_harness import ACC, ACC_PROJECT, Emulated, acc_token, basic, emulated

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


def test_reimport_of_a_member_updates_it_without_duplicate(acc: Emulated) -> None:
    imported(acc, "ann@example.com")
    products = [{"key": "build", "access": "administrator"}]
    acc.call("POST", IMPORT, json={"users": [user("ann@example.com", products=products)]})
    [member] = acc.emulator.users()
    assert member["products"] == products


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
