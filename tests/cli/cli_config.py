"""A configuration file for the command's tests: one Rocket.Chat target on SQLite."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

TOKEN = "cli-test-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def user(name: str, **attributes: Any) -> dict[str, Any]:
    return {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": name,
        "emails": [{"value": f"{name}@example.com"}],
        **attributes,
    }


def write_config(tmp_path: Path, **target: object) -> Path:
    document = {
        "database": f"sqlite:///{tmp_path / 'bridge.db'}",
        "targets": [
            {
                "name": "chat",
                "vendor": "rocketchat",
                "base_url": "http://127.0.0.1:9",
                "credentials": {"user_id": "u", "auth_token": "t"},
                "inbound": {"bearer_tokens": [TOKEN]},
                **target,
            }
        ],
    }
    path = tmp_path / "bridge.yaml"
    path.write_text(yaml.safe_dump(document))
    return path
