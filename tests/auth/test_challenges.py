"""401 answers advertise exactly the schemes the target accepts (RFC 7235 §4.1, RFC 6750 §3)."""

from __future__ import annotations

from pathlib import Path

from auth_helpers import STATIC_TOKEN, TARGET, basic, bearer, build_app
from flask.testing import FlaskClient

USERS = f"/scim/v2/{TARGET}/Users"
PASSWORD = "okta-basic-password-0123"


def app_with(tmp_path: Path, inbound: dict) -> FlaskClient:
    return build_app(tmp_path, inbound).test_client()


def test_a_bearer_only_target_does_not_advertise_basic(tmp_path: Path) -> None:
    http = app_with(tmp_path, {"bearer_tokens": [STATIC_TOKEN]})

    response = http.get(USERS)

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == f'Bearer realm="{TARGET}"'


def test_a_basic_only_target_does_not_advertise_bearer(tmp_path: Path) -> None:
    http = app_with(tmp_path, {"basic": {"username": "okta", "password": PASSWORD}})

    response = http.get(USERS, headers=bearer(STATIC_TOKEN))

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == f'Basic realm="{TARGET}", charset="UTF-8"'


def test_a_target_with_both_advertises_both(tmp_path: Path) -> None:
    inbound = {"bearer_tokens": [STATIC_TOKEN], "basic": {"username": "okta", "password": PASSWORD}}
    http = app_with(tmp_path, inbound)

    response = http.get(USERS, headers=basic("okta", "wrong-password-0123456"))

    assert response.headers["WWW-Authenticate"] == (
        f'Bearer realm="{TARGET}", Basic realm="{TARGET}", charset="UTF-8"'
    )


def test_a_request_without_credentials_gets_no_error_code(tmp_path: Path) -> None:
    """RFC 6750 §3.1: a request that sent no credentials is told only which scheme to use."""
    http = app_with(tmp_path, {"bearer_tokens": [STATIC_TOKEN]})

    assert "error=" not in http.get(USERS).headers["WWW-Authenticate"]


def test_a_wrong_static_token_gets_invalid_token_and_a_scim_error(tmp_path: Path) -> None:
    http = app_with(tmp_path, {"bearer_tokens": [STATIC_TOKEN]})

    response = http.get(USERS, headers=bearer("wrong-token-0123456789abc"))

    assert response.headers["WWW-Authenticate"] == f'Bearer realm="{TARGET}", error="invalid_token"'
    body = response.get_json()
    assert body["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
    assert body["status"] == "401"
    assert body["detail"] == "Missing or invalid credentials for this target"


def test_the_service_provider_config_needs_no_credentials(tmp_path: Path) -> None:
    http = app_with(tmp_path, {"bearer_tokens": [STATIC_TOKEN]})

    assert http.get(f"/scim/v2/{TARGET}/ServiceProviderConfig").status_code == 200
