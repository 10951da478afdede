"""The ACC emulator's admin: members changed and added as in ACC, seen in the listing and end state."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from emulator_harness import ACC, ACC_PROJECT, Emulated
from scimbridge_emulators.server import RunningEmulator

IMPORT = f"/construction/admin/v2/projects/{ACC_PROJECT}/users:import"
USERS = f"/construction/admin/v1/projects/{ACC_PROJECT}/users"
DOCS = [{"key": "docs", "access": "member"}]
ADMIN = [{"key": "projectAdministration", "access": "administrator"}]


def imported(acc: Emulated, email: str) -> dict[str, Any]:
    acc.call("POST", IMPORT, json={"users": [{"email": email, "products": DOCS}]})
    [member] = acc.emulator.users()
    return member


def listed(acc: Emulated) -> list[dict[str, Any]]:
    response = acc.call("GET", USERS, query_string={"limit": 200})
    assert response.status_code == 200
    return list(response.get_json()["results"])


def test_an_admins_change_shows_in_the_listing(acc: Emulated) -> None:
    imported(acc, "ann@example.com")

    acc.emulator.admin_change("ann@example.com", {"companyId": "company-set-in-acc"})

    [member] = listed(acc)
    assert member["companyId"] == "company-set-in-acc"


def test_an_admins_change_finds_the_member_by_email_in_any_case(acc: Emulated) -> None:
    imported(acc, "ann@example.com")

    acc.emulator.admin_change("ANN@Example.com", {"roleIds": ["role-set-in-acc"]})

    assert acc.emulator.users()[0]["roleIds"] == ["role-set-in-acc"]


def test_an_admins_change_of_products_updates_the_access_levels(acc: Emulated) -> None:
    imported(acc, "ann@example.com")

    changed = acc.emulator.admin_change("ann@example.com", {"products": ADMIN})

    assert changed["accessLevels"]["projectAdmin"] is True
    assert acc.emulator.users()[0]["accessLevels"]["projectAdmin"] is True


def test_an_admins_change_of_the_names_updates_the_full_name(acc: Emulated) -> None:
    imported(acc, "ann@example.com")

    acc.emulator.admin_change("ann@example.com", {"firstName": "Ann", "lastName": "Lee"})

    assert listed(acc)[0]["name"] == "Ann Lee"


def test_an_admins_change_of_an_unknown_member_is_a_key_error(acc: Emulated) -> None:
    with pytest.raises(KeyError):
        acc.emulator.admin_change("nobody@example.com", {"companyId": "c"})


def test_an_admin_cannot_change_the_acc_id(acc: Emulated) -> None:
    member = imported(acc, "ann@example.com")

    with pytest.raises(ValueError, match="id"):
        acc.emulator.admin_change("ann@example.com", {"id": "another-id"})
    assert acc.emulator.users()[0]["id"] == member["id"]


def test_an_admin_cannot_give_a_member_another_members_email(acc: Emulated) -> None:
    imported(acc, "ann@example.com")
    bob = acc.emulator.admin_create({"email": "bob@example.com", "products": DOCS})

    with pytest.raises(ValueError, match="another member"):
        acc.emulator.admin_change("bob@example.com", {"email": "ANN@example.com"})
    assert {member["email"] for member in listed(acc)} == {"ann@example.com", bob["email"]}


def test_an_admins_refused_product_access_changes_nothing(acc: Emulated) -> None:
    imported(acc, "ann@example.com")

    with pytest.raises(ValueError):
        acc.emulator.admin_change(
            "ann@example.com", {"products": [{"key": "docs", "access": "owner"}]}
        )
    assert acc.emulator.users()[0]["products"] == DOCS


def test_a_member_the_admin_adds_gets_an_acc_id_and_the_import_defaults(acc: Emulated) -> None:
    added = acc.emulator.admin_create({"email": "carol@example.com", "products": DOCS})

    [member] = listed(acc)
    assert member["id"] == added["id"] and member["email"] == "carol@example.com"
    assert member["status"] == "pending" and member["autodeskId"]
    assert member["roleIds"] == [] and member["companyId"] is None


def test_a_member_the_admin_adds_keeps_the_autodesk_id_it_is_given(acc: Emulated) -> None:
    acc.emulator.admin_create(
        {"email": "admin@example.com", "products": ADMIN, "autodeskId": ACC["user_id"]}
    )

    assert listed(acc)[0]["autodeskId"] == ACC["user_id"]


def test_a_member_the_admin_adds_needs_products(acc: Emulated) -> None:
    with pytest.raises(ValueError, match="products"):
        acc.emulator.admin_create({"email": "carol@example.com"})
    assert acc.emulator.users() == []


def test_the_admin_cannot_add_a_member_twice(acc: Emulated) -> None:
    imported(acc, "ann@example.com")

    with pytest.raises(ValueError, match="already"):
        acc.emulator.admin_create({"email": "Ann@example.com", "products": DOCS})
    assert len(acc.emulator.users()) == 1


def test_the_admin_cannot_add_a_member_to_an_unknown_project(acc: Emulated) -> None:
    with pytest.raises(ValueError, match="projectId"):
        acc.emulator.admin_create(
            {"email": "carol@example.com", "products": DOCS, "projectId": "no-such-project"}
        )
    assert acc.emulator.users() == []


def test_admin_controls_over_http_add_and_change_a_member(
    served_acc_immediate: RunningEmulator,
) -> None:
    admin = f"{served_acc_immediate.url}/_emulator/admin/accounts"

    created = requests.post(admin, json={"email": "carol@example.com", "products": DOCS}, timeout=5)
    changed = requests.patch(
        f"{admin}/carol@example.com", json={"companyId": "company-set-in-acc"}, timeout=5
    )

    assert created.status_code == 201 and changed.status_code == 200
    [member] = served_acc_immediate.users()
    assert member["id"] == created.json()["id"]
    assert member["companyId"] == changed.json()["companyId"] == "company-set-in-acc"


def test_an_admin_change_over_http_of_an_unknown_member_is_404(
    served_acc_immediate: RunningEmulator,
) -> None:
    response = requests.patch(
        f"{served_acc_immediate.url}/_emulator/admin/accounts/nobody@example.com",
        json={"companyId": "c"},
        timeout=5,
    )

    assert response.status_code == 404


def test_an_admin_create_over_http_without_products_is_400(
    served_acc_immediate: RunningEmulator,
) -> None:
    response = requests.post(
        f"{served_acc_immediate.url}/_emulator/admin/accounts",
        json={"email": "carol@example.com"},
        timeout=5,
    )

    assert response.status_code == 400
    assert served_acc_immediate.users() == []


def test_the_running_emulator_plays_the_admin(served_acc_immediate: RunningEmulator) -> None:
    served_acc_immediate.admin_create(email="carol@example.com", products=DOCS)

    served_acc_immediate.admin_change("carol@example.com", roleIds=["role-set-in-acc"])

    assert served_acc_immediate.users()[0]["roleIds"] == ["role-set-in-acc"]


def test_the_listing_pages_admin_added_members_up_to_200_with_the_total(acc: Emulated) -> None:
    for n in range(201):
        acc.emulator.admin_create({"email": f"m{n}@example.com", "products": DOCS})

    first = acc.call("GET", USERS, query_string={"limit": 200}).get_json()
    last = acc.call("GET", USERS, query_string={"limit": 200, "offset": 200}).get_json()

    assert len(first["results"]) == 200 and len(last["results"]) == 1
    assert first["pagination"]["totalResults"] == last["pagination"]["totalResults"] == 201
    assert "nextUrl" in first["pagination"] and "nextUrl" not in last["pagination"]
