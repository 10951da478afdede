"""JWT access tokens through the real application: signature, claims, scopes, key rotation.

Keys are generated here; the JWKS is served over HTTP on 127.0.0.1; every request goes
through the Flask app as an identity provider's would.
"""

from __future__ import annotations

import socket
import time
from pathlib import Path
from typing import Any

import pytest
from auth_helpers import (
    ISSUER,
    STATIC_TOKEN,
    TARGET,
    JwksServer,
    bearer,
    build_app,
    ec_key,
    hmac_signed,
    jwks_server,
    jwt_settings,
    new_user,
    rsa_key,
    sign,
    unsigned,
)
from flask.testing import FlaskClient
from joserfc.jwk import RSAKey

USERS = f"/scim/v2/{TARGET}/Users"
ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"


@pytest.fixture
def jwt_options() -> dict[str, Any]:
    """Settings of ``inbound.jwt`` a test changes by overriding this fixture."""
    return {}


@pytest.fixture
def http(tmp_path: Path, server: JwksServer, jwt_options: dict[str, Any]) -> FlaskClient:
    inbound = {"bearer_tokens": [STATIC_TOKEN], "jwt": jwt_settings(server.url, **jwt_options)}
    return build_app(tmp_path, inbound).test_client()


def challenge(response: Any) -> str:
    return response.headers.get("WWW-Authenticate", "")


def test_a_good_token_is_accepted(http: FlaskClient, key: RSAKey) -> None:
    response = http.get(USERS, headers=bearer(sign(key)))

    assert response.status_code == 200


def test_a_good_token_may_write(http: FlaskClient, key: RSAKey) -> None:
    response = http.post(USERS, json=new_user(), headers=bearer(sign(key)))

    assert response.status_code == 201


def test_an_ec_signed_token_is_accepted(tmp_path: Path) -> None:
    ec = ec_key("ec-1")
    with jwks_server(ec) as server:
        http = build_app(tmp_path, {"jwt": jwt_settings(server.url)}).test_client()

        response = http.get(USERS, headers=bearer(sign(ec, alg="ES256")))

    assert response.status_code == 200


def test_static_tokens_keep_working_beside_jwt(http: FlaskClient) -> None:
    assert http.get(USERS, headers=bearer(STATIC_TOKEN)).status_code == 200


def test_a_token_signed_by_another_key_of_the_same_kid_is_refused(http: FlaskClient) -> None:
    impostor = rsa_key("key-1")

    response = http.get(USERS, headers=bearer(sign(impostor)))

    assert response.status_code == 401
    assert 'error="invalid_token"' in challenge(response)
    assert "signature does not verify" in challenge(response)


def test_a_token_naming_an_unknown_key_is_refused(http: FlaskClient) -> None:
    response = http.get(USERS, headers=bearer(sign(rsa_key("unknown"))))

    assert response.status_code == 401
    assert "a key the issuer does not publish" in challenge(response)


def test_an_expired_token_is_refused(http: FlaskClient, key: RSAKey) -> None:
    past = int(time.time()) - 3600
    token = sign(key, iat=past - 600, nbf=past - 600, exp=past)

    response = http.get(USERS, headers=bearer(token))

    assert response.status_code == 401
    assert 'error_description="the token has expired (exp)"' in challenge(response)
    body = response.get_json()
    assert body["schemas"] == [ERROR_SCHEMA]
    assert body["status"] == "401"
    assert "expired" in body["detail"]


def test_a_token_expired_within_the_leeway_is_accepted(http: FlaskClient, key: RSAKey) -> None:
    now = int(time.time())

    response = http.get(
        USERS, headers=bearer(sign(key, iat=now - 600, nbf=now - 600, exp=now - 20))
    )

    assert response.status_code == 200


def test_a_token_not_yet_valid_is_refused(http: FlaskClient, key: RSAKey) -> None:
    response = http.get(USERS, headers=bearer(sign(key, nbf=int(time.time()) + 600)))

    assert response.status_code == 401
    assert "not valid yet (nbf)" in challenge(response)


def test_a_token_issued_in_the_future_is_refused(http: FlaskClient, key: RSAKey) -> None:
    response = http.get(USERS, headers=bearer(sign(key, iat=int(time.time()) + 600)))

    assert response.status_code == 401
    assert "issued in the future (iat)" in challenge(response)


def test_a_token_without_expiry_is_refused(http: FlaskClient, key: RSAKey) -> None:
    response = http.get(USERS, headers=bearer(sign(key, exp=None)))

    assert response.status_code == 401
    assert "no exp claim" in challenge(response)


def test_a_token_for_another_audience_is_refused(http: FlaskClient, key: RSAKey) -> None:
    response = http.get(USERS, headers=bearer(sign(key, aud="api://another-service")))

    assert response.status_code == 401
    assert "audience (aud) is not this target" in challenge(response)


@pytest.mark.parametrize("jwt_options", [{"audience": ["api://other", "api://scimbridge"]}])
def test_any_of_several_audiences_is_accepted(http: FlaskClient, key: RSAKey) -> None:
    response = http.get(USERS, headers=bearer(sign(key, aud=["api://x", "api://scimbridge"])))

    assert response.status_code == 200


def test_a_token_from_another_issuer_is_refused(http: FlaskClient, key: RSAKey) -> None:
    response = http.get(USERS, headers=bearer(sign(key, iss=ISSUER + "-evil")))

    assert response.status_code == 401
    assert "issuer (iss) is not one this target accepts" in challenge(response)


@pytest.mark.parametrize("jwt_options", [{"required_scopes": ["scim.admin"]}])
def test_a_token_without_a_required_scope_is_forbidden(http: FlaskClient, key: RSAKey) -> None:
    response = http.get(USERS, headers=bearer(sign(key)))

    assert response.status_code == 403
    assert 'error="insufficient_scope"' in challenge(response)
    assert 'scope="scim.admin"' in challenge(response)
    assert response.get_json()["status"] == "403"


@pytest.mark.parametrize("jwt_options", [{"required_scopes": ["scim.read", "scim.write"]}])
def test_scopes_are_read_from_a_list_or_a_scope_string(http: FlaskClient, key: RSAKey) -> None:
    okta_style = sign(key, scp=["scim.read", "scim.write"])
    rfc9068_style = sign(key, scp=None, scope="scim.write scim.read")

    assert http.get(USERS, headers=bearer(okta_style)).status_code == 200
    assert http.get(USERS, headers=bearer(rfc9068_style)).status_code == 200


@pytest.mark.parametrize("jwt_options", [{"required_roles": ["SCIM.Provision"]}])
def test_a_required_role_is_read_from_the_roles_claim(http: FlaskClient, key: RSAKey) -> None:
    assert http.get(USERS, headers=bearer(sign(key, roles=["SCIM.Provision"]))).status_code == 200
    assert http.get(USERS, headers=bearer(sign(key))).status_code == 403


@pytest.mark.parametrize("jwt_options", [{"write_scopes": ["scim.write"]}])
def test_a_token_without_the_write_scope_may_read_but_not_write(
    http: FlaskClient, key: RSAKey
) -> None:
    reader = sign(key, scp="scim.read")

    assert http.get(USERS, headers=bearer(reader)).status_code == 200
    refused = http.post(USERS, json=new_user(), headers=bearer(reader))
    assert refused.status_code == 403
    assert 'scope="scim.write"' in challenge(refused)


def test_an_unsigned_token_is_refused(http: FlaskClient) -> None:
    response = http.get(USERS, headers=bearer(unsigned()))

    assert response.status_code == 401
    assert "signing algorithm (alg) is not accepted" in challenge(response)


def test_an_hmac_token_keyed_with_the_public_key_is_refused(http: FlaskClient, key: RSAKey) -> None:
    """The key-confusion forgery: HS256 "signed" with the issuer's public key as the secret."""
    for secret in (key.as_pem(private=False), key.as_dict(private=False)["n"].encode()):
        forged = hmac_signed(secret, kid=key.kid)

        response = http.get(USERS, headers=bearer(forged))

        assert response.status_code == 401
        assert "signing algorithm (alg) is not accepted" in challenge(response)


def test_a_token_that_is_not_a_jwt_is_refused_vaguely(http: FlaskClient) -> None:
    response = http.get(USERS, headers=bearer("not-a-jwt-and-not-a-static-token"))

    assert response.status_code == 401
    assert challenge(response) == 'Bearer realm="idp", error="invalid_token"'


def test_a_new_key_at_the_jwks_url_is_accepted_without_restart(
    http: FlaskClient, server: JwksServer, key: RSAKey
) -> None:
    assert http.get(USERS, headers=bearer(sign(key))).status_code == 200
    rotated = rsa_key("key-2")
    server.serve(key, rotated)
    time.sleep(1.1)  # jwks_refresh_seconds: the fastest a JWKS is fetched again

    response = http.get(USERS, headers=bearer(sign(rotated)))

    assert response.status_code == 200
    assert server.fetches == 2


def test_the_jwks_is_fetched_once_for_many_tokens(
    http: FlaskClient, server: JwksServer, key: RSAKey
) -> None:
    for _ in range(5):
        assert http.get(USERS, headers=bearer(sign(key))).status_code == 200

    assert server.fetches == 1


def test_unknown_kids_do_not_refetch_the_jwks_faster_than_the_refresh_interval(
    http: FlaskClient, server: JwksServer, key: RSAKey
) -> None:
    http.get(USERS, headers=bearer(sign(key)))

    for index in range(5):
        http.get(USERS, headers=bearer(sign(rsa_key(f"made-up-{index}"))))

    assert server.fetches == 1


def test_an_unreachable_jwks_url_answers_503_with_retry_after(tmp_path: Path, key: RSAKey) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    inbound = {"jwt": jwt_settings(f"http://127.0.0.1:{closed}/keys")}
    http = build_app(tmp_path, inbound).test_client()

    response = http.get(USERS, headers=bearer(sign(key)))

    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) >= 1
    assert response.get_json()["status"] == "503"


def test_a_jwks_url_answering_an_error_answers_503(
    http: FlaskClient, server: JwksServer, key: RSAKey
) -> None:
    server.status = 500

    response = http.get(USERS, headers=bearer(sign(key)))

    assert response.status_code == 503


def test_a_cached_key_keeps_working_while_the_jwks_url_is_down(
    http: FlaskClient, server: JwksServer, key: RSAKey
) -> None:
    assert http.get(USERS, headers=bearer(sign(key))).status_code == 200
    server.status = 503
    time.sleep(1.1)
    unknown = http.get(USERS, headers=bearer(sign(rsa_key("rotated-while-down"))))

    response = http.get(USERS, headers=bearer(sign(key)))

    assert unknown.status_code == 503
    assert server.fetches == 2
    assert response.status_code == 200


def test_a_jwks_file_is_read_again_when_it_changes(tmp_path: Path, key: RSAKey) -> None:
    import json
    import os

    from auth_helpers import jwks

    file = tmp_path / "jwks.json"
    file.write_text(json.dumps(jwks(key)))
    settings = {"issuer": ISSUER, "audience": "api://scimbridge", "jwks_file": str(file)}
    http = build_app(tmp_path, {"jwt": settings}).test_client()
    rotated = rsa_key("key-2")
    assert http.get(USERS, headers=bearer(sign(rotated))).status_code == 401

    file.write_text(json.dumps(jwks(rotated)))
    os.utime(file, ns=(time.time_ns(), time.time_ns() + 1_000_000_000))

    assert http.get(USERS, headers=bearer(sign(rotated))).status_code == 200


def test_an_hmac_secret_configured_as_such_verifies_hs256_tokens(tmp_path: Path) -> None:
    secret = "a-shared-hmac-secret-of-40-characters-xx"
    settings = {"issuer": ISSUER, "audience": "api://scimbridge", "hmac_secret": secret}
    http = build_app(tmp_path, {"jwt": settings}).test_client()

    good = http.get(USERS, headers=bearer(hmac_signed(secret.encode())))
    wrong = http.get(USERS, headers=bearer(hmac_signed(b"another-secret-of-enough-length-000000")))

    assert good.status_code == 200
    assert wrong.status_code == 401


def test_the_token_never_appears_in_logs_or_responses(
    http: FlaskClient, key: RSAKey, caplog: pytest.LogCaptureFixture
) -> None:
    expired = sign(key, exp=int(time.time()) - 3600, iat=int(time.time()) - 7200, nbf=None)
    forged = sign(rsa_key("key-1"))
    good = sign(key)
    caplog.set_level("DEBUG", logger="scimbridge")

    responses = [http.get(USERS, headers=bearer(token)) for token in (expired, forged, good)]

    for token in (expired, forged, good):
        signature = token.rsplit(".", 1)[1]
        assert signature not in caplog.text
        for response in responses:
            assert signature not in response.get_data(as_text=True)
            assert signature not in str(response.headers)
    assert "refused: the token has expired" in caplog.text
