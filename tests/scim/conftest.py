"""Fixtures of the SCIM endpoint tests: the real application on a fresh SQLite file.

Two targets, one per identity provider under test: ``entra`` takes a bearer
"secret token" as Entra ID sends it; ``okta`` takes HTTP Basic credentials or
a bearer token, as Okta may send either. Their vendors (CloudShell, Aria) need
nothing but a user name, so that these tests exercise SCIM and not a vendor
mapping's requirements.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from flask import Flask
from flask.testing import FlaskClient
from scim_client import (
    ENTRA_TOKEN,
    MAX_BULK_OPERATIONS,
    MAX_FILTER_TERMS,
    MAX_PAYLOAD_BYTES,
    OKTA_PASSWORD,
    OKTA_TOKEN,
    OKTA_USER,
    ScimClient,
    basic,
    bearer,
)

from scimbridge.app import create_app
from scimbridge.config import BridgeConfig, parse_config


def config_document(database: str) -> dict[str, Any]:
    return {
        "database": database,
        "worker": False,
        "max_payload_bytes": MAX_PAYLOAD_BYTES,
        "max_bulk_operations": MAX_BULK_OPERATIONS,
        "max_filter_terms": MAX_FILTER_TERMS,
        "log_level": "WARNING",
        "targets": [
            {
                "name": "entra",
                "vendor": "cloudshell",
                "base_url": "http://127.0.0.1:9",
                "credentials": {"username": "admin", "password": "cloudshell-password"},
                "inbound": {"bearer_tokens": [ENTRA_TOKEN]},
            },
            {
                "name": "okta",
                "vendor": "aria",
                "base_url": "http://127.0.0.1:9",
                "credentials": {"username": "admin", "password": "aria-password"},
                "options": {"auth_source_id": "okta-directory"},
                "inbound": {
                    "bearer_tokens": [OKTA_TOKEN],
                    "basic": {"username": OKTA_USER, "password": OKTA_PASSWORD},
                },
            },
        ],
    }


@pytest.fixture
def database(tmp_path: Path) -> str:
    """The bridge's database: SQLite. A module whose behaviour depends on the database
    overrides it with ``database_url``, to run on SQLite and PostgreSQL."""
    return f"sqlite:///{tmp_path / 'bridge.db'}"


@pytest.fixture
def settings() -> dict[str, Any]:
    """Top-level configuration keys a test class sets besides the ones above, by overriding
    this fixture (``public_base_url``, ``trusted_proxies``)."""
    return {}


@pytest.fixture
def config(database: str, settings: dict[str, Any]) -> BridgeConfig:
    return parse_config(yaml.safe_dump({**config_document(database), **settings}))


@pytest.fixture
def app(config: BridgeConfig) -> Flask:
    return create_app(config)


@pytest.fixture
def http(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def entra(http: FlaskClient) -> ScimClient:
    """Entra ID's provisioning service, with the target's secret token."""
    return ScimClient(http, "entra", bearer(ENTRA_TOKEN))


@pytest.fixture
def okta(http: FlaskClient) -> ScimClient:
    """Okta's SCIM client, authenticating with HTTP Basic."""
    return ScimClient(http, "okta", basic(OKTA_USER, OKTA_PASSWORD))


@pytest.fixture
def anonymous(http: FlaskClient) -> ScimClient:
    """A caller of the ``entra`` target without credentials."""
    return ScimClient(http, "entra", {})


@pytest.fixture
def user(entra: ScimClient) -> dict[str, Any]:
    """A user of the ``entra`` target, for tests about what happens to an existing resource."""
    return entra.create_user(
        "bjensen@example.com",
        name={"givenName": "Barbara", "familyName": "Jensen"},
        emails=[{"value": "bjensen@example.com", "type": "work", "primary": True}],
        active=True,
    )
