"""A plain read is answered from the stored representation, and says exactly what the library says.

``GET /Users/{id}`` without parameters is what Entra ID and Okta send before each
change; the bridge answers it without validating and dumping the models
(``BridgeHandler.query``). Each case compares that answer with the one
scim2-server's own handler gives for the same stored resource, on SQLite and
PostgreSQL.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest
from flask import Flask
from scim2_models import SCIMException
from scim2_server.handler import ScimHandler
from scim2_server.requests import ScimRequest
from scim_client import ENTERPRISE_SCHEMA, USER_SCHEMA, ScimClient

from scimbridge.delivery.state import DELIVERY_STATE
from scimbridge.scim.members import add_member_display


@pytest.fixture
def database(database_url: str) -> str:
    return database_url


def library_answer(
    app: Flask, target: str, path: str
) -> tuple[int, dict[str, Any], dict[str, str]]:
    """What scim2-server's handler answers to ``GET path``, through the models, with the
    ``display`` the bridge gives every Group member (:mod:`scimbridge.scim.members`)."""
    endpoint = app.extensions["scimbridge"].endpoints[target]
    request = ScimRequest(method="GET", base_url=f"http://localhost/scim/v2/{target}", path=path)
    try:
        with endpoint.database.transaction(writing=False):
            response = ScimHandler.query(endpoint.handler, request)
            add_member_display(response.body, endpoint.handler.storage.display_names)
    except SCIMException as error:
        response = endpoint.service.error_response(error)
    return response.status.value, response.body or {}, response.headers


def assert_same_answer(app: Flask, client: ScimClient, path: str) -> None:
    response = client.get(path)
    status, body, headers = library_answer(app, "entra", path)

    assert response.status_code == status
    assert response.get_json() == body
    assert response.headers["ETag"] == headers["ETag"]
    assert response.headers["Content-Location"] == headers["Content-Location"]
    assert response.headers["Content-Type"] == headers["Content-Type"]


ENTRA_USER = {
    "schemas": [USER_SCHEMA, ENTERPRISE_SCHEMA],
    "externalId": "0a21f0f2-8d2a-4f8a-b005-d16d0d4e9d1b",
    "userName": "Test_User_ab6490ee@contoso.com",
    "active": True,
    "displayName": "Test User",
    "title": "Engineer",
    "preferredLanguage": "en-US",
    "name": {"formatted": "Test User", "familyName": "User", "givenName": "Test"},
    "emails": [{"primary": True, "type": "work", "value": "Test_User_ab6490ee@contoso.com"}],
    "phoneNumbers": [{"type": "mobile", "value": "+1 555 0100"}],
    "addresses": [{"type": "work", "streetAddress": "1 Main St", "locality": "Redmond"}],
    ENTERPRISE_SCHEMA: {
        "employeeNumber": "701984",
        "department": "Tour Operations",
        "manager": {"value": "26118915-6090-4610-87e4-49d8ca9f808d"},
    },
}


class TestAPlainReadSaysWhatTheLibrarySays:
    def test_a_minimal_user(self, app: Flask, entra: ScimClient) -> None:
        user = entra.create_user("bjensen@example.com")

        assert_same_answer(app, entra, f"/Users/{user['id']}")

    def test_an_entra_user_with_the_enterprise_extension(
        self, app: Flask, entra: ScimClient
    ) -> None:
        user = entra.created("/Users", ENTRA_USER)

        assert_same_answer(app, entra, f"/Users/{user['id']}")

    def test_a_user_after_a_patch(self, app: Flask, entra: ScimClient) -> None:
        user = entra.created("/Users", ENTRA_USER)
        entra.patch(
            f"/Users/{user['id']}",
            {
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [{"op": "Replace", "path": "active", "value": "False"}],
            },
        )

        assert_same_answer(app, entra, f"/Users/{user['id']}")

    def test_a_paused_user(self, app: Flask, entra: ScimClient) -> None:
        user = entra.create_user(
            "held", schemas=[USER_SCHEMA, DELIVERY_STATE], **{DELIVERY_STATE: {"paused": True}}
        )

        assert_same_answer(app, entra, f"/Users/{user['id']}")

    def test_a_user_whose_manager_has_a_reference(self, app: Flask, entra: ScimClient) -> None:
        """A ``$ref`` becomes a URL in a response: the read goes through the models."""
        manager = entra.create_user("boss@example.com")
        user = entra.created(
            "/Users",
            {
                **ENTRA_USER,
                ENTERPRISE_SCHEMA: {"manager": {"value": manager["id"], "$ref": manager["id"]}},
            },
        )

        assert_same_answer(app, entra, f"/Users/{user['id']}")

    def test_a_group_with_members(self, app: Flask, entra: ScimClient) -> None:
        member = entra.create_user("member@example.com")
        group = entra.create_group("Engineering", members=[{"value": member["id"]}])

        assert_same_answer(app, entra, f"/Groups/{group['id']}")

    def test_a_missing_user(self, app: Flask, entra: ScimClient) -> None:
        response = entra.get("/Users/no-such-user")
        status, body, _ = library_answer(app, "entra", "/Users/no-such-user")

        assert (response.status_code, response.get_json()) == (status, body)


def test_a_read_with_a_matching_if_none_match_answers_304(entra: ScimClient) -> None:
    user = entra.create_user("bjensen@example.com")

    response = entra.get(f"/Users/{user['id']}", headers={"If-None-Match": user["meta"]["version"]})

    assert response.status_code == 304


def library_listing(app: Flask, target: str, query: dict[str, str]) -> dict[str, Any]:
    """What scim2-server's handler answers to ``GET /Users?…``, through the models."""
    endpoint = app.extensions["scimbridge"].endpoints[target]
    request = ScimRequest(
        method="GET", base_url=f"http://localhost/scim/v2/{target}", path="/Users", query=query
    )
    with endpoint.database.transaction(writing=False):
        return ScimHandler.search(endpoint.handler, request).body or {}


class TestAPlainSearchSaysWhatTheLibrarySays:
    @pytest.fixture
    def users(self, entra: ScimClient) -> list[dict[str, Any]]:
        plain = entra.create_user("bjensen@example.com")
        full = entra.created("/Users", ENTRA_USER)
        paused = entra.create_user(
            "held", schemas=[USER_SCHEMA, DELIVERY_STATE], **{DELIVERY_STATE: {"paused": True}}
        )
        return [plain, full, paused]

    @pytest.mark.parametrize(
        "query",
        [
            {},
            {"filter": 'userName eq "Test_User_ab6490ee@contoso.com"'},
            {"filter": 'externalId eq "0a21f0f2-8d2a-4f8a-b005-d16d0d4e9d1b"'},
            {"filter": 'userName eq "nobody"'},
            {"startIndex": "2", "count": "1"},
            {"count": "0"},
            {"sortBy": "userName", "sortOrder": "descending"},
        ],
        ids=["all", "userName", "externalId", "none", "page", "count-0", "sorted"],
    )
    def test_a_search(
        self, app: Flask, entra: ScimClient, users: list[dict[str, Any]], query: dict[str, str]
    ) -> None:
        response = entra.get(f"/Users?{urlencode(query)}")

        assert response.status_code == 200
        assert response.get_json() == library_listing(app, "entra", query)
