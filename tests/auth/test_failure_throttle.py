"""The failure throttle: after N failed authentications from one address, each further
failure is answered 429 with Retry-After; good credentials from that address never are
(docs/inbound-auth.md, "The failure throttle")."""

from __future__ import annotations

import ipaddress
import threading
from pathlib import Path

import pytest
from auth_helpers import (
    STATIC_TOKEN,
    TARGET,
    JwksServer,
    basic,
    bearer,
    build_app,
    jwt_settings,
    rsa_key,
    sign,
)
from flask.testing import FlaskClient
from joserfc.jwk import RSAKey

from scimbridge.scim.throttle import FailureThrottle, client_address

USERS = f"/scim/v2/{TARGET}/Users"
WRONG = bearer("wrong-token-0123456789abcdef")
ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def http(tmp_path: Path) -> FlaskClient:
    inbound = {
        "bearer_tokens": [STATIC_TOKEN],
        "throttle": {"max_failures": 3, "window_seconds": 60},
    }
    return build_app(tmp_path, inbound, trusted_proxies=["10.9.9.9"]).test_client()


def get(http: FlaskClient, headers: dict[str, str], peer: str, **extra: str):
    return http.get(USERS, headers={**headers, **extra}, environ_overrides={"REMOTE_ADDR": peer})


def test_failures_up_to_the_limit_are_answered_401(http: FlaskClient) -> None:
    statuses = [get(http, WRONG, "192.0.2.1").status_code for _ in range(3)]

    assert statuses == [401, 401, 401]


def test_the_next_request_is_answered_429_with_retry_after(http: FlaskClient) -> None:
    for _ in range(3):
        get(http, WRONG, "192.0.2.1")

    response = get(http, WRONG, "192.0.2.1")

    assert response.status_code == 429
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    assert response.get_json()["status"] == "429"


def test_the_valid_token_is_accepted_after_fifteen_bad_ones_from_its_address(
    tmp_path: Path,
) -> None:
    """Okta's and Entra ID's egress addresses are shared by all their tenants: another
    tenant's bad tokens must not stop this one's provisioning."""
    http = build_app(tmp_path, {"bearer_tokens": [STATIC_TOKEN]}).test_client()
    for _ in range(15):
        get(http, WRONG, "192.0.2.1")

    assert get(http, bearer(STATIC_TOKEN), "192.0.2.1").status_code == 200


def test_the_eleventh_and_later_bad_tokens_are_answered_429_with_a_scim_error(
    tmp_path: Path,
) -> None:
    http = build_app(tmp_path, {"bearer_tokens": [STATIC_TOKEN]}).test_client()

    responses = [get(http, WRONG, "192.0.2.1") for _ in range(15)]

    assert [response.status_code for response in responses] == [401] * 10 + [429] * 5
    for response in responses[10:]:
        assert 1 <= int(response.headers["Retry-After"]) <= 60
        body = response.get_json()
        assert body["schemas"] == [ERROR_SCHEMA]
        assert body["status"] == "429"
        assert "retry in" in body["detail"]


def test_bad_tokens_stay_throttled_after_a_valid_request_succeeded(http: FlaskClient) -> None:
    for _ in range(3):
        get(http, WRONG, "192.0.2.1")

    assert get(http, bearer(STATIC_TOKEN), "192.0.2.1").status_code == 200
    assert get(http, WRONG, "192.0.2.1").status_code == 429


def test_a_throttled_address_without_credentials_is_challenged_not_throttled(
    http: FlaskClient,
) -> None:
    for _ in range(3):
        get(http, WRONG, "192.0.2.1")

    response = get(http, {}, "192.0.2.1")

    assert response.status_code == 401
    assert "Bearer" in response.headers["WWW-Authenticate"]


def test_other_addresses_are_not_affected(http: FlaskClient) -> None:
    for _ in range(4):
        get(http, WRONG, "192.0.2.1")

    assert get(http, bearer(STATIC_TOKEN), "192.0.2.2").status_code == 200


def test_a_success_from_another_address_does_not_reset_the_count(http: FlaskClient) -> None:
    get(http, WRONG, "192.0.2.1")
    get(http, WRONG, "192.0.2.1")
    get(http, bearer(STATIC_TOKEN), "192.0.2.2")
    get(http, WRONG, "192.0.2.1")

    assert get(http, WRONG, "192.0.2.1").status_code == 429


def test_requests_without_credentials_are_not_failures(http: FlaskClient) -> None:
    for _ in range(5):
        assert get(http, {}, "192.0.2.1").status_code == 401

    assert get(http, bearer(STATIC_TOKEN), "192.0.2.1").status_code == 200


def test_behind_a_trusted_proxy_the_forwarded_client_is_counted(http: FlaskClient) -> None:
    for _ in range(3):
        get(http, WRONG, "10.9.9.9", **{"X-Forwarded-For": "203.0.113.50, 198.51.100.7"})

    throttled = get(http, WRONG, "10.9.9.9", **{"X-Forwarded-For": "198.51.100.7"})
    other = get(http, bearer(STATIC_TOKEN), "10.9.9.9", **{"X-Forwarded-For": "198.51.100.8"})

    assert throttled.status_code == 429
    assert other.status_code == 200


def test_forwarded_for_from_an_untrusted_peer_is_ignored(http: FlaskClient) -> None:
    for index in range(3):
        get(http, WRONG, "192.0.2.1", **{"X-Forwarded-For": f"198.51.100.{index}"})

    assert get(http, WRONG, "192.0.2.1", **{"X-Forwarded-For": "198.51.100.99"}).status_code == 429


BASIC = {"username": "okta", "password": "okta-basic-password-0123"}


def test_a_basic_failure_counts_too(tmp_path: Path) -> None:
    http = build_app(tmp_path, {"basic": BASIC, "throttle": {"max_failures": 1}}).test_client()

    get(http, basic("okta", "wrong-password-0123456"), "192.0.2.1")

    assert get(http, basic("okta", "wrong-password-6543210"), "192.0.2.1").status_code == 429


def test_the_valid_basic_password_is_accepted_from_a_throttled_address(tmp_path: Path) -> None:
    http = build_app(tmp_path, {"basic": BASIC, "throttle": {"max_failures": 1}}).test_client()

    get(http, basic("okta", "wrong-password-0123456"), "192.0.2.1")

    assert get(http, basic("okta", "okta-basic-password-0123"), "192.0.2.1").status_code == 200


def test_a_valid_jwt_is_accepted_from_an_address_throttled_for_bad_ones(
    tmp_path: Path, server: JwksServer, key: RSAKey
) -> None:
    inbound = {"jwt": jwt_settings(server.url), "throttle": {"max_failures": 2}}
    http = build_app(tmp_path, inbound).test_client()
    forged = sign(rsa_key(key.kid))  # the right kid, another key: a bad signature
    statuses = [get(http, bearer(forged), "192.0.2.1").status_code for _ in range(3)]

    assert statuses == [401, 401, 429]
    assert get(http, bearer(sign(key)), "192.0.2.1").status_code == 200


def test_max_failures_zero_turns_the_throttle_off(tmp_path: Path) -> None:
    inbound = {"bearer_tokens": [STATIC_TOKEN], "throttle": {"max_failures": 0}}
    http = build_app(tmp_path, inbound).test_client()

    statuses = {get(http, WRONG, "192.0.2.1").status_code for _ in range(20)}

    assert statuses == {401}


def test_a_throttled_address_may_try_again_once_its_oldest_failure_leaves_the_window() -> None:
    clock = Clock()
    throttle = FailureThrottle(2, 60, clock=clock)
    throttle.failed("192.0.2.1")
    clock.now += 30
    throttle.failed("192.0.2.1")

    assert throttle.retry_after("192.0.2.1") == 30
    clock.now += 30
    assert throttle.retry_after("192.0.2.1") is None


def test_ipv6_addresses_of_one_64_network_are_counted_together() -> None:
    throttle = FailureThrottle(2, 60, clock=Clock())
    throttle.failed("2001:db8:1:2::1")
    throttle.failed("2001:db8:1:2:ffff::9")

    assert throttle.retry_after("2001:db8:1:2::abcd") is not None
    assert throttle.retry_after("2001:db8:1:3::1") is None


def test_the_throttle_remembers_at_most_max_addresses() -> None:
    throttle = FailureThrottle(1, 60, max_addresses=100, clock=Clock())
    for index in range(1000):
        throttle.failed(str(ipaddress.IPv4Address(0x0A000000 + index)))

    assert len(throttle._failures) == 100
    assert throttle.retry_after("10.0.3.231") is not None  # the last one failed: kept
    assert throttle.retry_after("10.0.0.0") is None  # the oldest: forgotten


def test_failures_counted_from_many_threads_are_all_counted() -> None:
    throttle = FailureThrottle(400, 60, clock=Clock())

    def fail() -> None:
        for _ in range(50):
            throttle.failed("192.0.2.1")

    threads = [threading.Thread(target=fail) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert throttle.retry_after("192.0.2.1") is not None
    assert len(throttle._failures[("192.0.2.1")]) == 400


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        ("192.0.2.1", [], "192.0.2.1"),
        ("::ffff:192.0.2.1", [], "192.0.2.1"),
        ("10.9.9.9", ["203.0.113.5, 198.51.100.7"], "198.51.100.7"),
        ("10.9.9.9", ["203.0.113.5", "198.51.100.7"], "198.51.100.7"),
        ("10.9.9.9", ["not-an-address"], "10.9.9.9"),
        ("192.0.2.1", ["198.51.100.7"], "192.0.2.1"),
    ],
)
def test_the_client_address(peer: str, forwarded: list[str], expected: str) -> None:
    trusted = [ipaddress.ip_network("10.9.9.9/32")]

    assert client_address(peer, forwarded, trusted) == expected


@pytest.mark.parametrize(
    ("forwarded", "expected"),
    [
        (["for=203.0.113.5, for=198.51.100.7;proto=https"], "198.51.100.7"),
        (["for=203.0.113.5", 'for="[2001:db8::17]:4711"'], "2001:db8::17"),
        (["for=198.51.100.7:47011"], "198.51.100.7"),
        (["for=unknown"], "10.9.9.9"),
        (["proto=https"], "203.0.113.9"),
    ],
)
def test_the_client_address_from_an_rfc_7239_forwarded_header(
    forwarded: list[str], expected: str
) -> None:
    """The right-most ``Forwarded`` element's ``for`` wins over ``X-Forwarded-For``; one
    without ``for`` leaves ``X-Forwarded-For`` to say; ``unknown`` names no address."""
    trusted = [ipaddress.ip_network("10.9.9.9/32")]

    assert client_address("10.9.9.9", ["203.0.113.9"], trusted, forwarded) == expected
