"""Fixtures of the inbound authentication tests: a signing key and the JWKS server that
publishes it on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from auth_helpers import JwksServer, jwks_server, rsa_key
from joserfc.jwk import RSAKey


@pytest.fixture
def key() -> RSAKey:
    return rsa_key("key-1")


@pytest.fixture
def server(key: RSAKey) -> Iterator[JwksServer]:
    with jwks_server(key) as server:
        yield server
