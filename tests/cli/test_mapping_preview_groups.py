"""``scimbridge mapping preview --groups``: every group named reaches the mapping.

The target's mapping grants one Rocket.Chat role per group ("Chat Admins" → admin,
"Chat Moderators" → moderator), so the printed record shows which groups the preview used.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_config import user, write_config
from click.testing import CliRunner

from scimbridge.cli import main
from scimbridge.config import default_mapping

SHIPPED_ROLES = 'from_groups: {"Chat Admins": admin}'
TWO_ROLES = 'from_groups: {"Chat Admins": admin, "Chat Moderators": moderator}'


@pytest.fixture
def config(tmp_path: Path) -> Path:
    text = default_mapping("rocketchat").read_text("utf-8")
    assert SHIPPED_ROLES in text
    mapping = tmp_path / "rocketchat.yaml"
    mapping.write_text(text.replace(SHIPPED_ROLES, TWO_ROLES), "utf-8")
    return write_config(tmp_path, mapping=str(mapping))


def preview_roles(runner: CliRunner, config: Path, tmp_path: Path, *groups: str) -> list[str]:
    document = tmp_path / "ada.json"
    document.write_text(json.dumps(user("ada")), "utf-8")
    arguments = [argument for name in groups for argument in ("--groups", name)]
    result = runner.invoke(
        main, ["mapping", "preview", "chat", str(document), *arguments, "--config", str(config)]
    )
    assert result.exit_code == 0, result.output
    roles: list[str] = json.loads(result.output)["record"]["roles"]
    return roles


def test_groups_given_twice_are_both_the_users_groups(
    runner: CliRunner, config: Path, tmp_path: Path
) -> None:
    roles = preview_roles(runner, config, tmp_path, "Chat Admins", "Chat Moderators")

    assert sorted(roles) == ["admin", "moderator"]


def test_groups_separated_by_commas_are_still_each_a_group(
    runner: CliRunner, config: Path, tmp_path: Path
) -> None:
    roles = preview_roles(runner, config, tmp_path, "Chat Admins, Chat Moderators")

    assert sorted(roles) == ["admin", "moderator"]
