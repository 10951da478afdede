"""Inbound authentication per target: static bearer tokens (Entra ID, Okta) and HTTP Basic (Okta)."""

import base64

import pytest

from scimbridge.config import Inbound
from scimbridge.scim.auth import Authenticator, InsufficientScope, Unauthenticated

TOKEN = "entra-secret-token-0123456789"
READER = "read-only-token-0123456789"
PASSWORD = "pw:with:colons-0123456789"
INBOUND = Inbound.model_validate(
    {
        "bearer_tokens": ["other-token-abcdefghijkl", TOKEN],
        "read_only_bearer_tokens": [READER],
        "basic": {"username": "okta", "password": PASSWORD},
    }
)


@pytest.fixture
def auth() -> Authenticator:
    return Authenticator("chat", INBOUND)


def basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def test_any_configured_bearer_token_is_accepted(auth: Authenticator) -> None:
    assert auth.authenticate(f"Bearer {TOKEN}") == "bearer"


def test_the_bearer_scheme_is_case_insensitive(auth: Authenticator) -> None:
    assert auth.authenticate(f"bearer {TOKEN}") == "bearer"


def test_basic_credentials_are_accepted_with_colons_in_the_password(auth: Authenticator) -> None:
    assert auth.authenticate(basic("okta", PASSWORD)) == "okta"


def test_a_read_only_token_may_read(auth: Authenticator) -> None:
    assert auth.authenticate(f"Bearer {READER}", writing=False) == "bearer (read-only)"


def test_a_read_only_token_may_not_write(auth: Authenticator) -> None:
    with pytest.raises(InsufficientScope) as refused:
        auth.authenticate(f"Bearer {READER}", writing=True)

    assert refused.value.status == 403
    assert 'error="insufficient_scope"' in refused.value.headers["WWW-Authenticate"]


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
        basic("other", PASSWORD),
        "Basic not-base64!",
        f"Basic {TOKEN}",
    ],
)
def test_anything_else_is_refused(auth: Authenticator, authorization: str | None) -> None:
    with pytest.raises(Unauthenticated):
        auth.authenticate(authorization)


def test_the_refusal_does_not_echo_the_credentials(auth: Authenticator) -> None:
    with pytest.raises(Unauthenticated) as refused:
        auth.authenticate("Bearer guessed-token-value")

    assert "guessed-token-value" not in str(refused.value.to_error().model_dump())
    assert "guessed-token-value" not in str(refused.value.headers)


def test_a_static_token_refusal_says_no_more_than_invalid_token(auth: Authenticator) -> None:
    with pytest.raises(Unauthenticated) as refused:
        auth.authenticate("Bearer guessed-token-value")

    bearer_challenge = refused.value.headers["WWW-Authenticate"].split(", Basic")[0]
    assert bearer_challenge == 'Bearer realm="chat", error="invalid_token"'
    assert refused.value.detail == "Missing or invalid credentials for this target"


def test_basic_is_refused_when_the_target_configures_none() -> None:
    bearer_only = Authenticator("chat", Inbound.model_validate({"bearer_tokens": [TOKEN]}))

    with pytest.raises(Unauthenticated):
        bearer_only.authenticate(basic("okta", PASSWORD))
