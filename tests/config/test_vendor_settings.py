"""Each vendor plugin declares the credentials and options its client reads
(:mod:`scimbridge.vendors.settings`): ``config check`` and start-up refuse any other key
with its file, line and the nearest declared name, a missing required one and a value of
the wrong type; ``config schema`` tells an editor each vendor's keys."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from scimbridge.cli import main
from scimbridge.config import ConfigError, parse_config, vendor_settings
from scimbridge.vendors.settings import SECTIONS

REPOSITORY = Path(__file__).resolve().parents[2]

ACC = """\
targets:
  - name: projects
    vendor: acc
    base_url: https://developer.api.autodesk.com
    credentials:
      client_id: "${APS_CLIENT_ID}"
      client_secret: "${APS_CLIENT_SECRET}"
      user_id: admin-1
    options:
      project_id: b.9a1b2c3d
    inbound: {bearer_tokens: ["${SCIM_TOKEN}"]}
"""
ENV = {
    "APS_CLIENT_ID": "aps-client",
    "APS_CLIENT_SECRET": "aps-secret-value-0123",
    "SCIM_TOKEN": "a-scim-token-0123456789",
}


def check(tmp_path, text: str) -> tuple[int, str]:
    config = tmp_path / "bridge.yaml"
    config.write_text(text)
    result = CliRunner().invoke(main, ["config", "check", "--config", str(config)], env=ENV)
    return result.exit_code, result.output


@pytest.mark.parametrize(
    ("written", "misspelt", "refusal"),
    [
        (
            "client_secert:",
            "client_secret:",
            "line 7, key targets[0] (projects).credentials.client_secert: "
            "unknown key; did you mean client_secret?",
        ),
        (
            "projectid:",
            "project_id:",
            "line 10, key targets[0] (projects).options.projectid: "
            "unknown key; did you mean project_id?",
        ),
    ],
)
def test_a_misspelt_key_is_refused_with_its_line_and_the_nearest_name(
    tmp_path, written, misspelt, refusal
):
    code, output = check(tmp_path, ACC.replace(misspelt, written))
    assert code == 1
    assert f"bridge.yaml, {refusal}" in output
    assert ENV["APS_CLIENT_SECRET"] not in output


def test_a_key_in_the_wrong_section_is_named_with_its_section(tmp_path):
    code, output = check(
        tmp_path,
        ACC.replace("      user_id: admin-1\n", "").replace(
            "      project_id: b.9a1b2c3d\n",
            "      project_id: b.9a1b2c3d\n      user_id: admin-1\n",
        ),
    )
    assert code == 1
    assert (
        "key targets[0] (projects).options.user_id: unknown key; user_id belongs in credentials"
        in output
    )


def test_a_missing_required_credential_is_refused(tmp_path):
    code, output = check(tmp_path, ACC.replace("      user_id: admin-1\n", ""))
    assert code == 1
    assert "key targets[0] (projects).credentials.user_id: required, not set" in output


def test_a_missing_required_option_is_refused_without_an_options_section(tmp_path):
    code, output = check(tmp_path, ACC.replace("    options:\n      project_id: b.9a1b2c3d\n", ""))
    assert code == 1
    assert "key targets[0] (projects).options.project_id: required, not set" in output


@pytest.mark.parametrize(
    ("line", "refusal"),
    [
        ("max_polls: five", "options.max_polls: must be a whole number"),
        ("max_polls: true", "options.max_polls: must be a whole number"),
        ("poll_interval_seconds: 2s", "options.poll_interval_seconds: must be a number"),
        ("poll_interval_seconds: -1", "options.poll_interval_seconds: must be at least 0"),
        ("rate_limits: [1]", "options.rate_limits: must be a mapping"),
    ],
)
def test_an_option_of_the_wrong_type_is_refused_with_its_line(tmp_path, line, refusal):
    added = f"      project_id: b.9a1b2c3d\n      {line}\n"
    code, output = check(tmp_path, ACC.replace("      project_id: b.9a1b2c3d\n", added))
    assert code == 1
    assert f"line 11, key targets[0] (projects).{refusal}" in output


def test_every_problem_of_a_target_is_reported_at_once(tmp_path):
    text = ACC.replace("client_secret:", "client_secert:").replace("project_id:", "projectid:")
    code, output = check(tmp_path, text)
    assert code == 1
    assert "credentials.client_secert: unknown key" in output
    assert "credentials.client_secret: required, not set" in output
    assert "options.projectid: unknown key" in output


def test_start_up_refuses_a_misspelt_credential():
    with pytest.raises(ConfigError, match=r"line 7, .*credentials\.client_secert: unknown key"):
        parse_config(ACC.replace("client_secret:", "client_secert:"), "bridge.yaml", ENV)


def test_the_declared_keys_are_accepted(tmp_path):
    code, output = check(tmp_path, ACC)
    assert (code, output) == (0, "ok: 1 target(s): projects\n")


def schema() -> dict:
    return json.loads(CliRunner().invoke(main, ["config", "schema"]).output)


def test_the_schema_names_each_vendors_credentials_and_which_are_secret():
    conditions = schema()["$defs"]["Target"]["allOf"]
    acc = next(c["then"] for c in conditions if c["if"]["properties"]["vendor"]["const"] == "acc")
    credentials = acc["properties"]["credentials"]
    assert set(credentials["required"]) == {"client_id", "client_secret", "user_id"}
    assert credentials["properties"]["client_secret"]["writeOnly"] is True
    assert "writeOnly" not in credentials["properties"]["client_id"]
    assert acc["properties"]["options"]["properties"]["max_polls"]["default"] == 5


def test_the_schema_refuses_a_misspelt_credential():
    document = yaml.safe_load(ACC.replace("client_secret:", "client_secert:"))
    validator = jsonschema.Draft202012Validator(schema())
    errors = list(validator.iter_errors(document))
    assert errors
    assert any("client_secert" in error.message for error in errors)


def test_the_schema_accepts_the_declared_keys():
    jsonschema.validate(yaml.safe_load(ACC), schema())


@pytest.mark.parametrize("vendor", ["acc", "aria", "cloudshell", "confide", "rocketchat"])
def test_every_key_a_vendors_page_documents_is_declared(vendor):
    page = (REPOSITORY / "docs" / "vendors" / f"{vendor}.md").read_text("utf-8")
    documented = set(re.findall(r"`(credentials|options)\.([a-z_]+)`", page))
    settings = vendor_settings(vendor)
    declared = {
        (section, setting.name) for section in SECTIONS for setting in settings.section(section)
    }
    assert documented
    assert documented - declared == set()


def test_a_required_credential_set_empty_is_refused(tmp_path):
    code, output = check(tmp_path, ACC.replace("user_id: admin-1", 'user_id: ""'))
    assert code == 1
    assert "line 8, key targets[0] (projects).credentials.user_id: required, empty" in output
