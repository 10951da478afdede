"""The commands that only read the database run with no vendor secret in the environment:
an operator reads ``status`` and ``outbox list`` from a host that holds none. The commands
that call a vendor (``serve``, ``worker``, ``reconcile``) and ``config check`` still need
every secret, and name every missing one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from cli_config import AUTH, user, write_config
from flask import Flask
from sqlalchemy import update

from scimbridge.app import Bridge
from scimbridge.cli import main
from scimbridge.config import load_config
from scimbridge.store.delivery_tables import outbox

SECRETS = {"RC_USER": "rc-user-0001", "RC_TOKEN": "rc-token-0123456789"}


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A bridge holding Ada, delivered long ago, and Grace, pending; its Rocket.Chat
    credentials are ``${RC_USER}`` and ``${RC_TOKEN}``, which are not set when the test runs."""
    path = write_config(
        tmp_path, credentials={"user_id": "${RC_USER}", "auth_token": "${RC_TOKEN}"}
    )
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    bridge = Bridge(load_config(path))
    app = Flask("cli")
    bridge.init_app(app)
    client = app.test_client()
    for name in ("ada", "grace"):
        response = client.post("/scim/v2/chat/Users", json=user(name), headers=AUTH)
        assert response.status_code == 201, response.json
    with bridge.database.transaction() as session:
        session.execute(
            update(outbox)
            .where(outbox.c.seq == 1)
            .values(state="delivered", done_at=bridge.database.now())
        )
    bridge.database.dispose()
    for name in SECRETS:
        monkeypatch.delenv(name)
    return path


def test_status_runs_without_the_vendor_secrets(runner, config):
    result = runner.invoke(main, ["status", "--config", str(config), "--json"])

    assert result.exit_code == 0, result.output
    [chat] = [json.loads(line) for line in result.output.splitlines()]
    assert (chat["target"], chat["outbox"]["pending"]) == ("chat", 1)


def test_outbox_list_runs_without_the_vendor_secrets(runner, config):
    result = runner.invoke(main, ["outbox", "list", "--config", str(config), "--json"])

    assert result.exit_code == 0, result.output
    assert [json.loads(line)["user_name"] for line in result.output.splitlines()] == ["grace"]


def test_a_purge_dry_run_counts_without_the_vendor_secrets_and_purges_nothing(runner, config):
    dry = runner.invoke(
        main, ["outbox", "purge", "--config", str(config), "--older-than", "0", "--dry-run"]
    )

    assert dry.exit_code == 0, dry.output
    assert dry.output == "chat: 1 entry and 0 former users would be purged\n"
    listed = runner.invoke(
        main, ["outbox", "list", "--config", str(config), "--state", "delivered", "--json"]
    )
    assert json.loads(listed.output)["user_name"] == "ada"  # its snapshot kept


def test_a_preview_of_a_stored_user_runs_without_the_vendor_secrets(runner, config):
    result = runner.invoke(
        main, ["mapping", "preview", "chat", "--user", "grace", "--config", str(config)]
    )

    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["record"]["username"] == "grace"


@pytest.mark.parametrize(
    "command",
    [["serve"], ["worker"], ["config", "check"], ["reconcile", "--target", "chat"]],
    ids=" ".join,
)
def test_a_command_that_may_call_the_vendor_names_every_missing_secret(runner, config, command):
    result = runner.invoke(main, [*command, "--config", str(config)])

    assert result.exit_code == 1
    assert "environment variables not set: RC_TOKEN, RC_USER\n" in result.output
    assert "key targets[0] (chat).credentials.user_id: RC_USER\n" in result.output


def test_a_read_only_command_names_an_unset_variable_of_the_database_url(runner, config):
    document = yaml.safe_load(config.read_text())
    document["database"] = "postgresql://bridge:${DB_PASSWORD}@db.invalid/bridge"
    config.write_text(yaml.safe_dump(document))

    result = runner.invoke(main, ["status", "--config", str(config)])

    assert result.exit_code == 1
    assert "the database URL needs the environment variable DB_PASSWORD" in result.output
