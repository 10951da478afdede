"""``identity.match`` in the file, and the start-up warning about an Entra ID target that
keeps the reusable default (docs/guides/entra-id.md, "Attributes")."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
import yaml

from scimbridge.app import create_app
from scimbridge.config import ConfigError, parse_config

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
TOKEN = "a-scim-token-of-some-length"
ENTRA_JWT = {"entra_tenant": TENANT, "audience": "api://scimbridge-chat"}


def document(tmp_path: Path, inbound: dict[str, Any], **target: Any) -> str:
    return yaml.safe_dump(
        {
            "database": f"sqlite:///{tmp_path / 'bridge.db'}",
            "worker": False,
            "public_base_url": "https://idm.example.com",
            "targets": [
                {
                    "name": "chat",
                    "vendor": "rocketchat",
                    "base_url": "https://chat.example.com",
                    "credentials": {"user_id": "u1", "auth_token": "rc-secret"},
                    "inbound": inbound,
                    **target,
                }
            ],
        }
    )


def start_up_warnings(caplog: pytest.LogCaptureFixture, text: str) -> list[str]:
    """The warnings logged while the bridge is built from ``text``."""
    with caplog.at_level(logging.WARNING, logger="scimbridge"):
        create_app(parse_config(text))
    return [record.getMessage() for record in caplog.records if record.levelno == logging.WARNING]


def test_an_entra_target_without_identity_match_is_warned_about(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    [warning] = start_up_warnings(caplog, document(tmp_path, {"jwt": ENTRA_JWT}))

    assert warning.startswith("target chat: Entra ID fills externalId from mailNickname")
    assert "identity.match" in warning


def test_a_target_accepting_entra_issuers_by_hand_is_warned_about(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    jwt = {
        "issuer": f"https://login.microsoftonline.com/{TENANT}/v2.0",
        "audience": "api://scimbridge-chat",
        "jwks_url": f"https://login.microsoftonline.com/{TENANT}/discovery/v2.0/keys",
    }

    assert len(start_up_warnings(caplog, document(tmp_path, {"jwt": jwt}))) == 1


@pytest.mark.parametrize("match", ["externalId", "externalId_and_userName"])
def test_an_entra_target_that_sets_identity_match_is_not_warned_about(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, match: str
) -> None:
    text = document(tmp_path, {"jwt": ENTRA_JWT}, identity={"match": match})

    assert start_up_warnings(caplog, text) == []


def test_a_target_with_static_tokens_only_is_not_warned_about(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    assert start_up_warnings(caplog, document(tmp_path, {"bearer_tokens": [TOKEN]})) == []


def test_identity_match_defaults_to_external_id(tmp_path: Path) -> None:
    config = parse_config(document(tmp_path, {"bearer_tokens": [TOKEN]}))

    assert config.targets[0].identity.match == "externalId"


def test_an_unknown_identity_match_is_refused_naming_the_key(tmp_path: Path) -> None:
    text = document(tmp_path, {"bearer_tokens": [TOKEN]}, identity={"match": "userName"})

    with pytest.raises(ConfigError, match=r"key targets\[0\] \(chat\)\.identity\.match: Input"):
        parse_config(text)
