"""What every identity provider may expect of the endpoint: RFC 7644 as the bridge announces it."""

from __future__ import annotations

import io
import json
import logging
import threading
from typing import Any
from urllib.parse import urlencode

import pytest
import requests
import waitress
from flask import Flask
from flask.testing import FlaskClient
from scim_client import (
    BULK_REQUEST_SCHEMA,
    ENTRA_TOKEN,
    ERROR_SCHEMA,
    GROUP_SCHEMA,
    MAX_BULK_OPERATIONS,
    MAX_FILTER_TERMS,
    MAX_PAYLOAD_BYTES,
    OKTA_PASSWORD,
    USER_SCHEMA,
    ScimClient,
    bearer,
    patch_op,
)
from sqlalchemy import text

from scimbridge.app import create_app
from scimbridge.cli import WAITRESS_OPTIONS
from scimbridge.config import BridgeConfig
from scimbridge.observability.logs import LogFormat, configure_logging

RFC_7644_BULK_WITH_BULK_IDS = {
    "schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
    "Operations": [
        {
            "method": "POST",
            "path": "/Users",
            "bulkId": "qwerty",
            "data": {
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                "userName": "Alice",
            },
        },
        {
            "method": "POST",
            "path": "/Groups",
            "bulkId": "ytrewq",
            "data": {
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                "displayName": "Tour Guides",
                "members": [{"type": "User", "value": "bulkId:qwerty"}],
            },
        },
    ],
}
"""RFC 7644 §3.7.2, the request whose Group references a User of the same request.

The RFC prints ``urn:ietf:params:scim:api:messages:2.0:User`` (and ``...:Group``)
as the data's schemas, message URNs that name no resource schema; the core
URNs are used here, as in the RFC's §3.7.3 example.
"""

RFC_7644_BULK_MULTIPLE_OPERATIONS = {
    "schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
    "failOnErrors": 1,
    "Operations": [
        {
            "method": "POST",
            "path": "/Users",
            "bulkId": "qwerty",
            "data": {
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                "userName": "Alice",
            },
        },
        {
            "method": "PUT",
            "path": "/Users/b7c14771-226c-4d05-8860-134711653041",
            "version": 'W/"3694e05e9dff591"',
            "data": {
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                "id": "b7c14771-226c-4d05-8860-134711653041",
                "userName": "Bob",
            },
        },
        {
            "method": "PATCH",
            "path": "/Users/5d8d29d3-342c-4b5f-8683-a3cb6763ffcc",
            "version": 'W/"edac3253e2c0ef2"',
            "data": {
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [
                    {"op": "remove", "path": "nickName"},
                    {"op": "add", "path": "userName", "value": "Dave"},
                ],
            },
        },
        {
            "method": "DELETE",
            "path": "/Users/e9025315-6bea-44e1-899c-1e07454e468b",
            "version": 'W/"0ee8add0a938e1a"',
        },
    ],
}
"""RFC 7644 §3.7.3, the example request with ``failOnErrors`` of 1: only Alice is new,
the other three operations name resources this bridge never had."""


def bulk(*operations: dict[str, Any], **options: Any) -> dict[str, Any]:
    return {"schemas": [BULK_REQUEST_SCHEMA], "Operations": list(operations), **options}


def create_operation(user_name: str) -> dict[str, Any]:
    return {
        "method": "POST",
        "path": "/Users",
        "bulkId": user_name,
        "data": {"schemas": [USER_SCHEMA], "userName": user_name},
    }


def compact_bulk_of_size(size: int) -> bytes:
    """A Bulk request creating one user, without whitespace, padded to ``size`` bytes."""
    operation = create_operation("padded")
    operation["data"]["nickName"] = ""
    unpadded = len(json.dumps(bulk(operation), separators=(",", ":")))
    operation["data"]["nickName"] = "x" * (size - unpadded)
    body = json.dumps(bulk(operation), separators=(",", ":")).encode()
    assert len(body) == size
    return body


def ids(listing: dict[str, Any]) -> list[str]:
    return [resource["id"] for resource in listing.get("Resources", [])]


class TestUniqueness:
    def test_a_duplicate_user_name_answers_409_uniqueness(
        self, entra: ScimClient, user: dict[str, Any]
    ) -> None:
        response = entra.post("/Users", {"schemas": [USER_SCHEMA], "userName": user["userName"]})

        assert response.status_code == 409
        assert response.get_json()["scimType"] == "uniqueness"

    def test_a_user_name_differing_only_in_case_is_a_duplicate(
        self, entra: ScimClient, user: dict[str, Any]
    ) -> None:
        """RFC 7643 §4.1.1: userName is ``caseExact: false``."""
        response = entra.post(
            "/Users", {"schemas": [USER_SCHEMA], "userName": "BJensen@Example.COM"}
        )

        assert response.status_code == 409
        assert entra.user_names() == ["bjensen@example.com"]


class TestErrors:
    def test_an_unknown_id_answers_404_with_a_scim_error(self, entra: ScimClient) -> None:
        response = entra.get("/Users/no-such-user")

        assert response.status_code == 404
        body = response.get_json()
        assert body["schemas"] == [ERROR_SCHEMA]
        assert body["status"] == "404"
        assert "no-such-user" in body["detail"]

    def test_a_missing_token_answers_401_with_a_challenge_and_a_scim_error(
        self, anonymous: ScimClient
    ) -> None:
        """RFC 7644 §2 and RFC 6750 §3: a 401 names the schemes it accepts."""
        response = anonymous.get("/Users")

        assert response.status_code == 401
        assert "Bearer" in response.headers["WWW-Authenticate"]
        assert response.get_json()["schemas"] == [ERROR_SCHEMA]

    def test_a_401_never_echoes_the_token_sent(self, http: FlaskClient) -> None:
        wrong = "wrong-token-6c1d2e3f4a5b"

        response = ScimClient(http, "entra", bearer(wrong)).get("/Users")

        assert response.status_code == 401
        assert wrong not in response.get_data(as_text=True)


class TestMediaTypes:
    @pytest.mark.parametrize("content_type", ["application/scim+json", "application/json"])
    def test_both_json_media_types_are_accepted(self, entra: ScimClient, content_type: str) -> None:
        """RFC 7644 §3.1 and §8.1: clients may send either."""
        body = json.dumps({"schemas": [USER_SCHEMA], "userName": "mediatype@example.com"})

        response = entra.post("/Users", raw=body, content_type=content_type)

        assert response.status_code == 201

    def test_responses_are_scim_json(self, entra: ScimClient, user: dict[str, Any]) -> None:
        response = entra.get(f"/Users/{user['id']}")

        assert response.mimetype == "application/scim+json"


class TestVersions:
    """RFC 7644 §3.14: ETags and If-Match."""

    def test_the_etag_header_is_the_resource_version(
        self, entra: ScimClient, user: dict[str, Any]
    ) -> None:
        response = entra.get(f"/Users/{user['id']}")

        assert response.headers["ETag"] == response.get_json()["meta"]["version"]

    def test_a_write_changes_the_version(self, entra: ScimClient, user: dict[str, Any]) -> None:
        patched = entra.patch(
            f"/Users/{user['id']}", patch_op({"op": "replace", "path": "nickName", "value": "Babs"})
        )

        assert patched.get_json()["meta"]["version"] != user["meta"]["version"]

    def test_a_matching_if_match_lets_the_write_through(
        self, entra: ScimClient, user: dict[str, Any]
    ) -> None:
        response = entra.patch(
            f"/Users/{user['id']}",
            patch_op({"op": "replace", "path": "nickName", "value": "Babs"}),
            headers={"If-Match": user["meta"]["version"]},
        )

        assert response.status_code == 200

    def test_a_stale_if_match_answers_412_and_writes_nothing(
        self, entra: ScimClient, user: dict[str, Any]
    ) -> None:
        stale = user["meta"]["version"]
        entra.patch(
            f"/Users/{user['id']}", patch_op({"op": "replace", "path": "nickName", "value": "Babs"})
        )

        response = entra.patch(
            f"/Users/{user['id']}",
            patch_op({"op": "replace", "path": "nickName", "value": "Stale"}),
            headers={"If-Match": stale},
        )

        assert response.status_code == 412
        assert entra.fetch(f"/Users/{user['id']}")["nickName"] == "Babs"

    def test_a_stale_if_match_on_delete_keeps_the_user(
        self, entra: ScimClient, user: dict[str, Any]
    ) -> None:
        entra.patch(
            f"/Users/{user['id']}", patch_op({"op": "replace", "path": "nickName", "value": "Babs"})
        )

        response = entra.delete(
            f"/Users/{user['id']}", headers={"If-Match": user["meta"]["version"]}
        )

        assert response.status_code == 412
        assert entra.get(f"/Users/{user['id']}").status_code == 200


class TestAttributeSelection:
    """RFC 7644 §3.9: ``attributes`` and ``excludedAttributes``."""

    def test_attributes_returns_only_those_and_the_always_returned_ones(
        self, entra: ScimClient, user: dict[str, Any]
    ) -> None:
        body = entra.fetch(f"/Users/{user['id']}?attributes=userName")

        assert body["userName"] == user["userName"]
        assert body["id"] == user["id"]
        assert "emails" not in body
        assert "name" not in body

    def test_excluded_attributes_leaves_those_out(
        self, entra: ScimClient, user: dict[str, Any]
    ) -> None:
        body = entra.fetch(f"/Users/{user['id']}?excludedAttributes=emails")

        assert "emails" not in body
        assert body["name"]["familyName"] == "Jensen"


class TestListing:
    @pytest.fixture
    def three_users(self, entra: ScimClient) -> list[str]:
        """Three users, in the order of their userName."""
        return [entra.create_user(name)["id"] for name in ("carol", "alice", "bob")]

    def test_start_index_and_count_select_a_page(
        self, entra: ScimClient, three_users: list[str]
    ) -> None:
        """RFC 7644 §3.4.2.4: startIndex is 1-based; totalResults counts every match."""
        everything = ids(entra.fetch("/Users?sortBy=userName"))

        page = entra.fetch("/Users?sortBy=userName&startIndex=2&count=1")

        assert page["totalResults"] == 3
        assert page["startIndex"] == 2
        assert page["itemsPerPage"] == 1
        assert ids(page) == everything[1:2]

    def test_sort_by_user_name_descending(self, entra: ScimClient, three_users: list[str]) -> None:
        """RFC 7644 §3.4.2.3."""
        listing = entra.fetch("/Users?sortBy=userName&sortOrder=descending")

        assert [user["userName"] for user in listing["Resources"]] == ["carol", "bob", "alice"]

    def test_search_by_post(self, entra: ScimClient, three_users: list[str]) -> None:
        """RFC 7644 §3.4.3: a SearchRequest POSTed to ``/.search``."""
        request = {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
            "filter": 'userName sw "b"',
            "attributes": ["userName"],
        }

        response = entra.post("/Users/.search", request)

        assert response.status_code == 200
        assert [user["userName"] for user in response.get_json()["Resources"]] == ["bob"]

    def test_a_filter_of_exactly_max_filter_terms_terms_is_answered(
        self, entra: ScimClient, three_users: list[str]
    ) -> None:
        names = ["alice", "bob", *(f"nobody{n}" for n in range(MAX_FILTER_TERMS - 2))]
        expression = " or ".join(f'userName eq "{name}"' for name in names)

        listing = entra.fetch(f"/Users?{urlencode({'filter': expression})}")

        assert sorted(user["userName"] for user in listing["Resources"]) == ["alice", "bob"]

    def test_search_at_the_root_spans_resource_types(
        self, entra: ScimClient, three_users: list[str]
    ) -> None:
        """RFC 7644 §3.4.3: ``/.search`` at the service root."""
        request = {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
            "filter": 'userName eq "alice"',
        }

        response = entra.post("/.search", request)

        assert response.status_code == 200
        assert [user["userName"] for user in response.get_json()["Resources"]] == ["alice"]


class TestSecrets:
    def test_tokens_and_passwords_never_reach_the_log(
        self, http: FlaskClient, okta: ScimClient, caplog: pytest.LogCaptureFixture
    ) -> None:
        """Preamble rule: secrets are never logged, whether the request succeeds or not."""
        password = "user-password-7d3e9f1a"
        wrong_token = "wrong-token-0b9c8d7e6f"
        caplog.set_level(logging.DEBUG, logger="scimbridge")

        okta.post("/Users", {"schemas": [USER_SCHEMA], "userName": "pw", "password": password})
        ScimClient(http, "entra", bearer(ENTRA_TOKEN)).get("/Users")
        ScimClient(http, "entra", bearer(wrong_token)).get("/Users")

        assert caplog.records, "the requests were logged, so the check below is not vacuous"
        for secret in (password, wrong_token, ENTRA_TOKEN, OKTA_PASSWORD):
            assert secret not in caplog.text


class TestUnexpectedErrors:
    @pytest.fixture
    def database(self, database_url: str) -> str:
        return database_url

    def test_no_user_value_reaches_the_log_on_a_database_error(
        self, app: Flask, entra: ScimClient, caplog: pytest.LogCaptureFixture
    ) -> None:
        """The 500 is logged with its method, path and exception, but the SQL's parameters
        (the user's values) are hidden by the engine (``hide_parameters``)."""
        with app.extensions["scimbridge"].database.engine.begin() as connection:
            connection.execute(text("DROP TABLE search_index"))
        caplog.set_level(logging.DEBUG, logger="scimbridge")
        user_name = "pii-4f7a2c@example.com"

        response = entra.post("/Users", {"schemas": [USER_SCHEMA], "userName": user_name})

        assert response.status_code == 500
        assert "unexpected error on POST /Users" in caplog.text
        assert user_name not in caplog.text

    @pytest.mark.parametrize("log_format", ["json", "text"])
    def test_a_unique_violation_s_detail_never_reaches_the_log(
        self, app: Flask, entra: ScimClient, log_format: LogFormat
    ) -> None:
        """PostgreSQL's ``DETAIL:  Key (display_name)=(…) already exists.`` names the value,
        which ``hide_parameters`` does not hide: the written log line leaves it out."""
        with app.extensions["scimbridge"].database.engine.begin() as connection:
            connection.execute(text("CREATE UNIQUE INDEX one_name ON resources (display_name)"))
        display_name = "pii-9c1e5b Jensen"
        entra.create_user("first@example.com", displayName=display_name)
        stream = io.StringIO()
        handler = configure_logging("INFO", log_format, stream=stream)
        try:
            response = entra.post(
                "/Users",
                {
                    "schemas": [USER_SCHEMA],
                    "userName": "second@example.com",
                    "displayName": display_name,
                },
            )
        finally:
            logging.getLogger().removeHandler(handler)

        assert response.status_code == 500
        assert "unexpected error on POST /Users" in stream.getvalue()
        assert "pii-9c1e5b" not in stream.getvalue()


class TestDiscovery:
    """RFC 7644 §4."""

    def test_service_provider_config_is_readable_without_credentials(
        self, anonymous: ScimClient
    ) -> None:
        response = anonymous.get("/ServiceProviderConfig")

        assert response.status_code == 200
        assert response.get_json()["patch"]["supported"] is True

    def test_service_provider_config_announces_the_configured_bulk_limits(
        self, entra: ScimClient
    ) -> None:
        bulk_config = entra.fetch("/ServiceProviderConfig")["bulk"]

        assert bulk_config["supported"] is True
        assert bulk_config["maxOperations"] == MAX_BULK_OPERATIONS
        assert bulk_config["maxPayloadSize"] == MAX_PAYLOAD_BYTES

    def test_each_target_announces_the_schemes_its_inbound_accepts(
        self, entra: ScimClient, okta: ScimClient
    ) -> None:
        """``entra`` takes bearer tokens only; ``okta`` bearer tokens and Basic."""
        entra_schemes = entra.fetch("/ServiceProviderConfig")["authenticationSchemes"]
        okta_schemes = okta.fetch("/ServiceProviderConfig")["authenticationSchemes"]

        assert [scheme["type"] for scheme in entra_schemes] == ["oauthbearertoken"]
        assert [scheme["type"] for scheme in okta_schemes] == ["oauthbearertoken", "httpbasic"]
        assert [scheme.get("primary") for scheme in okta_schemes] == [True, None]

    def test_resource_types_are_user_and_group(self, entra: ScimClient) -> None:
        listing = entra.fetch("/ResourceTypes")

        assert sorted(resource["name"] for resource in listing["Resources"]) == ["Group", "User"]

    def test_schemas_include_the_core_user_and_group(self, entra: ScimClient) -> None:
        listing = entra.fetch("/Schemas")

        assert {USER_SCHEMA, GROUP_SCHEMA} <= {schema["id"] for schema in listing["Resources"]}


class TestTargetIsolation:
    def test_a_user_of_one_target_is_invisible_from_another(
        self, entra: ScimClient, okta: ScimClient, user: dict[str, Any]
    ) -> None:
        assert okta.get(f"/Users/{user['id']}").status_code == 404
        assert okta.fetch("/Users")["totalResults"] == 0

    def test_the_same_user_name_may_exist_in_two_targets(
        self, okta: ScimClient, user: dict[str, Any]
    ) -> None:
        assert (
            okta.post(
                "/Users", {"schemas": [USER_SCHEMA], "userName": user["userName"]}
            ).status_code
            == 201
        )

    def test_a_token_of_one_target_is_refused_by_another(self, http: FlaskClient) -> None:
        response = ScimClient(http, "okta", bearer(ENTRA_TOKEN)).get("/Users")

        assert response.status_code == 401


class TestBulk:
    """RFC 7644 §3.7."""

    def test_rfc_example_group_members_reference_users_of_the_same_request(
        self, entra: ScimClient
    ) -> None:
        """§3.7.2: ``bulkId:qwerty`` in the Group's members becomes Alice's new id."""
        response = entra.post("/Bulk", RFC_7644_BULK_WITH_BULK_IDS)

        assert response.status_code == 200
        results = {result["bulkId"]: result for result in response.get_json()["Operations"]}
        assert results["qwerty"]["status"] == "201"
        assert results["ytrewq"]["status"] == "201"
        alice = entra.fetch('/Users?filter=userName eq "Alice"')["Resources"][0]
        guides = entra.fetch('/Groups?filter=displayName eq "Tour Guides"')["Resources"][0]
        assert [member["value"] for member in guides["members"]] == [alice["id"]]

    def test_rfc_example_with_fail_on_errors_stops_at_the_first_error(
        self, entra: ScimClient
    ) -> None:
        """§3.7.3: with failOnErrors 1, the first failed operation ends the request;
        the operations before it stay done."""
        response = entra.post("/Bulk", RFC_7644_BULK_MULTIPLE_OPERATIONS)

        assert response.status_code == 200
        statuses = [result["status"] for result in response.get_json()["Operations"]]
        assert statuses[0] == "201"
        assert len(statuses) == 2
        assert statuses[1].startswith("4")
        assert entra.user_names() == ["Alice"]

    def test_more_operations_than_max_operations_answers_413_and_writes_nothing(
        self, entra: ScimClient
    ) -> None:
        """§3.7.4: over ``maxOperations`` the whole request is refused with 413."""
        operations = [create_operation(f"user{index}") for index in range(MAX_BULK_OPERATIONS + 1)]

        response = entra.post("/Bulk", bulk(*operations))

        assert response.status_code == 413
        assert response.get_json()["schemas"] == [ERROR_SCHEMA]
        assert entra.user_names() == []

    def test_a_compact_body_of_exactly_max_payload_size_is_accepted(
        self, entra: ScimClient
    ) -> None:
        """§3.7.4 limits the request as sent, not as the bridge re-encodes it."""
        response = entra.post("/Bulk", raw=compact_bulk_of_size(MAX_PAYLOAD_BYTES))

        assert response.status_code == 200
        assert [result["status"] for result in response.get_json()["Operations"]] == ["201"]

    def test_a_compact_body_one_byte_over_max_payload_size_answers_413(
        self, entra: ScimClient
    ) -> None:
        response = entra.post("/Bulk", raw=compact_bulk_of_size(MAX_PAYLOAD_BYTES + 1))

        assert response.status_code == 413
        assert response.get_json()["schemas"] == [ERROR_SCHEMA]
        assert entra.user_names() == []

    def test_a_body_over_max_payload_size_answers_413_and_writes_nothing(
        self, entra: ScimClient
    ) -> None:
        """§3.7.4: over ``maxPayloadSize`` the whole request is refused with 413."""
        operation = create_operation("padded")
        operation["data"]["displayName"] = "x" * MAX_PAYLOAD_BYTES

        response = entra.post("/Bulk", bulk(operation))

        assert response.status_code == 413
        assert entra.user_names() == []

    def test_both_operations_of_a_circular_reference_say_circular(self, entra: ScimClient) -> None:
        """§3.7.1: two groups listing each other by ``bulkId:`` cannot both be created
        first; each is refused as circular, and neither is written."""
        groups = [
            {
                "method": "POST",
                "path": "/Groups",
                "bulkId": name,
                "data": {
                    "schemas": [GROUP_SCHEMA],
                    "displayName": name,
                    "members": [{"value": f"bulkId:{other}"}],
                },
            }
            for name, other in (("east", "west"), ("west", "east"))
        ]

        response = entra.post("/Bulk", bulk(*groups))

        results = response.get_json()["Operations"]
        assert [result["status"] for result in results] == ["409", "409"]
        for result in results:
            assert "circular" in result["response"]["detail"]
            assert "east, west" in result["response"]["detail"]
        assert entra.fetch("/Groups")["totalResults"] == 0

    def test_an_operation_referencing_a_cycle_from_outside_is_not_called_circular(
        self, entra: ScimClient
    ) -> None:
        cycle = [
            {
                "method": "POST",
                "path": "/Groups",
                "bulkId": "self",
                "data": {
                    "schemas": [GROUP_SCHEMA],
                    "displayName": "self",
                    "members": [{"value": "bulkId:self"}],
                },
            },
            {
                "method": "POST",
                "path": "/Groups",
                "bulkId": "outer",
                "data": {
                    "schemas": [GROUP_SCHEMA],
                    "displayName": "outer",
                    "members": [{"value": "bulkId:self"}],
                },
            },
        ]

        results = entra.post("/Bulk", bulk(*cycle)).get_json()["Operations"]

        details = [result["response"]["detail"] for result in results]
        assert "references itself" in details[0]
        assert "circular" not in details[1]


class TestPatchResponse:
    def test_patch_answers_200_with_the_whole_resource(
        self, entra: ScimClient, user: dict[str, Any]
    ) -> None:
        """Okta and Entra read the updated resource from the PATCH response."""
        response = entra.patch(
            f"/Users/{user['id']}", patch_op({"op": "replace", "path": "nickName", "value": "Babs"})
        )

        assert response.status_code == 200
        body = response.get_json()
        assert body["nickName"] == "Babs"
        assert body["userName"] == user["userName"]
        assert body["emails"] == user["emails"]


class TestGroupMembers:
    """RFC 7643 §4.2: each member of a Group response carries ``display``, the member's
    name as it is now, as Microsoft's SCIM reference tests expect."""

    def test_a_user_member_shows_its_display_name(self, entra: ScimClient) -> None:
        barbara = entra.create_user("bjensen@example.com", displayName="Barbara Jensen")
        group = entra.create_group("Sales", members=[{"value": barbara["id"]}])

        members = entra.fetch(f"/Groups/{group['id']}")["members"]

        assert [member["display"] for member in members] == ["Barbara Jensen"]

    def test_a_user_member_without_a_display_name_shows_its_user_name(
        self, entra: ScimClient, user: dict[str, Any]
    ) -> None:
        group = entra.create_group("Sales", members=[{"value": user["id"]}])

        assert group["members"][0]["display"] == "bjensen@example.com"

    def test_a_group_member_shows_its_display_name(self, entra: ScimClient) -> None:
        inner = entra.create_group("Inner")
        outer = entra.create_group("Outer", members=[{"value": inner["id"], "type": "Group"}])

        listing = entra.fetch('/Groups?filter=displayName eq "Outer"')

        assert listing["Resources"][0]["members"][0]["display"] == "Inner"
        assert listing["Resources"][0]["id"] == outer["id"]

    def test_the_display_follows_a_rename(self, entra: ScimClient, user: dict[str, Any]) -> None:
        group = entra.create_group("Sales", members=[{"value": user["id"]}])
        entra.patch(
            f"/Users/{user['id']}",
            patch_op({"op": "replace", "path": "displayName", "value": "Babs Jensen"}),
        )

        members = entra.fetch(f"/Groups/{group['id']}")["members"]

        assert members[0]["display"] == "Babs Jensen"


PROXY = "10.0.0.7"
"""A reverse proxy in the configured ``trusted_proxies``."""

FORWARDED = {
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Host": "scim.example.net",
    "X-Forwarded-Prefix": "/identity",
}


class TestLocations:
    """RFC 7644 §3.1 and RFC 7643 §3.1: ``Location`` and ``meta.location`` name the URL the
    identity provider called, never one an arbitrary ``Host`` header chose."""

    @pytest.fixture
    def settings(self) -> dict[str, Any]:
        return {"public_base_url": "https://idm.example.com/", "trusted_proxies": ["10.0.0.0/24"]}

    def test_forwarded_headers_from_a_trusted_proxy_set_the_locations(
        self, http: FlaskClient, entra: ScimClient
    ) -> None:
        http.environ_base["REMOTE_ADDR"] = PROXY
        user = {"schemas": [USER_SCHEMA], "userName": "forwarded@example.com"}

        created = entra.post("/Users", user, headers=FORWARDED)
        read = entra.get(f"/Users/{created.get_json()['id']}", headers=FORWARDED)

        location = f"https://scim.example.net/identity/scim/v2/entra/Users/{read.get_json()['id']}"
        assert created.status_code == 201
        assert created.headers["Location"] == location
        assert created.get_json()["meta"]["location"] == location
        assert read.get_json()["meta"]["location"] == location

    def test_the_right_most_forwarded_host_is_the_trusted_one(
        self, http: FlaskClient, entra: ScimClient
    ) -> None:
        """Values left of the one the trusted proxy appended came from anybody."""
        http.environ_base["REMOTE_ADDR"] = PROXY
        headers = {**FORWARDED, "X-Forwarded-Host": "evil.example, scim.example.net"}

        response = entra.post(
            "/Users", {"schemas": [USER_SCHEMA], "userName": "a"}, headers=headers
        )

        assert response.headers["Location"].startswith("https://scim.example.net/identity/")

    def test_forwarded_headers_from_another_peer_are_ignored(
        self, http: FlaskClient, entra: ScimClient
    ) -> None:
        http.environ_base["REMOTE_ADDR"] = "192.0.2.9"

        response = entra.post(
            "/Users", {"schemas": [USER_SCHEMA], "userName": "a"}, headers=FORWARDED
        )

        location = f"https://idm.example.com/scim/v2/entra/Users/{response.get_json()['id']}"
        assert response.headers["Location"] == location
        assert response.get_json()["meta"]["location"] == location

    def test_an_rfc_7239_forwarded_header_from_a_trusted_proxy_sets_the_locations(
        self, http: FlaskClient, entra: ScimClient
    ) -> None:
        http.environ_base["REMOTE_ADDR"] = PROXY
        headers = {"Forwarded": 'for=198.51.100.7;proto=https;host="scim.example.net:8443"'}

        response = entra.post(
            "/Users", {"schemas": [USER_SCHEMA], "userName": "a"}, headers=headers
        )

        location = f"https://scim.example.net:8443/scim/v2/entra/Users/{response.get_json()['id']}"
        assert response.headers["Location"] == location
        assert response.get_json()["meta"]["location"] == location

    def test_the_right_most_forwarded_element_is_the_trusted_one(
        self, http: FlaskClient, entra: ScimClient
    ) -> None:
        """Elements left of the one the trusted proxy appended came from anybody, over one
        header line or several."""
        http.environ_base["REMOTE_ADDR"] = PROXY
        forged = "for=192.0.2.1;proto=http;host=evil.example"
        appended = "for=198.51.100.7;proto=https;host=scim.example.net"

        one_line = entra.post(
            "/Users",
            {"schemas": [USER_SCHEMA], "userName": "a"},
            headers={"Forwarded": f"{forged}, {appended}"},
        )
        two_lines = entra.client.post(
            "/scim/v2/entra/Users",
            json={"schemas": [USER_SCHEMA], "userName": "b"},
            headers=[*entra.headers.items(), ("Forwarded", forged), ("Forwarded", appended)],
        )

        for response in (one_line, two_lines):
            assert response.headers["Location"].startswith("https://scim.example.net/scim/v2/")

    def test_a_forwarded_header_from_another_peer_is_ignored(
        self, http: FlaskClient, entra: ScimClient
    ) -> None:
        http.environ_base["REMOTE_ADDR"] = "192.0.2.9"

        response = entra.post(
            "/Users",
            {"schemas": [USER_SCHEMA], "userName": "a"},
            headers={"Forwarded": "proto=http;host=evil.example"},
        )

        assert response.headers["Location"].startswith("https://idm.example.com/scim/v2/entra/")

    def test_a_malformed_forwarded_header_is_ignored(
        self, http: FlaskClient, entra: ScimClient
    ) -> None:
        http.environ_base["REMOTE_ADDR"] = PROXY

        response = entra.post(
            "/Users",
            {"schemas": [USER_SCHEMA], "userName": "a"},
            headers={"Forwarded": "host=evil.example;garbage", **FORWARDED},
        )

        assert response.headers["Location"].startswith("https://scim.example.net/identity/")

    def test_the_host_header_does_not_change_the_locations(self, entra: ScimClient) -> None:
        response = entra.post(
            "/Users",
            {"schemas": [USER_SCHEMA], "userName": "a"},
            headers={"Host": "evil.example"},
        )

        assert response.headers["Location"].startswith("https://idm.example.com/scim/v2/entra/")


class TestServedBehindAProxy:
    """``scimbridge serve`` runs waitress, which drops ``Forwarded`` and ``X-Forwarded-*``
    unless told not to: the bridge must receive them to decide from whom they count."""

    @pytest.fixture
    def settings(self) -> dict[str, Any]:
        return {"public_base_url": "https://idm.example.com/", "trusted_proxies": ["127.0.0.1"]}

    @pytest.mark.parametrize(
        "headers",
        [
            {"Forwarded": "proto=https;host=scim.example.net"},
            {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "scim.example.net"},
        ],
    )
    def test_forwarded_headers_reach_the_bridge_through_the_server_serve_runs(
        self, app: Flask, headers: dict[str, str]
    ) -> None:
        server = waitress.create_server(app, host="127.0.0.1", port=0, **WAITRESS_OPTIONS)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        try:
            response = requests.post(
                f"http://127.0.0.1:{server.effective_port}/scim/v2/entra/Users",
                json={"schemas": [USER_SCHEMA], "userName": "served@example.com"},
                headers={**bearer(ENTRA_TOKEN), **headers},
                timeout=30,
            )
        finally:
            server.close()

        assert response.status_code == 201
        assert response.headers["Location"].startswith("https://scim.example.net/scim/v2/entra/")


def test_start_up_warns_when_the_host_header_decides_the_locations(
    config: BridgeConfig, caplog: pytest.LogCaptureFixture
) -> None:
    """Neither ``public_base_url`` nor ``trusted_proxies``: the admin is told at start-up."""
    create_app(config)

    assert "Host header" in caplog.text
