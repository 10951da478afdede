"""``scimbridge mapping check``, ``show`` and ``preview``, through click's CliRunner."""

import json
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from scimbridge.commands.mapping import mapping
from scimbridge.config import default_mapping
from scimbridge.mapping import load_mapping
from scimbridge.vendors import record_shape, vendor_names

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
                credentials: {{user_id: u1, auth_token: rc-token}}
                inbound: {{bearer_tokens: ["{TOKEN}"]}}
              - name: lab
                vendor: cloudshell
                mapping: {mappings_dir / "cloudshell.yaml"}
                base_url: http://cloudshell.example.com:9000
                inbound: {{bearer_tokens: ["{TOKEN}"]}}
                credentials: {{username: admin, password: cloudshell-password}}
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


def test_check_without_files_checks_every_default_mapping_from_any_directory(
    runner, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SCIMBRIDGE_CONFIG", raising=False)

    result = runner.invoke(mapping, ["check"])

    assert result.exit_code == 0, result.output
    assert result.output.count("ok: ") == len(vendor_names())
    assert "ok: rocketchat.yaml (default) (rocketchat)" in result.output


def test_check_with_a_configuration_checks_each_target_against_its_vendor(
    runner, tmp_path, monkeypatch
):
    monkeypatch.delenv("SCIM_TOKEN", raising=False)
    config = tmp_path / "bridge.yaml"
    config.write_text(
        textwrap.dedent(
            """\
            targets:
              - name: chat
                vendor: rocketchat
                base_url: https://chat.example.com
                credentials: {user_id: u1, auth_token: rc-token}
                inbound: {bearer_tokens: ["${SCIM_TOKEN}"]}
              - name: lab
                vendor: cloudshell
                mapping: chat.yaml
                base_url: https://lab.example.com
                credentials: {username: admin, password: cloudshell-password}
                inbound: {bearer_tokens: ["${SCIM_TOKEN}"]}
            """
        )
    )
    (tmp_path / "chat.yaml").write_text(default_mapping("rocketchat").read_text())

    result = runner.invoke(mapping, ["check", "--config", str(config)])

    assert result.exit_code == 1
    assert "ok: target chat (rocketchat.yaml) (rocketchat)" in result.output
    assert (
        "error: target lab: chat.yaml maps for 'rocketchat', but the target's vendor is "
        "'cloudshell'" in result.output
    )


def test_show_prints_the_default_mapping_of_a_vendor(runner, tmp_path):
    result = runner.invoke(mapping, ["show", "cloudshell"])

    assert result.exit_code == 0
    assert result.output == default_mapping("cloudshell").read_text()
    copy = tmp_path / "copy.yaml"
    copy.write_text(result.output)
    assert load_mapping(str(copy), record_shape).vendor == "cloudshell"


def test_preview_needs_no_vendor_secret_in_the_environment(
    runner, config_file, write_json, okta_user, monkeypatch
):
    monkeypatch.delenv("CLOUDSHELL_PASSWORD", raising=False)
    text = Path(config_file).read_text()
    Path(config_file).write_text(
        text.replace("password: cloudshell-password", 'password: "${CLOUDSHELL_PASSWORD}"')
    )
    user = write_json(okta_user("ada", "Ada", "Lovelace", "ada@example.com"))

    result = runner.invoke(mapping, ["preview", "lab", user, "--config", config_file])

    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["record"]["UserName"] == "ada"


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


def test_preview_shows_the_candidates_the_delivery_chooses_from(
    runner, config_file, write_json, okta_user
):
    user = write_json(okta_user("zoë@b.example", "Zoë", "Ångström", "zoe@b.example"))

    result = runner.invoke(mapping, ["preview", "chat", user, "--config", config_file])

    printed = json.loads(result.output)
    assert printed["record"]["username"] == "zoe"
    assert printed["choices"]["username"][:2] == ["zoe", "zoe.b"]
    assert printed["choices"]["username"][2].startswith("zoe.")


def test_preview_explain_shows_each_step_of_a_field(runner, config_file, write_json, okta_user):
    user = write_json(okta_user("zoë@b.example", "Zoë", "Ångström", "zoe@b.example"))

    result = runner.invoke(mapping, ["preview", "chat", user, "--explain", "--config", config_file])

    assert result.exit_code == 0, result.output
    steps = result.output.split("\n{", 1)[0]
    assert 'username:\n  candidate 1:\n    userName → "zoë@b.example"' in steps
    assert '    first → "zoë"\n    transliterate → "zoe"' in steps
    assert "roles:\n  membership of a group → nothing\n  = []" in steps  # the revocation


def test_preview_explain_never_shows_a_redacted_value(runner, tmp_path, write_json, okta_user):
    mapping_file = tmp_path / "chat.yaml"
    text = default_mapping("rocketchat").read_text()
    mapping_file.write_text(
        text.replace("  name:\n", "  bio:\n    path: title\n    transform: redact\n  name:\n", 1)
    )
    config = tmp_path / "bridge.yaml"
    config.write_text(
        "targets:\n  - name: chat\n    vendor: rocketchat\n    mapping: chat.yaml\n"
        "    credentials: {user_id: u1, auth_token: rc-token}\n"
        f'    base_url: https://chat.example.com\n    inbound: {{bearer_tokens: ["{TOKEN}"]}}\n'
    )
    user = write_json({**okta_user("ada", "Ada", "L", "ada@example.com"), "title": "Top Secret"})

    result = runner.invoke(mapping, ["preview", "chat", user, "--explain", "--config", str(config)])

    assert result.exit_code == 0, result.output
    assert "Top Secret" not in result.output
    assert 'bio:\n  title → <redacted>\n  redact → <redacted>\n  = "<redacted>"' in result.output
