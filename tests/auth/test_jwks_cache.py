"""The JWKS cache on its own, with a clock the tests move: expiry, refetch limits, outages."""

from __future__ import annotations

import json

import pytest
from auth_helpers import JwksServer, rsa_key
from joserfc.jwk import Key, RSAKey

from scimbridge.scim.tokens import JwksUrl, KeysUnreachable, TokenRefused, parse_jwks


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def any_key(key: Key) -> bool:
    return True


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def cache(server: JwksServer, clock: Clock) -> JwksUrl:
    return JwksUrl(server.url, cache_seconds=3600, refresh_seconds=60, clock=clock)


def test_keys_are_fetched_again_once_the_cache_expires(
    cache: JwksUrl, server: JwksServer, clock: Clock
) -> None:
    cache.lookup("key-1", any_key)
    clock.now += 3601

    cache.lookup("key-1", any_key)

    assert server.fetches == 2


def test_keys_are_not_fetched_again_before_the_cache_expires(
    cache: JwksUrl, server: JwksServer, clock: Clock
) -> None:
    cache.lookup("key-1", any_key)
    clock.now += 3599

    cache.lookup("key-1", any_key)

    assert server.fetches == 1


def test_expired_keys_stay_in_use_while_the_url_fails(
    cache: JwksUrl, server: JwksServer, clock: Clock, key: RSAKey
) -> None:
    cache.lookup("key-1", any_key)
    server.status = 503
    clock.now += 3601

    found = cache.lookup("key-1", any_key)

    assert found.kid == key.kid
    assert server.fetches == 2


def test_a_failing_url_is_tried_again_only_after_the_refresh_interval(
    cache: JwksUrl, server: JwksServer, clock: Clock
) -> None:
    server.status = 500
    for _ in range(3):
        with pytest.raises(KeysUnreachable):
            cache.lookup("key-1", any_key)
    assert server.fetches == 1
    server.status = 200
    clock.now += 60

    cache.lookup("key-1", any_key)

    assert server.fetches == 2


def test_the_retry_after_of_an_outage_is_the_time_left_to_the_next_fetch(
    cache: JwksUrl, server: JwksServer, clock: Clock
) -> None:
    server.status = 500
    with pytest.raises(KeysUnreachable):
        cache.lookup("key-1", any_key)
    clock.now += 45

    with pytest.raises(KeysUnreachable) as unreachable:
        cache.lookup("key-1", any_key)

    assert unreachable.value.retry_after == 15


def test_an_unknown_kid_is_refused_once_the_jwks_was_fetched(cache: JwksUrl) -> None:
    with pytest.raises(TokenRefused, match="does not publish"):
        cache.lookup("nobody", any_key)


def test_a_token_without_kid_uses_the_only_usable_key(cache: JwksUrl, key: RSAKey) -> None:
    assert cache.lookup(None, any_key).kid == key.kid


def test_encryption_and_symmetric_keys_of_a_jwks_are_left_out(key: RSAKey) -> None:
    encryption = rsa_key("enc").as_dict(private=False) | {"use": "enc"}
    symmetric = {"kty": "oct", "k": "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0", "kid": "oct"}
    document = {"keys": [key.as_dict(private=False), encryption, symmetric]}

    keys = parse_jwks(json.dumps(document))

    assert [found.kid for found in keys] == ["key-1"]
