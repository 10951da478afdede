"""The ``scimbridge`` command: start-up refusals name the problem, the outbox is listed and retried."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from sqlalchemy import update

from scimbridge.app import Bridge
from scimbridge.cli import main
from scimbridge.config import parse_config
from scimbridge.store.delivery_tables import outbox

TOKEN = "cli-test-token-0123456789"
USER = {
    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
    "userName": "ada",
    "emails": [{"value": "ada@example.com"}],
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


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_serve_refuses_a_bad_configuration_naming_the_key(runner, tmp_path):
    config = write_config(tmp_path, vendor="slack")
    result = runner.invoke(main, ["serve", "--config", str(config)])
    assert result.exit_code == 1
    assert "targets[0] (chat).vendor" in result.output


def test_serve_refuses_a_broken_mapping_file_naming_file_line_and_key(runner, tmp_path):
    shipped = Path("mappings/rocketchat.yaml").read_text().splitlines()
    record = shipped.index("record:")
    broken = [*shipped[: record + 1], "  nickname: displayName", *shipped[record + 1 :]]
    mapping = tmp_path / "chat.yaml"
    mapping.write_text("\n".join(broken))
    config = write_config(tmp_path, mapping=str(mapping))
    result = runner.invoke(main, ["serve", "--config", str(config)])
    assert result.exit_code == 1
    assert f"chat.yaml, line {record + 2}, key record.nickname" in result.output
    assert f"(the file {mapping})" in result.output


def test_a_missing_vendor_option_is_refused_at_start(runner, tmp_path):
    config = write_config(tmp_path, vendor="acc", mapping="mappings/acc.yaml")
    result = runner.invoke(main, ["serve", "--config", str(config)])
    assert result.exit_code == 1
    assert "target chat: options.project_id is required for acc" in result.output


def test_a_mapping_for_another_vendor_is_refused(runner, tmp_path):
    config = write_config(tmp_path, mapping="mappings/aria.yaml")
    result = runner.invoke(main, ["serve", "--config", str(config)])
    assert result.exit_code == 1
    assert "maps for 'aria'" in result.output


@pytest.fixture
def parked(tmp_path) -> Path:
    """A configuration whose bridge holds one user whose delivery was parked as failed."""
    config = write_config(tmp_path)
    bridge = Bridge(parse_config(config.read_text()))
    from flask import Flask

    app = Flask("cli")
    bridge.init_app(app)
    response = app.test_client().post(
        "/scim/v2/chat/Users", json=USER, headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert response.status_code == 201
    with bridge.database.transaction():
        bridge.database.session.execute(
            update(outbox).values(state="failed", attempts=12, last_error="duplicate username")
        )
    bridge.database.dispose()
    return config


def test_outbox_list_shows_the_parked_entry_and_its_error(runner, parked):
    result = runner.invoke(main, ["outbox", "list", "--config", str(parked), "--json"])
    assert result.exit_code == 0, result.output
    [entry] = [json.loads(line) for line in result.output.splitlines()]
    assert (entry["state"], entry["user_name"], entry["last_error"]) == (
        "failed",
        "ada",
        "duplicate username",
    )


def test_outbox_retry_queues_the_parked_entry_again(runner, parked):
    result = runner.invoke(main, ["outbox", "retry", "--config", str(parked)])
    assert result.exit_code == 0, result.output
    assert "1 entry queued again" in result.output
    listed = runner.invoke(
        main, ["outbox", "list", "--config", str(parked), "--state", "pending", "--json"]
    )
    [entry] = [json.loads(line) for line in listed.output.splitlines()]
    assert entry["attempts"] == 0
