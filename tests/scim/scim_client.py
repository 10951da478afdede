"""How the SCIM tests talk to the bridge: an identity provider's client for one target.

Constants of the test configuration and the SCIM message URNs live here too,
so that the test modules can import them by name (conftest.py cannot be).
"""

from __future__ import annotations

import base64
import json
from typing import Any

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

ENTRA_TOKEN = "entra-secret-token-5f0c1e9a7b"
OKTA_TOKEN = "okta-api-token-2d8b4c6e0f"
OKTA_USER, OKTA_PASSWORD = "okta-provisioning", "okta-basic-password-9a1b"

MAX_PAYLOAD_BYTES = 8192
MAX_BULK_OPERATIONS = 5
MAX_FILTER_TERMS = 20

SCIM_JSON = "application/scim+json"
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE_SCHEMA = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"
LIST_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
BULK_REQUEST_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def basic(username: str, password: str) -> dict[str, str]:
    pair = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {pair}"}


def patch_op(*operations: dict[str, Any]) -> dict[str, Any]:
    """An RFC 7644 §3.5.2 PatchOp message holding ``operations``."""
    return {"schemas": [PATCH_SCHEMA], "Operations": list(operations)}


class ScimClient:
    """One identity provider talking to one target: ``/scim/v2/<target>`` with its credentials."""

    def __init__(self, client: FlaskClient, target: str, headers: dict[str, str]):
        self.client = client
        self.base = f"/scim/v2/{target}"
        self.headers = headers

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        raw: bytes | str | None = None,
        content_type: str = SCIM_JSON,
        headers: dict[str, str] | None = None,
    ) -> TestResponse:
        """Send ``body`` as JSON (or ``raw`` bytes as they are) with this client's credentials."""
        data = raw if raw is not None else None if body is None else json.dumps(body)
        return self.client.open(
            f"{self.base}{path}",
            method=method,
            data=data,
            content_type=content_type if data is not None else None,
            headers={**self.headers, **(headers or {})},
        )

    def get(self, path: str, **options: Any) -> TestResponse:
        return self.request("GET", path, **options)

    def post(self, path: str, body: Any = None, **options: Any) -> TestResponse:
        return self.request("POST", path, body, **options)

    def put(self, path: str, body: Any = None, **options: Any) -> TestResponse:
        return self.request("PUT", path, body, **options)

    def patch(self, path: str, body: Any = None, **options: Any) -> TestResponse:
        return self.request("PATCH", path, body, **options)

    def delete(self, path: str, **options: Any) -> TestResponse:
        return self.request("DELETE", path, **options)

    def created(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST ``body`` and return the created resource, failing the test on anything but 201."""
        response = self.post(path, body)
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    def create_user(self, user_name: str, **attributes: Any) -> dict[str, Any]:
        return self.created(
            "/Users", {"schemas": [USER_SCHEMA], "userName": user_name, **attributes}
        )

    def create_group(self, display_name: str, **attributes: Any) -> dict[str, Any]:
        return self.created(
            "/Groups", {"schemas": [GROUP_SCHEMA], "displayName": display_name, **attributes}
        )

    def fetch(self, path: str) -> dict[str, Any]:
        """GET a resource, failing the test on anything but 200."""
        response = self.get(path)
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    def user_names(self) -> list[str]:
        """Every userName stored in this target, to check that a refused request wrote nothing."""
        listing = self.fetch("/Users?count=1000")
        return sorted(user["userName"] for user in listing.get("Resources", []))
