"""The ``inbound`` section at load time: weak secrets, unsafe algorithms and the Entra ID preset."""

from __future__ import annotations

import json
from typing import Any

import pytest

from scimbridge.config import ConfigError, JwtInbound, parse_config

TENANT = "72F988BF-86F1-41AF-91AB-2D7CD011DB47"
JWKS_URL = "https://issuer.example.com/keys"


def load(inbound: dict[str, Any]):
    target = {
        "name": "chat",
        "vendor": "rocketchat",
        "base_url": "https://chat.example.com",
        "credentials": {"user_id": "u1", "auth_token": "rc-token"},
    }
    document = {"targets": [{**target, "inbound": inbound}]}
    return parse_config(json.dumps(document), "bridge.yaml")


def jwt(**settings: Any) -> dict[str, Any]:
    return {"jwt": {"issuer": "https://issuer.example.com", "audience": "api://scim", **settings}}


def test_a_short_basic_password_stops_start_up_naming_the_key() -> None:
    expected = r"inbound\.basic\.password: Value error, a Basic password must be at least 16"
    with pytest.raises(ConfigError, match=expected):
        load({"basic": {"username": "okta", "password": "short-pass"}})


def test_a_short_read_only_token_stops_start_up() -> None:
    with pytest.raises(ConfigError, match=r"read_only_bearer_tokens.*at least 16"):
        load({"read_only_bearer_tokens": ["short"]})


def test_a_target_without_any_credentials_stops_start_up() -> None:
    with pytest.raises(ConfigError, match="configure at least one of"):
        load({})


def test_alg_none_stops_start_up() -> None:
    with pytest.raises(ConfigError, match=r"'none'.*never accepted"):
        load(jwt(jwks_url=JWKS_URL, algorithms=["RS256", "none"]))


def test_an_hmac_algorithm_with_a_jwks_stops_start_up() -> None:
    with pytest.raises(ConfigError, match="HS256: with a JWKS, only"):
        load(jwt(jwks_url=JWKS_URL, algorithms=["RS256", "HS256"]))


def test_an_asymmetric_algorithm_with_an_hmac_secret_stops_start_up() -> None:
    with pytest.raises(ConfigError, match="RS256: with hmac_secret, only"):
        load(jwt(hmac_secret="x" * 40, algorithms=["RS256"]))


def test_a_short_hmac_secret_stops_start_up() -> None:
    with pytest.raises(ConfigError, match="HMAC secret must be at least 32"):
        load(jwt(hmac_secret="x" * 20))


def test_two_key_sources_stop_start_up() -> None:
    with pytest.raises(ConfigError, match="exactly one of jwks_url, jwks_file or hmac_secret"):
        load(jwt(jwks_url=JWKS_URL, hmac_secret="x" * 40))


def test_a_plain_http_jwks_url_to_another_host_stops_start_up() -> None:
    with pytest.raises(ConfigError, match=r"jwt\.jwks_url"):
        load(jwt(jwks_url="http://issuer.example.com/keys"))


def test_the_algorithms_default_to_asymmetric_ones() -> None:
    config = load(jwt(jwks_url=JWKS_URL))

    algorithms = config.targets[0].inbound.jwt.accepted_algorithms
    assert "RS256" in algorithms and "ES256" in algorithms
    assert not [name for name in algorithms if name.startswith("HS") or name == "none"]


def test_an_hmac_secret_defaults_to_hs256() -> None:
    assert load(jwt(hmac_secret="x" * 40)).targets[0].inbound.jwt.accepted_algorithms == ["HS256"]


def test_the_entra_preset_sets_the_tenant_issuers_and_keys() -> None:
    preset = JwtInbound.model_validate({"entra_tenant": TENANT, "audience": "api://scim"})

    tenant = TENANT.lower()
    assert preset.issuers == [
        f"https://sts.windows.net/{tenant}/",
        f"https://login.microsoftonline.com/{tenant}/v2.0",
    ]
    assert preset.keys_url == f"https://login.microsoftonline.com/{tenant}/discovery/v2.0/keys"
    assert preset.accepted_algorithms[0] == "RS256"


def test_the_entra_preset_refuses_a_tenant_that_is_not_a_guid() -> None:
    with pytest.raises(ConfigError, match="entra_tenant"):
        load({"jwt": {"entra_tenant": "contoso.onmicrosoft.com", "audience": "api://scim"}})


def test_the_hmac_secret_is_one_of_the_configuration_secrets() -> None:
    config = load(jwt(hmac_secret="an-hmac-secret-of-at-least-32-characters"))

    assert "an-hmac-secret-of-at-least-32-characters" in config.secrets()
    assert "an-hmac-secret-of-at-least-32-characters" not in repr(config)


def test_read_only_tokens_and_the_basic_password_are_configuration_secrets() -> None:
    config = load(
        {
            "read_only_bearer_tokens": ["reader-token-0123456789"],
            "basic": {"username": "okta", "password": "okta-password-0123456"},
        }
    )

    assert {"reader-token-0123456789", "okta-password-0123456"} <= set(config.secrets())
