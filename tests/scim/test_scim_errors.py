"""Bad input: a SCIM error an admin can read, never a 500, and nothing written.

Each class is one kind of bad request. Every refusal must carry the status and,
where RFC 7644 §3.12 defines one, the ``scimType``; its ``detail`` must read as
a sentence, not as a pydantic report; and the store must be as it was before.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scim_client import (
    BULK_REQUEST_SCHEMA,
    ERROR_SCHEMA,
    GROUP_SCHEMA,
    MAX_FILTER_TERMS,
    MAX_PAYLOAD_BYTES,
    PATCH_SCHEMA,
    USER_SCHEMA,
    ScimClient,
    patch_op,
)

PYDANTIC_NOISE = ("For further information visit", "[type=", "validation error for", "Traceback")


def assert_scim_error(response: Any, status: int, scim_type: str | None = None) -> None:
    """The response is an RFC 7644 §3.12 error of ``status`` and ``scim_type``, readable by an admin."""
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert body["schemas"] == [ERROR_SCHEMA]
    assert body["status"] == str(status)
    if scim_type is not None:
        assert body["scimType"] == scim_type
    detail = body.get("detail")
    assert isinstance(detail, str) and detail.strip()
    assert not any(noise in detail for noise in PYDANTIC_NOISE), detail


def new_user(user_name: str, **attributes: Any) -> dict[str, Any]:
    return {"schemas": [USER_SCHEMA], "userName": user_name, **attributes}


@pytest.fixture
def before(entra: ScimClient, user: dict[str, Any]) -> dict[str, Any]:
    """The user as stored before the bad request, to compare with afterwards."""
    return entra.fetch(f"/Users/{user['id']}")


def unchanged(entra: ScimClient, before: dict[str, Any]) -> bool:
    return entra.fetch(f"/Users/{before['id']}") == before


class TestMalformedJson:
    @pytest.mark.parametrize("raw", ['{"schemas": [', "not json", "", "\udcff"])
    def test_a_create_with_malformed_json_is_invalid_syntax(
        self, entra: ScimClient, raw: str
    ) -> None:
        response = entra.post("/Users", raw=raw.encode("utf-8", "surrogateescape"))

        assert_scim_error(response, 400, "invalidSyntax")
        assert entra.user_names() == []

    def test_a_patch_with_malformed_json_leaves_the_user_unchanged(
        self, entra: ScimClient, before: dict[str, Any]
    ) -> None:
        response = entra.patch(f"/Users/{before['id']}", raw='{"Operations": [')

        assert_scim_error(response, 400, "invalidSyntax")
        assert unchanged(entra, before)

    @pytest.mark.parametrize("raw", ["[1, 2]", "null", '"a string"'])
    def test_json_that_is_not_an_object_is_invalid_syntax(
        self, entra: ScimClient, raw: str
    ) -> None:
        response = entra.post("/Users", raw=raw)

        assert_scim_error(response, 400, "invalidSyntax")
        assert entra.user_names() == []


class TestSchemas:
    def test_a_user_declaring_the_group_schema_is_refused(self, entra: ScimClient) -> None:
        response = entra.post("/Users", {"schemas": [GROUP_SCHEMA], "userName": "wrong"})

        assert_scim_error(response, 400, "invalidSyntax")
        assert entra.user_names() == []

    def test_schemas_that_is_not_a_list_is_refused(self, entra: ScimClient) -> None:
        response = entra.post("/Users", {"schemas": USER_SCHEMA, "userName": "wrong"})

        assert_scim_error(response, 400)
        assert entra.user_names() == []

    def test_a_patch_with_a_wrong_message_schema_leaves_the_user_unchanged(
        self, entra: ScimClient, before: dict[str, Any]
    ) -> None:
        body = {
            "schemas": [USER_SCHEMA],
            "Operations": [{"op": "replace", "path": "nickName", "value": "x"}],
        }

        response = entra.patch(f"/Users/{before['id']}", body)

        assert_scim_error(response, 400, "invalidSyntax")
        assert unchanged(entra, before)

    def test_a_user_without_schemas_is_refused(self, entra: ScimClient) -> None:
        response = entra.post("/Users", {"userName": "schemaless"})

        assert_scim_error(response, 400, "invalidSyntax")
        assert entra.user_names() == []

    def test_a_bulk_operation_without_schemas_is_refused_and_nothing_is_written(
        self, entra: ScimClient
    ) -> None:
        body = {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
            "Operations": [
                {
                    "method": "POST",
                    "path": "/Users",
                    "bulkId": "a",
                    "data": {"schemas": [USER_SCHEMA], "userName": "first"},
                },
                {"method": "POST", "path": "/Users", "bulkId": "b", "data": {"userName": "second"}},
            ],
        }

        response = entra.post("/Bulk", body)

        assert_scim_error(response, 400, "invalidSyntax")
        assert "Operations[1]" in response.get_json()["detail"]
        assert entra.user_names() == []

    def test_a_patch_without_schemas_is_refused(
        self, entra: ScimClient, before: dict[str, Any]
    ) -> None:
        body = {"Operations": [{"op": "replace", "path": "nickName", "value": "x"}]}

        response = entra.patch(f"/Users/{before['id']}", body)

        assert_scim_error(response, 400, "invalidSyntax")
        assert unchanged(entra, before)


class TestFilters:
    @pytest.mark.parametrize(
        "expression",
        ["userName eq", 'userName xx "a"', "((", 'userName eq "a" and', 'emails[type eq "work"'],
    )
    def test_a_malformed_filter_is_invalid_filter(
        self, entra: ScimClient, user: dict[str, Any], expression: str
    ) -> None:
        assert_scim_error(entra.get(f"/Users?filter={expression}"), 400, "invalidFilter")

    def test_a_malformed_filter_in_a_search_request_is_invalid_filter(
        self, entra: ScimClient
    ) -> None:
        request = {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
            "filter": "userName eq",
        }

        assert_scim_error(entra.post("/Users/.search", request), 400, "invalidFilter")

    def test_a_filter_of_a_thousand_terms_is_invalid_filter_naming_the_limit(
        self, entra: ScimClient
    ) -> None:
        """More terms than ``max_filter_terms``: refused before the database sees it."""
        expression = " or ".join(
            f'userName eq "user{number}@example.com"' for number in range(1000)
        )

        response = entra.get(f"/Users?{urlencode({'filter': expression})}")

        assert_scim_error(response, 400, "invalidFilter")
        detail = response.get_json()["detail"]
        assert "1000" in detail and str(MAX_FILTER_TERMS) in detail

    def test_a_search_request_over_the_term_limit_is_invalid_filter(
        self, entra: ScimClient
    ) -> None:
        """Terms inside a value selection (``emails[...]``) count too."""
        selection = " or ".join(f'value eq "user{n}@example.com"' for n in range(MAX_FILTER_TERMS))
        request = {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
            "filter": f"userName pr and emails[{selection}]",
        }

        response = entra.post("/Users/.search", request)

        assert_scim_error(response, 400, "invalidFilter")
        assert str(MAX_FILTER_TERMS + 1) in response.get_json()["detail"]


class TestLongValues:
    """userName and externalId are stored up to 512 characters, on either database; a longer
    one is refused as invalidValue (RFC 7644 §3.12), never answered with a 500."""

    @pytest.fixture
    def database(self, database_url: str) -> str:
        return database_url

    @pytest.mark.parametrize("attribute", ["userName", "externalId"])
    def test_a_300_character_value_is_stored_and_found_by_filter(
        self, entra: ScimClient, attribute: str
    ) -> None:
        value = "long-" + "x" * 295
        body = {"userName": "long@example.com", attribute: value}

        created = entra.created("/Users", {"schemas": [USER_SCHEMA], **body})

        expression = f'{attribute} eq "{value}"'
        listing = entra.fetch(f"/Users?{urlencode({'filter': expression})}")
        assert [found["id"] for found in listing["Resources"]] == [created["id"]]

    @pytest.mark.parametrize("attribute", ["userName", "externalId"])
    def test_a_513_character_value_is_invalid_value(
        self, entra: ScimClient, attribute: str
    ) -> None:
        body = {"userName": "long@example.com", attribute: "x" * 513}

        response = entra.post("/Users", {"schemas": [USER_SCHEMA], **body})

        assert_scim_error(response, 400, "invalidValue")
        assert attribute in response.get_json()["detail"]
        assert entra.user_names() == []


class TestPatchPaths:
    @pytest.mark.parametrize(
        "path", ['emails[type eq "work"', "noSuchAttribute", "name..givenName"]
    )
    def test_a_bad_path_is_invalid_path_and_changes_nothing(
        self, entra: ScimClient, before: dict[str, Any], path: str
    ) -> None:
        response = entra.patch(
            f"/Users/{before['id']}", patch_op({"op": "replace", "path": path, "value": "x"})
        )

        assert_scim_error(response, 400, "invalidPath")
        assert unchanged(entra, before)

    def test_a_bad_operation_after_a_good_one_undoes_both(
        self, entra: ScimClient, before: dict[str, Any]
    ) -> None:
        """RFC 7644 §3.5.2: a PATCH is atomic; one failed operation leaves the resource as it was."""
        response = entra.patch(
            f"/Users/{before['id']}",
            patch_op(
                {"op": "replace", "path": "nickName", "value": "Babs"},
                {"op": "replace", "path": "noSuchAttribute", "value": "x"},
            ),
        )

        assert_scim_error(response, 400, "invalidPath")
        assert unchanged(entra, before)

    def test_an_unknown_op_is_refused(self, entra: ScimClient, before: dict[str, Any]) -> None:
        response = entra.patch(
            f"/Users/{before['id']}",
            patch_op({"op": "frobnicate", "path": "nickName", "value": "x"}),
        )

        assert_scim_error(response, 400, "invalidValue")
        assert unchanged(entra, before)


class TestUnknownAttributes:
    def test_an_unknown_attribute_on_create_is_refused(self, entra: ScimClient) -> None:
        response = entra.post("/Users", new_user("colourful", favouriteColour="blue"))

        assert_scim_error(response, 400, "invalidSyntax")
        assert "favouriteColour" in response.get_json()["detail"]
        assert entra.user_names() == []

    def test_an_unknown_attribute_on_replace_leaves_the_user_unchanged(
        self, entra: ScimClient, before: dict[str, Any]
    ) -> None:
        response = entra.put(
            f"/Users/{before['id']}", new_user(before["userName"], favouriteColour="blue")
        )

        assert_scim_error(response, 400, "invalidSyntax")
        assert unchanged(entra, before)


class TestWrongTypes:
    @pytest.mark.parametrize(
        ("attribute", "value"),
        [("active", "maybe"), ("userName", 12), ("emails", "not-a-list"), ("name", "a string")],
    )
    def test_a_wrongly_typed_attribute_on_create_is_invalid_value(
        self, entra: ScimClient, attribute: str, value: Any
    ) -> None:
        body = {"schemas": [USER_SCHEMA], "userName": "typed", attribute: value}

        response = entra.post("/Users", body)

        assert_scim_error(response, 400, "invalidValue")
        assert attribute in response.get_json()["detail"]
        assert entra.user_names() == []

    def test_a_wrongly_typed_value_in_a_patch_is_invalid_value(
        self, entra: ScimClient, before: dict[str, Any]
    ) -> None:
        response = entra.patch(
            f"/Users/{before['id']}",
            patch_op({"op": "replace", "path": "active", "value": "maybe"}),
        )

        assert_scim_error(response, 400, "invalidValue")
        assert unchanged(entra, before)

    def test_a_wrongly_typed_value_in_a_patch_changes_nothing(
        self, entra: ScimClient, before: dict[str, Any]
    ) -> None:
        """The part of the test above that holds today: status, scimType, no write."""
        response = entra.patch(
            f"/Users/{before['id']}",
            patch_op({"op": "replace", "path": "active", "value": "maybe"}),
        )

        assert response.status_code == 400
        assert response.get_json()["scimType"] == "invalidValue"
        assert unchanged(entra, before)


class TestMutability:
    """RFC 7643 §2.2 and RFC 7644 §3.5.2: readOnly attributes cannot be written."""

    @pytest.mark.parametrize("path", ["id", "meta.created", "groups"])
    def test_patching_a_read_only_attribute_is_mutability(
        self, entra: ScimClient, before: dict[str, Any], path: str
    ) -> None:
        value: Any = [{"value": "g1"}] if path == "groups" else "2020-01-01T00:00:00Z"

        response = entra.patch(
            f"/Users/{before['id']}", patch_op({"op": "replace", "path": path, "value": value})
        )

        assert_scim_error(response, 400, "mutability")
        assert unchanged(entra, before)

    def test_a_different_id_in_a_put_body_does_not_move_the_user(
        self, entra: ScimClient, before: dict[str, Any]
    ) -> None:
        """RFC 7644 §3.5.1: readOnly values sent in a PUT "SHALL be ignored"."""
        body = {**new_user(before["userName"]), "id": "another-id"}

        response = entra.put(f"/Users/{before['id']}", body)

        assert response.status_code == 200
        assert response.get_json()["id"] == before["id"]
        assert entra.get("/Users/another-id").status_code == 404


class TestSizeAndMediaType:
    def test_a_body_over_the_configured_maximum_is_413(self, entra: ScimClient) -> None:
        response = entra.post("/Users", new_user("padded", displayName="x" * MAX_PAYLOAD_BYTES))

        assert_scim_error(response, 413)
        assert entra.user_names() == []

    @pytest.mark.parametrize(
        "content_type", ["text/plain", "application/xml", "multipart/form-data"]
    )
    def test_a_body_that_is_not_json_is_415(self, entra: ScimClient, content_type: str) -> None:
        raw = json.dumps(new_user("plain"))

        response = entra.post("/Users", raw=raw, content_type=content_type)

        assert_scim_error(response, 415)
        assert entra.user_names() == []


class TestPreconditions:
    @pytest.mark.parametrize("etag", ["garbage", 'W/"999"', '"999"'])
    def test_an_if_match_that_does_not_match_is_412(
        self, entra: ScimClient, before: dict[str, Any], etag: str
    ) -> None:
        response = entra.patch(
            f"/Users/{before['id']}",
            patch_op({"op": "replace", "path": "nickName", "value": "x"}),
            headers={"If-Match": etag},
        )

        assert_scim_error(response, 412)
        assert unchanged(entra, before)


class TestRouting:
    def test_an_unknown_target_is_404(self, entra: ScimClient) -> None:
        response = ScimClient(entra.client, "no-such-target", entra.headers).get("/Users")

        assert_scim_error(response, 404)

    def test_an_unknown_resource_type_is_404(self, entra: ScimClient) -> None:
        assert_scim_error(entra.get("/Widgets"), 404)

    @pytest.mark.parametrize(("method", "path"), [("PUT", "/Users"), ("DELETE", "/Users")])
    def test_an_unsupported_method_on_the_collection_is_405(
        self, entra: ScimClient, before: dict[str, Any], method: str, path: str
    ) -> None:
        response = entra.request(method, path, new_user("x") if method == "PUT" else None)

        assert_scim_error(response, 405)
        assert unchanged(entra, before)

    def test_post_on_a_resource_is_405(self, entra: ScimClient, before: dict[str, Any]) -> None:
        response = entra.post(f"/Users/{before['id']}", new_user("x"))

        assert_scim_error(response, 405)
        assert unchanged(entra, before)


class TestBulkInput:
    def test_operations_that_is_not_a_list_is_refused(self, entra: ScimClient) -> None:
        response = entra.post("/Bulk", {"schemas": [BULK_REQUEST_SCHEMA], "Operations": "x"})

        assert_scim_error(response, 400)
        assert entra.user_names() == []

    def test_a_bad_operation_fails_alone_with_its_own_error(self, entra: ScimClient) -> None:
        """RFC 7644 §3.7.3: each operation answers for itself."""
        body = {
            "schemas": [BULK_REQUEST_SCHEMA],
            "Operations": [
                {"method": "POST", "path": "/Users", "bulkId": "ok", "data": new_user("good")},
                {"method": "POST", "path": "/Users", "bulkId": "bad", "data": new_user(12)},
            ],
        }

        response = entra.post("/Bulk", body)

        assert response.status_code == 200
        results = {result["bulkId"]: result for result in response.get_json()["Operations"]}
        assert results["ok"]["status"] == "201"
        assert results["bad"]["status"] == "400"
        assert entra.user_names() == ["good"]


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(
            st.sampled_from(["op", "path", "value", "userName", "schemas"]), children, max_size=3
        )
    ),
    max_leaves=8,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(value=JSON_VALUES)
def test_no_patch_body_produces_a_server_error(
    entra: ScimClient, user: dict[str, Any], value: Any
) -> None:
    """Whatever JSON arrives as PATCH operations, the answer is a SCIM response, not a 500."""
    response = entra.patch(
        f"/Users/{user['id']}", {"schemas": [PATCH_SCHEMA], "Operations": [value]}
    )

    assert response.status_code < 500, response.get_data(as_text=True)


REPOSITORY = Path(__file__).resolve().parents[2]
"""Where the test configuration's mapping files are, by absolute paths."""


class TestVendorRefusals:
    """A user valid in SCIM that the target's vendor would refuse (RFC 7644 §3.12 invalidValue)."""

    def test_the_refusal_names_the_mapping_file_without_a_server_path(
        self, okta: ScimClient
    ) -> None:
        response = okta.post("/Users", new_user("has a space"))

        assert_scim_error(response, 400, "invalidValue")
        detail = response.get_json()["detail"]
        assert "aria.yaml" in detail
        assert str(REPOSITORY) not in detail
