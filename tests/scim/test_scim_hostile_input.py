"""Hostile input is a 400 naming what is wrong, never a 500, on SQLite and PostgreSQL alike.

PostgreSQL cannot store U+0000 (SQLite can): a NUL anywhere in a string is refused
``invalidValue`` on both, so that a request means the same on either database. JSON
nested deeper than :data:`~scimbridge.scim.screening.MAX_DEPTH` is refused
``invalidSyntax`` before it is parsed (docs/security.md, "Hostile input").
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from scim_client import BULK_REQUEST_SCHEMA, GROUP_SCHEMA, USER_SCHEMA, ScimClient, patch_op
from test_scim_errors import assert_scim_error

from scimbridge.scim.screening import MAX_DEPTH


@pytest.fixture
def database(database_url: str) -> str:
    return database_url


def nested_arrays(depth: int) -> str:
    return "[" * depth + "]" * depth


class TestNulCharacters:
    @pytest.mark.parametrize(
        ("body", "place"),
        [
            ({"userName": "a\u0000b"}, "userName"),
            ({"userName": "nul@example.com", "displayName": "Bar\u0000bara"}, "displayName"),
            ({"userName": "nul@example.com", "name": {"givenName": "\u0000"}}, "name.givenName"),
            (
                {"userName": "nul@example.com", "emails": [{"value": "a\u0000@example.com"}]},
                "emails[0].value",
            ),
        ],
    )
    def test_a_user_holding_a_nul_is_invalid_value_naming_where(
        self, entra: ScimClient, body: dict[str, Any], place: str
    ) -> None:
        response = entra.post("/Users", {"schemas": [USER_SCHEMA], **body})

        assert_scim_error(response, 400, "invalidValue")
        assert response.get_json()["detail"].startswith(f"{place} contains a NUL character")
        assert entra.user_names() == []

    def test_a_group_display_name_holding_a_nul_is_invalid_value(self, entra: ScimClient) -> None:
        response = entra.post("/Groups", {"schemas": [GROUP_SCHEMA], "displayName": "Sales\u0000"})

        assert_scim_error(response, 400, "invalidValue")
        assert entra.fetch("/Groups")["totalResults"] == 0

    def test_a_patch_value_holding_a_nul_changes_nothing(
        self, entra: ScimClient, user: dict[str, Any]
    ) -> None:
        before = entra.fetch(f"/Users/{user['id']}")

        response = entra.patch(
            f"/Users/{user['id']}",
            patch_op({"op": "replace", "path": "displayName", "value": "Babs\u0000"}),
        )

        assert_scim_error(response, 400, "invalidValue")
        assert "Operations[0].value" in response.get_json()["detail"]
        assert entra.fetch(f"/Users/{user['id']}") == before

    def test_a_bulk_operation_holding_a_nul_is_refused_before_anything_is_written(
        self, entra: ScimClient
    ) -> None:
        operations = [
            {
                "method": "POST",
                "path": "/Users",
                "bulkId": f"user{number}",
                "data": {"schemas": [USER_SCHEMA], "userName": name},
            }
            for number, name in enumerate(("fine@example.com", "bad\u0000@example.com"))
        ]

        response = entra.post("/Bulk", {"schemas": [BULK_REQUEST_SCHEMA], "Operations": operations})

        assert_scim_error(response, 400, "invalidValue")
        assert "Operations[1].data.userName" in response.get_json()["detail"]
        assert entra.user_names() == []

    def test_a_key_holding_a_nul_is_invalid_value(self, entra: ScimClient) -> None:
        response = entra.post(
            "/Users", {"schemas": [USER_SCHEMA], "userName": "k@example.com", "x\u0000": "y"}
        )

        assert_scim_error(response, 400, "invalidValue")

    def test_an_escaped_backslash_before_u0000_is_no_nul(self, entra: ScimClient) -> None:
        """``\\\\u0000`` in JSON is a backslash followed by the text "u0000"."""
        created = entra.created("/Users", {"schemas": [USER_SCHEMA], "userName": "a\\u0000b"})

        assert created["userName"] == "a\\u0000b"

    def test_a_filter_holding_a_nul_is_invalid_filter(
        self, entra: ScimClient, user: dict[str, Any]
    ) -> None:
        expression = 'userName eq "bjensen\\u0000@example.com"'

        response = entra.get(f"/Users?filter={quote(expression)}")

        assert_scim_error(response, 400, "invalidFilter")
        assert "NUL" in response.get_json()["detail"]

    def test_a_resource_id_holding_a_nul_is_invalid_value(self, entra: ScimClient) -> None:
        response = entra.get("/Users/a%00b")

        assert_scim_error(response, 400, "invalidValue")


class TestDeepNesting:
    def test_a_body_nested_deeper_than_the_bound_is_invalid_syntax(self, entra: ScimClient) -> None:
        """4,000 nested arrays (8 kB) exhausted the parser's recursion: a 500."""
        response = entra.post("/Users", raw=nested_arrays(4000))

        assert_scim_error(response, 400, "invalidSyntax")
        assert str(MAX_DEPTH) in response.get_json()["detail"]

    def test_a_bulk_request_nested_too_deep_is_invalid_syntax(self, entra: ScimClient) -> None:
        body = (
            f'{{"schemas": ["{BULK_REQUEST_SCHEMA}"], "Operations": [{{"method": "POST", '
            f'"path": "/Users", "data": {nested_arrays(3000)}}}]}}'
        )

        response = entra.post("/Bulk", raw=body)

        assert_scim_error(response, 400, "invalidSyntax")
        assert entra.user_names() == []

    def test_a_search_body_nested_too_deep_is_invalid_syntax(self, entra: ScimClient) -> None:
        response = entra.post("/Users/.search", raw=nested_arrays(4000))

        assert_scim_error(response, 400, "invalidSyntax")

    def test_brackets_inside_strings_are_no_nesting(self, entra: ScimClient) -> None:
        user_name = "[" * (MAX_DEPTH + 1) + "{@example.com"

        created = entra.created("/Users", {"schemas": [USER_SCHEMA], "userName": user_name})

        assert created["userName"] == user_name
