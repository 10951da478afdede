"""``scimbridge mapping check`` and ``scimbridge mapping preview``, through click's CliRunner."""

import json
import textwrap

import pytest
from click.testing import CliRunner

from scimbridge.mapping.cli import mapping

TOKEN = "0123456789abcdef0123"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def config_file(tmp_path, mappings_dir):
    path = tmp_path / "bridge.yaml"
    path.write_text(
        textwrap.dedent(
            f"""\
            targets:
              - name: chat
                vendor: rocketchat
                mapping: {mappings_dir / "rocketchat.yaml"}
                base_url: https://chat.example.com
                inbound: {{bearer_tokens: ["{TOKEN}"]}}
              - name: lab
                vendor: cloudshell
                mapping: {mappings_dir / "cloudshell.yaml"}
                base_url: http://cloudshell.example.com:9000
                inbound: {{bearer_tokens: ["{TOKEN}"]}}
            """
        )
    )
    return str(path)


@pytest.fixture
def write_json(tmp_path):
    def write(document, name="resource.json"):
        path = tmp_path / name
        path.write_text(json.dumps(document))
        return str(path)

    return write


def test_check_passes_every_shipped_mapping(runner, mappings_dir, monkeypatch):
    monkeypatch.chdir(mappings_dir.parent)

    result = runner.invoke(mapping, ["check"])

    assert result.exit_code == 0
    assert result.output.count("ok: ") == 5


def test_check_names_file_line_and_key_of_a_broken_mapping(runner, mappings_dir, write_mapping):
    broken = write_mapping(
        (mappings_dir / "cloudshell.yaml").read_text().replace("path: userName", "path: login")
    )

    result = runner.invoke(mapping, ["check", broken])

    assert result.exit_code == 1
    assert f"{broken}, line " in result.output
    assert "key record.UserName.path" in result.output


def test_preview_never_prints_the_password(runner, config_file, write_json, okta_user):
    user = write_json(okta_user("ada", "Ada", "Lovelace", "ada@example.com", password="S3cret-pw!"))

    result = runner.invoke(
        mapping, ["preview", "chat", user, "--groups", "Chat Admins", "--config", config_file]
    )

    assert result.exit_code == 0, result.output
    printed = json.loads(result.output)
    assert printed["action"] == "import"
    assert printed["record"]["roles"] == ["admin"]
    assert "password" not in printed["record"]
    assert "S3cret-pw!" not in result.output


def test_preview_shows_an_empty_role_list_for_a_user_in_no_group(
    runner, config_file, write_json, okta_user
):
    user = write_json(okta_user("ada", "Ada", "Lovelace", "ada@example.com"))

    result = runner.invoke(mapping, ["preview", "chat", user, "--config", config_file])

    assert json.loads(result.output)["record"]["roles"] == []


def test_preview_refuses_a_scim_group_since_groups_are_not_mapped(runner, config_file, write_json):
    group = write_json(
        {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Lab Admins"}
    )

    result = runner.invoke(mapping, ["preview", "lab", group, "--config", config_file])

    assert result.exit_code == 1
    assert "a SCIM Group is not mapped" in result.output


def test_preview_explains_why_the_bridge_would_refuse_the_user(
    runner, config_file, write_json, okta_user
):
    user = write_json(okta_user("ada", "Ada", "Lovelace", "ada@example.com", emails=[]))

    result = runner.invoke(mapping, ["preview", "chat", user, "--config", config_file])

    assert result.exit_code == 1
    assert "would refuse this user (400): emails.value is required" in result.output


def test_preview_names_the_known_targets_for_an_unknown_one(runner, config_file, write_json):
    result = runner.invoke(mapping, ["preview", "mail", write_json({}), "--config", config_file])

    assert result.exit_code == 1
    assert "no target 'mail'" in result.output
    assert "chat, lab" in result.output


def test_preview_refuses_a_file_that_is_not_json(runner, config_file, tmp_path):
    path = tmp_path / "user.json"
    path.write_text("userName: ada")

    result = runner.invoke(mapping, ["preview", "chat", str(path), "--config", config_file])

    assert result.exit_code == 1
    assert "not valid JSON" in result.output
    assert "Traceback" not in result.output
