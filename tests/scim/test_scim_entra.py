"""Microsoft Entra ID's provisioning service, replayed request by request.

The request bodies are the ones Microsoft documents:

* "Tutorial: Develop and plan provisioning for a SCIM endpoint in Microsoft
  Entra ID" (learn.microsoft.com, entra/identity/app-provisioning/
  use-scim-to-provision-users-and-groups), sections "User Operations",
  "Group Operations" and "Handling provisioning and deprovisioning of users";
* "Known issues and resolutions with SCIM 2.0 protocol compliance of the
  Microsoft Entra user provisioning service" (learn.microsoft.com, entra/
  identity/app-provisioning/application-provisioning-config-problem-scim-compatibility),
  section "Flags to alter the SCIM behavior", which shows what Entra sends
  without the ``aadOptscim062020`` flag (the default) and with it.

Ids in the documented paths are replaced by the ids this bridge assigned.
"""

from __future__ import annotations

from typing import Any

import pytest
from scim_client import (
    ENTERPRISE_SCHEMA,
    ERROR_SCHEMA,
    GROUP_SCHEMA,
    LIST_SCHEMA,
    PATCH_SCHEMA,
    ScimClient,
    patch_op,
)

TUTORIAL = "Tutorial: Develop and plan provisioning for a SCIM endpoint in Microsoft Entra ID"
KNOWN_ISSUES = "Known issues and resolutions with SCIM 2.0 protocol compliance"

CREATE_USER = {
    "schemas": [
        "urn:ietf:params:scim:schemas:core:2.0:User",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
    ],
    "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
    "userName": "Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee",
    "active": True,
    "emails": [
        {
            "primary": True,
            "type": "work",
            "value": "Test_User_11bb11bb-cc22-dd33-ee44-55ff55ff55ff@testuser.com",
        }
    ],
    "meta": {"resourceType": "User"},
    "name": {
        "formatted": "givenName familyName",
        "familyName": "familyName",
        "givenName": "givenName",
    },
    "roles": [],
}
"""Tutorial, "User Operations" > "Create User" > "Request"."""

CREATE_GROUP = {
    "schemas": [
        "urn:ietf:params:scim:schemas:core:2.0:Group",
        "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group",
    ],
    "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
    "displayName": "displayName",
    "meta": {"resourceType": "Group"},
}
"""Tutorial, "Group Operations" > "Create Group" > "Request"."""


@pytest.fixture
def created(entra: ScimClient) -> dict[str, Any]:
    """The user of the tutorial's "Create User" request."""
    return entra.created("/Users", CREATE_USER)


@pytest.fixture
def group(entra: ScimClient) -> dict[str, Any]:
    """The tutorial's group, created with the core schema alone."""
    return entra.created("/Groups", {**CREATE_GROUP, "schemas": [GROUP_SCHEMA]})


def work_email(user: dict[str, Any]) -> str:
    return next(email["value"] for email in user["emails"] if email.get("type") == "work")


class TestUserOperations:
    """Tutorial, section "User Operations"."""

    def test_create_user_answers_201_with_the_stored_user(self, entra: ScimClient) -> None:
        """Tutorial, "Create User": 201 Created with the user and its new id."""
        response = entra.post("/Users", CREATE_USER)

        assert response.status_code == 201
        body = response.get_json()
        assert body["id"]
        assert body["userName"] == CREATE_USER["userName"]
        assert body["externalId"] == CREATE_USER["externalId"]
        assert body["active"] is True
        assert work_email(body) == CREATE_USER["emails"][0]["value"]
        assert response.headers["Location"].endswith(f"/Users/{body['id']}")

    def test_get_user_answers_the_user(self, entra: ScimClient, created: dict[str, Any]) -> None:
        """Tutorial, "Get User" > "Response (User found)"."""
        response = entra.get(f"/Users/{created['id']}")

        assert response.status_code == 200
        assert response.get_json()["userName"] == CREATE_USER["userName"]

    def test_get_unknown_user_answers_404_with_an_error_message(self, entra: ScimClient) -> None:
        """Tutorial, "Get User" > "Response (User not found...)": 404 with the Error schema."""
        response = entra.get("/Users/5171a35d82074e068ce2")

        assert response.status_code == 404
        assert response.get_json()["schemas"] == [ERROR_SCHEMA]
        assert response.get_json()["status"] == "404"

    def test_get_user_by_query_finds_the_user_by_user_name(
        self, entra: ScimClient, created: dict[str, Any]
    ) -> None:
        """Tutorial, "Get User by query"."""
        response = entra.get(
            '/Users?filter=userName eq "Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee"'
        )

        assert response.status_code == 200
        body = response.get_json()
        assert body["schemas"] == [LIST_SCHEMA]
        assert body["totalResults"] == 1
        assert [user["id"] for user in body["Resources"]] == [created["id"]]

    def test_get_user_by_query_with_zero_results_answers_an_empty_list(
        self, entra: ScimClient, created: dict[str, Any]
    ) -> None:
        """Tutorial, "Get User by query - Zero results"; also what "Test Connection" sends."""
        response = entra.get('/Users?filter=userName eq "non-existent user"')

        assert response.status_code == 200
        body = response.get_json()
        assert body["totalResults"] == 0
        assert body.get("Resources", []) == []

    def test_update_user_multi_valued_properties(
        self, entra: ScimClient, created: dict[str, Any]
    ) -> None:
        """Tutorial, "Update User [Multi-valued properties]": a value-filter path and a sub-attribute."""
        body = {
            "schemas": [PATCH_SCHEMA],
            "Operations": [
                {
                    "op": "Replace",
                    "path": 'emails[type eq "work"].value',
                    "value": "updatedEmail@microsoft.com",
                },
                {"op": "Replace", "path": "name.familyName", "value": "updatedFamilyName"},
            ],
        }

        response = entra.patch(f"/Users/{created['id']}", body)

        assert response.status_code == 200
        stored = entra.fetch(f"/Users/{created['id']}")
        assert work_email(stored) == "updatedEmail@microsoft.com"
        assert stored["name"]["familyName"] == "updatedFamilyName"

    def test_update_user_single_valued_properties(
        self, entra: ScimClient, created: dict[str, Any]
    ) -> None:
        """Tutorial, "Update User [Single-valued properties]": Entra renames the userName."""
        body = {
            "schemas": [PATCH_SCHEMA],
            "Operations": [
                {
                    "op": "Replace",
                    "path": "userName",
                    "value": "5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com",
                }
            ],
        }

        response = entra.patch(f"/Users/{created['id']}", body)

        assert response.status_code == 200
        assert (
            entra.fetch(f"/Users/{created['id']}")["userName"]
            == "5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com"
        )

    def test_disable_user_sets_active_to_false(
        self, entra: ScimClient, created: dict[str, Any]
    ) -> None:
        """Tutorial, "Disable User" (the PatchOp with ``Operations`` before ``schemas``)."""
        body = {
            "Operations": [{"op": "Replace", "path": "active", "value": False}],
            "schemas": [PATCH_SCHEMA],
        }

        response = entra.patch(f"/Users/{created['id']}", body)

        assert response.status_code == 200
        assert response.get_json()["active"] is False
        assert entra.fetch(f"/Users/{created['id']}")["active"] is False

    def test_delete_user_answers_204_and_the_user_is_gone(
        self, entra: ScimClient, created: dict[str, Any]
    ) -> None:
        """Tutorial, "Delete User": 204 No Content; the user is not found afterwards."""
        response = entra.delete(f"/Users/{created['id']}")

        assert response.status_code == 204
        assert entra.get(f"/Users/{created['id']}").status_code == 404


class TestProvisioningExamples:
    """Tutorial, section "Handling provisioning and deprovisioning of users"."""

    def test_provision_a_user_with_null_attributes(self, entra: ScimClient) -> None:
        """Example 2, "Provision a user": Entra sends unmapped attributes as JSON null."""
        body = {
            "schemas": [
                "urn:ietf:params:scim:schemas:core:2.0:User",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0User",
            ],
            "externalId": "jyoung",
            "userName": "jyoung@testuser.com",
            "active": True,
            "addresses": None,
            "displayName": "Joy Young",
            "emails": [{"type": "work", "value": "jyoung@Contoso.com", "primary": True}],
            "meta": {"resourceType": "User"},
            "name": {"familyName": "Young", "givenName": "Joy"},
            "phoneNumbers": None,
            "preferredLanguage": None,
            "title": None,
            "department": None,
            "manager": None,
        }

        response = entra.post("/Users", body)

        assert response.status_code == 201, response.get_json()
        assert response.get_json()["displayName"] == "Joy Young"

    def test_update_a_users_manager_with_a_reference_list(
        self, entra: ScimClient, created: dict[str, Any]
    ) -> None:
        """Example 5: ``"path": "manager"`` and the manager as a one-item list with ``$ref``."""
        manager = entra.create_user("manager@testuser.com")
        body = {
            "schemas": [PATCH_SCHEMA],
            "Operations": [
                {
                    "op": "Add",
                    "path": "manager",
                    "value": [
                        {
                            "$ref": f"http://.../scim/Users/{manager['id']}",
                            "value": manager["id"],
                        }
                    ],
                }
            ],
        }

        response = entra.patch(f"/Users/{created['id']}", body)

        assert response.status_code == 200, response.get_json()
        stored = entra.fetch(f"/Users/{created['id']}")
        assert stored[ENTERPRISE_SCHEMA]["manager"]["value"] == manager["id"]


class TestGroupOperations:
    """Tutorial, section "Group Operations"."""

    def test_create_group_with_the_active_directory_schema_uri(self, entra: ScimClient) -> None:
        """Tutorial, "Create Group": the body names an Active Directory schema URI besides the core one."""
        response = entra.post("/Groups", CREATE_GROUP)

        assert response.status_code == 201
        assert response.get_json()["displayName"] == "displayName"

    def test_get_group_excluding_members(
        self, entra: ScimClient, group: dict[str, Any], created: dict[str, Any]
    ) -> None:
        """Tutorial, "Get Group": ``excludedAttributes=members`` leaves the members out."""
        entra.patch(
            f"/Groups/{group['id']}",
            patch_op({"op": "add", "path": "members", "value": [{"value": created["id"]}]}),
        )

        response = entra.get(f"/Groups/{group['id']}?excludedAttributes=members")

        assert response.status_code == 200
        assert response.get_json()["displayName"] == "displayName"
        assert "members" not in response.get_json()

    def test_get_group_by_display_name(self, entra: ScimClient, group: dict[str, Any]) -> None:
        """Tutorial, "Get Group by displayName"."""
        response = entra.get(
            '/Groups?excludedAttributes=members&filter=displayName eq "displayName"'
        )

        assert response.status_code == 200
        assert [found["id"] for found in response.get_json()["Resources"]] == [group["id"]]

    def test_update_group_non_member_attributes(
        self, entra: ScimClient, group: dict[str, Any]
    ) -> None:
        """Tutorial, "Update Group [Non-member attributes]": a capitalised Replace of displayName."""
        body = {
            "schemas": [PATCH_SCHEMA],
            "Operations": [
                {
                    "op": "Replace",
                    "path": "displayName",
                    "value": "1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName",
                }
            ],
        }

        response = entra.patch(f"/Groups/{group['id']}", body)

        assert response.status_code == 200
        assert (
            entra.fetch(f"/Groups/{group['id']}")["displayName"]
            == "1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName"
        )

    def test_update_group_add_members(
        self, entra: ScimClient, group: dict[str, Any], created: dict[str, Any]
    ) -> None:
        """Tutorial, "Update Group [Add Members]": ``"$ref": null`` beside the member's id."""
        body = {
            "schemas": [PATCH_SCHEMA],
            "Operations": [
                {"op": "Add", "path": "members", "value": [{"$ref": None, "value": created["id"]}]}
            ],
        }

        response = entra.patch(f"/Groups/{group['id']}", body)

        assert response.status_code == 200
        members = entra.fetch(f"/Groups/{group['id']}")["members"]
        assert [member["value"] for member in members] == [created["id"]]

    def test_update_group_remove_members(
        self, entra: ScimClient, group: dict[str, Any], created: dict[str, Any]
    ) -> None:
        """Tutorial, "Update Group [Remove Members]": a Remove naming the members in ``value``."""
        entra.patch(
            f"/Groups/{group['id']}",
            patch_op({"op": "add", "path": "members", "value": [{"value": created["id"]}]}),
        )
        body = {
            "schemas": [PATCH_SCHEMA],
            "Operations": [
                {
                    "op": "Remove",
                    "path": "members",
                    "value": [{"$ref": None, "value": created["id"]}],
                }
            ],
        }

        response = entra.patch(f"/Groups/{group['id']}", body)

        assert response.status_code == 200
        assert entra.fetch(f"/Groups/{group['id']}").get("members", []) == []

    def test_delete_group_answers_204_and_the_group_is_gone(
        self, entra: ScimClient, group: dict[str, Any]
    ) -> None:
        """Tutorial, "Delete Group"."""
        response = entra.delete(f"/Groups/{group['id']}")

        assert response.status_code == 204
        assert entra.get(f"/Groups/{group['id']}").status_code == 404

    def test_deleting_a_group_keeps_its_members(
        self, entra: ScimClient, group: dict[str, Any], created: dict[str, Any]
    ) -> None:
        """Tutorial, "Delete Group": removing a group must not deprovision the users in it."""
        entra.patch(
            f"/Groups/{group['id']}",
            patch_op({"op": "add", "path": "members", "value": [{"value": created["id"]}]}),
        )

        entra.delete(f"/Groups/{group['id']}")

        assert entra.get(f"/Users/{created['id']}").status_code == 200


class TestKnownIssues:
    """Known issues document, "Flags to alter the SCIM behavior": both dialects Entra sends."""

    def test_disable_user_with_active_as_the_string_false(
        self, entra: ScimClient, created: dict[str, Any]
    ) -> None:
        """ "Requests made to disable users", without feature flag: ``"value": "False"``."""
        body = {
            "schemas": [PATCH_SCHEMA],
            "Operations": [{"op": "Replace", "path": "active", "value": "False"}],
        }

        response = entra.patch(f"/Users/{created['id']}", body)

        assert response.status_code == 200
        assert entra.fetch(f"/Users/{created['id']}")["active"] is False

    def test_disable_user_with_the_feature_flag(
        self, entra: ScimClient, created: dict[str, Any]
    ) -> None:
        """ "Requests made to disable users", with feature flag: lower-case op, boolean value."""
        body = {
            "schemas": [PATCH_SCHEMA],
            "Operations": [{"op": "replace", "path": "active", "value": False}],
        }

        response = entra.patch(f"/Users/{created['id']}", body)

        assert response.status_code == 200
        assert entra.fetch(f"/Users/{created['id']}")["active"] is False

    @pytest.mark.parametrize("op", ["Add", "add"], ids=["without-flag", "with-flag"])
    def test_add_a_single_value_string_attribute(
        self, entra: ScimClient, created: dict[str, Any], op: str
    ) -> None:
        """ "Requests to add a single-value string attribute", with and without feature flag."""
        body = {
            "schemas": [PATCH_SCHEMA],
            "Operations": [{"op": op, "path": "nickName", "value": "Babs"}],
        }

        response = entra.patch(f"/Users/{created['id']}", body)

        assert response.status_code == 200
        assert entra.fetch(f"/Users/{created['id']}")["nickName"] == "Babs"

    def test_replace_multiple_attributes_without_the_feature_flag(
        self, entra: ScimClient, created: dict[str, Any]
    ) -> None:
        """ "Requests to replace multiple attributes", without feature flag: one op per attribute."""
        body = {
            "schemas": [PATCH_SCHEMA],
            "Operations": [
                {"op": "Replace", "path": "displayName", "value": "Pvlo"},
                {
                    "op": "Replace",
                    "path": 'emails[type eq "work"].value',
                    "value": "TestBcwqnm@test.microsoft.com",
                },
                {"op": "Replace", "path": "name.givenName", "value": "Gtfd"},
                {"op": "Replace", "path": "name.familyName", "value": "Pkqf"},
                {"op": "Replace", "path": "externalId", "value": "Eqpj"},
                {
                    "op": "Replace",
                    "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber",
                    "value": "Eqpj",
                },
            ],
        }

        response = entra.patch(f"/Users/{created['id']}", body)

        assert response.status_code == 200
        stored = entra.fetch(f"/Users/{created['id']}")
        assert stored["displayName"] == "Pvlo"
        assert work_email(stored) == "TestBcwqnm@test.microsoft.com"
        assert stored["name"]["givenName"] == "Gtfd"
        assert stored["name"]["familyName"] == "Pkqf"
        assert stored["externalId"] == "Eqpj"
        assert stored[ENTERPRISE_SCHEMA]["employeeNumber"] == "Eqpj"

    def test_replace_multiple_attributes_with_the_feature_flag(
        self, entra: ScimClient, created: dict[str, Any]
    ) -> None:
        """ "Requests to replace multiple attributes", with feature flag: a no-path value object
        whose keys are dotted sub-attribute paths and a URN-qualified extension attribute."""
        body = {
            "schemas": [PATCH_SCHEMA],
            "Operations": [
                {
                    "op": "replace",
                    "path": 'emails[type eq "work"].value',
                    "value": "TestMhvaes@test.microsoft.com",
                },
                {
                    "op": "replace",
                    "value": {
                        "displayName": "Bjfe",
                        "name.givenName": "Kkom",
                        "name.familyName": "Unua",
                        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": "Aklq",
                    },
                },
            ],
        }

        response = entra.patch(f"/Users/{created['id']}", body)

        assert response.status_code == 200
        stored = entra.fetch(f"/Users/{created['id']}")
        assert work_email(stored) == "TestMhvaes@test.microsoft.com"
        assert stored["displayName"] == "Bjfe"
        assert stored["name"]["givenName"] == "Kkom"
        assert stored["name"]["familyName"] == "Unua"
        assert stored[ENTERPRISE_SCHEMA]["employeeNumber"] == "Aklq"

    def test_remove_a_group_member_without_the_feature_flag(
        self, entra: ScimClient, group: dict[str, Any], created: dict[str, Any]
    ) -> None:
        """ "Requests to remove a group member", without feature flag: the member in ``value``."""
        other = entra.create_user("u1091@testuser.com")
        entra.patch(
            f"/Groups/{group['id']}",
            patch_op(
                {
                    "op": "add",
                    "path": "members",
                    "value": [{"value": created["id"]}, {"value": other["id"]}],
                }
            ),
        )
        body = {
            "schemas": [PATCH_SCHEMA],
            "Operations": [{"op": "Remove", "path": "members", "value": [{"value": other["id"]}]}],
        }

        response = entra.patch(f"/Groups/{group['id']}", body)

        assert response.status_code == 200
        members = entra.fetch(f"/Groups/{group['id']}")["members"]
        assert [member["value"] for member in members] == [created["id"]]

    def test_remove_a_group_member_with_the_feature_flag(
        self, entra: ScimClient, group: dict[str, Any], created: dict[str, Any]
    ) -> None:
        """ "Requests to remove a group member", with feature flag: a value filter in the path."""
        entra.patch(
            f"/Groups/{group['id']}",
            patch_op({"op": "add", "path": "members", "value": [{"value": created["id"]}]}),
        )
        body = {
            "schemas": [PATCH_SCHEMA],
            "Operations": [{"op": "remove", "path": f'members[value eq "{created["id"]}"]'}],
        }

        response = entra.patch(f"/Groups/{group['id']}", body)

        assert response.status_code == 200
        assert entra.fetch(f"/Groups/{group['id']}").get("members", []) == []


class TestManager:
    """The enterprise ``manager`` as Entra sends it (RFC 7643 §4.3 defines a complex value).

    Besides the tutorial's Example 5 (above), Entra sends the manager as the bare
    id under the URN-qualified path, reported in Captain-P-Goldfish/SCIM-SDK
    issue #686 ("Patch add operation with MsAzure patch complex-attribute-value
    reference workaround fails for string value"), and ``"$ref": null`` beside
    the id as in the tutorial's "Update Group [Add Members]".
    """

    @pytest.fixture
    def manager(self, entra: ScimClient) -> dict[str, Any]:
        return entra.create_user("manager@testuser.com")

    def manager_of(self, entra: ScimClient, user: dict[str, Any]) -> Any:
        return entra.fetch(f"/Users/{user['id']}").get(ENTERPRISE_SCHEMA, {}).get("manager")

    def test_manager_as_a_bare_id_under_the_qualified_path(
        self, entra: ScimClient, created: dict[str, Any], manager: dict[str, Any]
    ) -> None:
        body = patch_op(
            {
                "op": "add",
                "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
                "value": manager["id"],
            }
        )

        response = entra.patch(f"/Users/{created['id']}", body)

        assert response.status_code == 200, response.get_json()
        assert self.manager_of(entra, created)["value"] == manager["id"]

    def test_manager_as_a_list_with_a_null_reference(
        self, entra: ScimClient, created: dict[str, Any], manager: dict[str, Any]
    ) -> None:
        body = patch_op(
            {"op": "Add", "path": "manager", "value": [{"$ref": None, "value": manager["id"]}]}
        )

        response = entra.patch(f"/Users/{created['id']}", body)

        assert response.status_code == 200, response.get_json()
        assert self.manager_of(entra, created)["value"] == manager["id"]

    def test_manager_removal_by_the_short_path(
        self, entra: ScimClient, created: dict[str, Any], manager: dict[str, Any]
    ) -> None:
        entra.patch(
            f"/Users/{created['id']}",
            patch_op({"op": "Add", "path": "manager", "value": manager["id"]}),
        )

        response = entra.patch(
            f"/Users/{created['id']}", patch_op({"op": "Remove", "path": "manager"})
        )

        assert response.status_code == 200, response.get_json()
        assert self.manager_of(entra, created) is None
