"""The dialect rules of :mod:`scimbridge.scim.compat`, one by one and through a Bulk request.

Each rule must turn the documented identity-provider request into RFC 7644
and leave an already compliant request exactly as it was.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest
from scim_client import BULK_REQUEST_SCHEMA, GROUP_SCHEMA, USER_SCHEMA, ScimClient

from scimbridge.scim import compat

AD_GROUP_SCHEMA = "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"
"""The extra URI of Entra ID's "Create Group" request (tutorial, "Group Operations")."""
MISSPELT_ENTERPRISE_SCHEMA = "urn:ietf:params:scim:schemas:extension:enterprise:2.0User"
"""As printed in the tutorial's "Provision a user" example (Example 2)."""


def bulk(*operations: dict[str, Any]) -> dict[str, Any]:
    return {"schemas": [BULK_REQUEST_SCHEMA], "Operations": list(operations)}


class TestResourceRules:
    def test_null_attributes_are_dropped(self) -> None:
        document = {"schemas": [USER_SCHEMA], "userName": "jyoung", "manager": None, "title": None}

        assert compat.drop_null_attributes(document) == {
            "schemas": [USER_SCHEMA],
            "userName": "jyoung",
        }

    def test_an_extension_uri_without_attributes_is_dropped(self) -> None:
        document = {"schemas": [GROUP_SCHEMA, AD_GROUP_SCHEMA], "displayName": "Sales"}

        assert compat.drop_empty_extension_schemas(document)["schemas"] == [GROUP_SCHEMA]

    def test_a_misspelt_extension_uri_without_attributes_is_dropped(self) -> None:
        document = {"schemas": [USER_SCHEMA, MISSPELT_ENTERPRISE_SCHEMA], "userName": "jyoung"}

        assert compat.drop_empty_extension_schemas(document)["schemas"] == [USER_SCHEMA]

    def test_an_extension_uri_with_attributes_is_kept(self) -> None:
        enterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
        document = {
            "schemas": [USER_SCHEMA, enterprise],
            "userName": "jyoung",
            enterprise: {"department": "Sales"},
        }

        assert compat.normalise_resource(document) == document

    def test_a_body_naming_no_core_schema_is_left_for_the_library_to_refuse(self) -> None:
        document = {"schemas": [AD_GROUP_SCHEMA], "displayName": "Sales"}

        assert compat.normalise_resource(document) == document

    def test_a_body_that_is_not_an_object_is_left_for_the_library_to_refuse(self) -> None:
        assert compat.normalise_resource(["not", "a", "resource"]) == ["not", "a", "resource"]


class TestPatchRules:
    def test_the_short_manager_path_is_qualified_with_the_enterprise_urn(self) -> None:
        (operation,) = compat.qualify_manager_path("Users", {"op": "Add", "path": "manager"})

        assert operation["path"] == compat.MANAGER_PATH

    def test_a_manager_list_with_a_null_reference_becomes_one_complex_value(self) -> None:
        operation = {
            "op": "Add",
            "path": compat.MANAGER_PATH,
            "value": [{"$ref": None, "value": "m1"}],
        }

        (normalised,) = compat.unwrap_manager_value("Users", operation)

        assert normalised["value"] == {"value": "m1"}

    def test_a_member_removal_by_value_becomes_one_filtered_removal_per_member(self) -> None:
        operation = {"op": "Remove", "path": "members", "value": [{"value": "u1"}, {"value": "u2"}]}

        assert list(compat.split_member_removal("Groups", operation)) == [
            {"op": "remove", "path": 'members[value eq "u1"]'},
            {"op": "remove", "path": 'members[value eq "u2"]'},
        ]

    def test_a_compliant_patch_passes_unchanged(self) -> None:
        body = {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "path": "active", "value": False}],
        }

        assert compat.normalise_patch("Users", body) == body


class TestThroughBulk:
    """Bulk operations go through the same rules as the requests they stand for (RFC 7644 §3.7)."""

    def test_entra_create_group_with_the_active_directory_schema_uri(
        self, entra: ScimClient
    ) -> None:
        group = {
            "schemas": [GROUP_SCHEMA, AD_GROUP_SCHEMA],
            "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
            "displayName": "displayName",
            "meta": {"resourceType": "Group"},
        }

        response = entra.post(
            "/Bulk", bulk({"method": "POST", "path": "/Groups", "bulkId": "g", "data": group})
        )

        assert response.status_code == 200
        assert response.get_json()["Operations"][0]["status"] == "201"

    def test_entra_provision_a_user_with_null_attributes(self, entra: ScimClient) -> None:
        user = {
            "schemas": [USER_SCHEMA, MISSPELT_ENTERPRISE_SCHEMA],
            "externalId": "jyoung",
            "userName": "jyoung@testuser.com",
            "active": True,
            "addresses": None,
            "displayName": "Joy Young",
            "department": None,
            "manager": None,
        }

        response = entra.post(
            "/Bulk", bulk({"method": "POST", "path": "/Users", "bulkId": "u", "data": user})
        )

        assert response.get_json()["Operations"][0]["status"] == "201"
        assert entra.user_names() == ["jyoung@testuser.com"]

    def test_entra_member_removal_inside_bulk(
        self, entra: ScimClient, user: dict[str, Any]
    ) -> None:
        group = entra.create_group("Sales", members=[{"value": user["id"]}])
        removal = {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "Remove", "path": "members", "value": [{"value": user["id"]}]}],
        }

        entra.post(
            "/Bulk", bulk({"method": "PATCH", "path": f"/Groups/{group['id']}", "data": removal})
        )

        assert entra.fetch(f"/Groups/{group['id']}").get("members", []) == []


def found(client: ScimClient, expression: str, endpoint: str = "/Users") -> list[str]:
    """The ids a ``GET ?filter=`` finds, failing the test on anything but 200."""
    listing = client.fetch(f"{endpoint}?{urlencode({'filter': expression})}")
    return [resource["id"] for resource in listing["Resources"]]


class TestUnquotedFilterValues:
    """Microsoft's SCIM reference tests and Entra ID-compatible clients send string values
    without quotes; where only one reading exists, the value is read as a string
    (:func:`scimbridge.scim.compat.quote_bare_values`)."""

    def test_user_name_starts_with_an_unquoted_letter(
        self, entra: ScimClient, user: dict[str, Any]
    ) -> None:
        """The reference collection's ``FilterStartsWith``: ``userName sw O``."""
        other = entra.create_user("Olivia@example.com")

        assert found(entra, "userName sw O") == [other["id"]]

    def test_an_unquoted_date_time_compares_as_a_date_time(
        self, entra: ScimClient, user: dict[str, Any]
    ) -> None:
        assert found(entra, "meta.created gt 2015-10-10T14:38:21.8617979-07:00") == [user["id"]]
        assert found(entra, "meta.created lt 2015-10-10T14:38:21.8617979-07:00") == []

    def test_an_unquoted_value_inside_a_value_filter(
        self, entra: ScimClient, user: dict[str, Any]
    ) -> None:
        assert found(entra, "emails[type eq work and primary eq true]") == [user["id"]]

    def test_unquoted_values_combine_with_quoted_ones(
        self, entra: ScimClient, user: dict[str, Any]
    ) -> None:
        expression = 'userName eq bjensen@example.com and name.familyName eq "Jensen"'

        assert found(entra, expression) == [user["id"]]

    def test_a_group_display_name_unquoted(self, entra: ScimClient) -> None:
        group = entra.create_group("Sales")

        assert found(entra, "displayName eq Sales", "/Groups") == [group["id"]]

    @pytest.mark.parametrize(
        "expression",
        [
            "displayName eq Barbara Jensen",
            "userName eq and",
            'userName eq "unterminated',
        ],
    )
    def test_an_ambiguous_unquoted_value_stays_invalid_filter(
        self, entra: ScimClient, expression: str
    ) -> None:
        response = entra.get(f"/Users?{urlencode({'filter': expression})}")

        assert response.status_code == 400
        assert response.get_json()["scimType"] == "invalidFilter"

    def test_a_number_stays_a_number(self, entra: ScimClient, user: dict[str, Any]) -> None:
        """``externalId eq 123`` compares a string attribute with the number 123, which
        RFC 7644 §3.4.2.2 makes a different value from "123": refused, not reread."""
        response = entra.get(f"/Users?{urlencode({'filter': 'externalId eq 123'})}")

        assert response.status_code == 400
        assert "123" in response.get_json()["detail"]

    def test_a_search_request_body_too(self, entra: ScimClient, user: dict[str, Any]) -> None:
        request = {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
            "filter": "userName sw bjen",
        }

        listing = entra.post("/Users/.search", request).get_json()

        assert [resource["id"] for resource in listing["Resources"]] == [user["id"]]
