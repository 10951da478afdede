"""Okta's SCIM client, replayed request by request.

The requests are the ones of Okta's "SCIM 2.0 Protocol Reference"
(developer.okta.com/docs/reference/scim/scim-20, "Okta and SCIM Version 2.0"),
the sequence the Okta SCIM 2.0 spec test (Runscope) also plays. Okta
authenticates with HTTP Basic or a bearer token; this module's ``okta``
client uses Basic. Ids in the documented paths are replaced by the ids this
bridge assigned.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from scim_client import (
    GROUP_SCHEMA,
    LIST_SCHEMA,
    OKTA_PASSWORD,
    OKTA_TOKEN,
    OKTA_USER,
    PATCH_SCHEMA,
    USER_SCHEMA,
    ScimClient,
    basic,
    bearer,
)

CREATE_USER = {
    "schemas": [USER_SCHEMA],
    "userName": "test.user@okta.local",
    "name": {"givenName": "Test", "familyName": "User"},
    "emails": [{"primary": True, "value": "test.user@okta.local", "type": "work"}],
    "displayName": "Test User",
    "locale": "en-US",
    "externalId": "00ujl29u0le5T6Aj10h7",
    "groups": [],
    "password": "1mz050nq",
    "active": True,
}
"""Reference, "Create Users" > "Create the User"."""


@pytest.fixture
def created(okta: ScimClient) -> dict[str, Any]:
    return okta.created("/Users", CREATE_USER)


@pytest.fixture
def group(okta: ScimClient) -> dict[str, Any]:
    """Reference, "Create Groups"."""
    return okta.created(
        "/Groups", {"schemas": [GROUP_SCHEMA], "displayName": "Test SCIMv2", "members": []}
    )


def deactivation(active: bool) -> dict[str, Any]:
    """Reference, "Update a specific User (PATCH)": ``active`` in a no-path replace."""
    return {
        "schemas": [PATCH_SCHEMA],
        "Operations": [{"op": "replace", "value": {"active": active}}],
    }


def member_ids(group: dict[str, Any]) -> list[str]:
    return sorted(member["value"] for member in group.get("members") or [])


class TestAuthentication:
    def test_basic_credentials_are_accepted(self, okta: ScimClient) -> None:
        assert okta.get("/Users").status_code == 200

    def test_the_bearer_token_is_accepted_too(self, http: FlaskClient) -> None:
        assert ScimClient(http, "okta", bearer(OKTA_TOKEN)).get("/Users").status_code == 200

    def test_a_wrong_basic_password_is_refused(self, http: FlaskClient) -> None:
        impostor = ScimClient(http, "okta", basic(OKTA_USER, OKTA_PASSWORD + "x"))

        assert impostor.get("/Users").status_code == 401


class TestCreateUsers:
    """Reference, "Create Users"."""

    def test_lookup_of_an_unknown_user_answers_an_empty_list(self, okta: ScimClient) -> None:
        """ "Determine if the User already exists": the empty ListResponse, counts as integers."""
        response = okta.get(
            '/Users?filter=userName eq "test.user@okta.local"&startIndex=1&count=100'
        )

        assert response.status_code == 200
        body = response.get_json()
        assert body["schemas"] == [LIST_SCHEMA]
        assert body["totalResults"] == 0
        assert body["startIndex"] == 1
        assert body.get("Resources", []) == []

    def test_create_user_answers_201_with_the_user(self, okta: ScimClient) -> None:
        """ "Create the User": Okta's body carries a password and an empty ``groups``."""
        response = okta.post("/Users", CREATE_USER)

        assert response.status_code == 201
        body = response.get_json()
        assert body["id"]
        assert body["userName"] == "test.user@okta.local"
        assert body["externalId"] == "00ujl29u0le5T6Aj10h7"
        assert body["active"] is True

    def test_the_password_is_never_returned(self, okta: ScimClient) -> None:
        """RFC 7643 §4.1.1: ``password`` is ``returned: never``."""
        created = okta.post("/Users", CREATE_USER).get_json()

        assert "password" not in created
        assert "password" not in okta.fetch(f"/Users/{created['id']}")

    def test_lookup_after_creation_finds_the_user(
        self, okta: ScimClient, created: dict[str, Any]
    ) -> None:
        response = okta.get(
            '/Users?filter=userName eq "test.user@okta.local"&startIndex=1&count=100'
        )

        assert [user["id"] for user in response.get_json()["Resources"]] == [created["id"]]

    def test_creating_an_existing_user_answers_409(
        self, okta: ScimClient, created: dict[str, Any]
    ) -> None:
        """ "Create the User": an existing user must stop the job with a 409 error."""
        response = okta.post("/Users", CREATE_USER)

        assert response.status_code == 409
        assert response.get_json()["scimType"] == "uniqueness"


class TestRetrieveUsers:
    def test_retrieve_users_pages_by_100(self, okta: ScimClient, created: dict[str, Any]) -> None:
        """ "Retrieve Users": ``startIndex=1&count=100``, counts exchanged as integers."""
        response = okta.get("/Users?startIndex=1&count=100")

        body = response.get_json()
        assert response.status_code == 200
        assert body["totalResults"] == 1
        assert isinstance(body["itemsPerPage"], int)
        assert [user["id"] for user in body["Resources"]] == [created["id"]]

    def test_retrieve_a_specific_user(self, okta: ScimClient, created: dict[str, Any]) -> None:
        """ "Retrieve a specific User"."""
        response = okta.get(f"/Users/{created['id']}")

        assert response.status_code == 200
        assert response.get_json()["name"] == {"givenName": "Test", "familyName": "User"}


class TestUpdateUsers:
    def test_put_replaces_the_profile(self, okta: ScimClient, created: dict[str, Any]) -> None:
        """ "Update a specific User (PUT)": the whole user, with ``id``, ``groups`` and ``meta``."""
        body = {
            "schemas": [USER_SCHEMA],
            "id": created["id"],
            "userName": "test.user@okta.local",
            "name": {"givenName": "Another", "middleName": "Excited", "familyName": "User"},
            "emails": [
                {
                    "primary": True,
                    "value": "test.user@okta.local",
                    "type": "work",
                    "display": "test.user@okta.local",
                }
            ],
            "active": True,
            "groups": [],
            "meta": {"resourceType": "User"},
        }

        response = okta.put(f"/Users/{created['id']}", body)

        assert response.status_code == 200
        stored = okta.fetch(f"/Users/{created['id']}")
        assert stored["name"] == {
            "givenName": "Another",
            "middleName": "Excited",
            "familyName": "User",
        }
        assert "displayName" not in stored

    def test_patch_deactivates_the_user(self, okta: ScimClient, created: dict[str, Any]) -> None:
        """ "Update a specific User (PATCH)": deactivation answers 200 with the updated user."""
        response = okta.patch(f"/Users/{created['id']}", deactivation(False))

        assert response.status_code == 200
        assert response.get_json()["active"] is False
        assert okta.fetch(f"/Users/{created['id']}")["active"] is False

    def test_patch_reactivates_the_user(self, okta: ScimClient, created: dict[str, Any]) -> None:
        """ "Update a specific User (PATCH)": activating a user is the same request with true."""
        okta.patch(f"/Users/{created['id']}", deactivation(False))

        response = okta.patch(f"/Users/{created['id']}", deactivation(True))

        assert response.status_code == 200
        assert okta.fetch(f"/Users/{created['id']}")["active"] is True


class TestGroups:
    """Reference, "SCIM Group operations"."""

    def test_create_group_answers_201_with_the_group(self, okta: ScimClient) -> None:
        body = {"schemas": [GROUP_SCHEMA], "displayName": "Test SCIMv2", "members": []}

        response = okta.post("/Groups", body)

        assert response.status_code == 201
        assert response.get_json()["displayName"] == "Test SCIMv2"

    def test_retrieve_groups_pages_by_100(self, okta: ScimClient, group: dict[str, Any]) -> None:
        response = okta.get("/Groups?startIndex=1&count=100")

        assert response.status_code == 200
        assert [found["id"] for found in response.get_json()["Resources"]] == [group["id"]]

    def test_retrieve_a_specific_group(self, okta: ScimClient, group: dict[str, Any]) -> None:
        response = okta.get(f"/Groups/{group['id']}")

        assert response.status_code == 200
        assert response.get_json()["displayName"] == "Test SCIMv2"

    def test_rename_with_a_no_path_replace_carrying_the_id(
        self, okta: ScimClient, group: dict[str, Any]
    ) -> None:
        """ "Update a specific Group name": the value object repeats the group's own ``id``."""
        body = {
            "schemas": [PATCH_SCHEMA],
            "Operations": [
                {"op": "replace", "value": {"id": group["id"], "displayName": "Test SCIMv20"}}
            ],
        }

        response = okta.patch(f"/Groups/{group['id']}", body)

        assert response.status_code == 200, response.get_json()
        assert okta.fetch(f"/Groups/{group['id']}")["displayName"] == "Test SCIMv20"

    def test_membership_remove_and_add_in_one_request(
        self, okta: ScimClient, group: dict[str, Any], created: dict[str, Any]
    ) -> None:
        """ "Update specific Group membership": a filtered remove, then an add with ``display``."""
        leaving = okta.create_user("leaving@okta.local")
        okta.patch(
            f"/Groups/{group['id']}",
            {
                "schemas": [PATCH_SCHEMA],
                "Operations": [
                    {"op": "add", "path": "members", "value": [{"value": leaving["id"]}]}
                ],
            },
        )
        body = {
            "schemas": [PATCH_SCHEMA],
            "Operations": [
                {"op": "remove", "path": f'members[value eq "{leaving["id"]}"]'},
                {
                    "op": "add",
                    "path": "members",
                    "value": [{"value": created["id"], "display": "test.user@okta.local"}],
                },
            ],
        }

        response = okta.patch(f"/Groups/{group['id']}", body)

        assert response.status_code == 200
        assert member_ids(okta.fetch(f"/Groups/{group['id']}")) == [created["id"]]

    def test_membership_full_push_replaces_all_members(
        self, okta: ScimClient, group: dict[str, Any], created: dict[str, Any]
    ) -> None:
        """ "Update specific Group membership": ``replace`` of ``members`` with the full list."""
        other = okta.create_user("other@okta.local")
        body = {
            "schemas": [PATCH_SCHEMA],
            "Operations": [
                {
                    "op": "replace",
                    "path": "members",
                    "value": [
                        {"value": created["id"], "display": "test.user@okta.local"},
                        {"value": other["id"], "display": "test.user@okta.local"},
                    ],
                }
            ],
        }

        response = okta.patch(f"/Groups/{group['id']}", body)

        assert response.status_code == 200
        assert member_ids(okta.fetch(f"/Groups/{group['id']}")) == sorted(
            [created["id"], other["id"]]
        )

    def test_delete_group_answers_204(self, okta: ScimClient, group: dict[str, Any]) -> None:
        """ "Delete a specific Group"."""
        response = okta.delete(f"/Groups/{group['id']}")

        assert response.status_code == 204
        assert okta.get(f"/Groups/{group['id']}").status_code == 404
