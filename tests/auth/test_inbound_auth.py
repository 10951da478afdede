"""Inbound authentication per target: bearer tokens (Entra ID, Okta) and HTTP Basic (Okta)."""

import base64

import pytest
from scim2_models import UnauthorizedException

from scimbridge.config import Inbound
from scimbridge.scim.auth import authenticate

TOKEN = "entra-secret-token-0123456789"
INBOUND = Inbound.model_validate(
    {
        "bearer_tokens": ["other-token-abcdefghijkl", TOKEN],
        "basic": {"username": "okta", "password": "pw:with:colons"},
    }
)


def basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def test_any_configured_bearer_token_is_accepted():
    assert authenticate(f"Bearer {TOKEN}", INBOUND) == "bearer"


def test_the_bearer_scheme_is_case_insensitive():
    assert authenticate(f"bearer {TOKEN}", INBOUND) == "bearer"


def test_basic_credentials_are_accepted_with_colons_in_the_password():
    assert authenticate(basic("okta", "pw:with:colons"), INBOUND) == "okta"


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        f"Bearer {TOKEN}x",
        f"Bearer {TOKEN[:-1]}",
        f"Token {TOKEN}",
        basic("okta", "wrong"),
        basic("other", "pw:with:colons"),
        "Basic not-base64!",
        f"Basic {TOKEN}",
    ],
)
def test_anything_else_is_refused(authorization):
    with pytest.raises(UnauthorizedException):
        authenticate(authorization, INBOUND)


def test_the_refusal_does_not_echo_the_credentials():
    with pytest.raises(UnauthorizedException) as refused:
        authenticate("Bearer guessed-token-value", INBOUND)
    assert "guessed-token-value" not in str(refused.value.to_error().model_dump())


def test_basic_is_refused_when_the_target_configures_none():
    bearer_only = Inbound.model_validate({"bearer_tokens": [TOKEN]})
    with pytest.raises(UnauthorizedException):
        authenticate(basic("okta", "pw:with:colons"), bearer_only)
