"""A bridge with no vendor behind it, served by Flask's test client, whose database can be
taken away: for what the bridge says about itself (health, readiness, status)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import yaml
from flask import Flask
from flask.testing import FlaskClient

from scimbridge.app import Bridge
from scimbridge.config import parse_config

CHAT_TOKEN = "chat-scim-token-0123456789"
WIKI_TOKEN = "wiki-scim-token-9876543210"


def two_targets(database_url: str) -> dict[str, Any]:
    """Two targets, each with its own inbound token; their vendors are never called."""
    return {
        "database": database_url,
        "targets": [
            {
                "name": name,
                "vendor": "rocketchat",
                "base_url": "http://127.0.0.1:9",
                "credentials": {"user_id": "u", "auth_token": "vendor-auth-token-abcdef"},
                "inbound": {"bearer_tokens": [token]},
            }
            for name, token in (("chat", CHAT_TOKEN), ("wiki", WIKI_TOKEN))
        ],
    }


class Offline:
    def __init__(self, folder: Path):
        self.folder = folder / "store"
        self.folder.mkdir()
        document = two_targets(f"sqlite:///{self.folder / 'bridge.db'}")
        self.bridge = Bridge(parse_config(yaml.safe_dump(document)))
        self.app = Flask("offline")
        self.bridge.init_app(self.app)
        self.client: FlaskClient = self.app.test_client()

    def lose_database(self) -> None:
        """The database file and its folder are gone: no connection can be opened."""
        self.bridge.database.dispose()
        shutil.rmtree(self.folder)
