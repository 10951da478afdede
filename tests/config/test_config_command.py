"""``scimbridge config check`` and ``scimbridge config schema``."""

from __future__ import annotations

import json

import jsonschema
import yaml
from click.testing import CliRunner

from scimbridge.cli import main

CONFIG = """\
targets:
  - name: chat
    vendor: rocketchat
    base_url: https://chat.example.com
    credentials: {user_id: u1, auth_token: "${RC_TOKEN}"}
    inbound: {bearer_tokens: ["${SCIM_TOKEN}"]}
"""
ENV = {"RC_TOKEN": "rc-token", "SCIM_TOKEN": "a-scim-token-0123456789"}


def test_check_accepts_a_valid_configuration_without_opening_the_database(tmp_path):
    config = tmp_path / "bridge.yaml"
    config.write_text(CONFIG)
    result = CliRunner().invoke(main, ["config", "check", "--config", str(config)], env=ENV)
    assert result.exit_code == 0, result.output
    assert result.output == "ok: 1 target(s): chat\n"
    assert not (tmp_path / "scimbridge.db").exists()


def test_check_refuses_a_missing_vendor_option(tmp_path):
    config = tmp_path / "bridge.yaml"
    config.write_text(CONFIG.replace("vendor: rocketchat", "vendor: acc"))
    result = CliRunner().invoke(main, ["config", "check", "--config", str(config)], env=ENV)
    assert result.exit_code == 1
    assert "key targets[0] (chat).options.project_id: required, not set" in result.output


def test_check_requires_the_secrets_serve_will_need(tmp_path):
    config = tmp_path / "bridge.yaml"
    config.write_text(CONFIG)
    result = CliRunner().invoke(
        main, ["config", "check", "--config", str(config)], env={"SCIM_TOKEN": ENV["SCIM_TOKEN"]}
    )
    assert result.exit_code == 1
    assert "environment variable RC_TOKEN is not set" in result.output


def test_the_schema_accepts_the_configurations_the_bridge_accepts():
    schema = json.loads(CliRunner().invoke(main, ["config", "schema"]).output)
    jsonschema.Draft202012Validator.check_schema(schema)
    document = yaml.safe_load(CONFIG.replace("${RC_TOKEN}", "x").replace("${SCIM_TOKEN}", "y" * 20))
    jsonschema.validate(document, schema)


def test_the_schema_refuses_an_unknown_key():
    schema = json.loads(CliRunner().invoke(main, ["config", "schema"]).output)
    document = yaml.safe_load(CONFIG.replace("vendor: rocketchat", "vendor: rocketchat\n    x: 1"))
    try:
        jsonschema.validate(document, schema)
    except jsonschema.ValidationError as error:
        assert "'x' was unexpected" in error.message
    else:
        raise AssertionError("the schema accepted an unknown key")
