"""The ``scimbridge`` command: start-up refusals name the problem."""

from __future__ import annotations

from cli_config import write_config

from scimbridge.cli import main
from scimbridge.config import default_mapping


def test_serve_refuses_a_bad_configuration_naming_the_key(runner, tmp_path):
    config = write_config(tmp_path, vendor="slack")
    result = runner.invoke(main, ["serve", "--config", str(config)])
    assert result.exit_code == 1
    assert "targets[0] (chat).vendor" in result.output


def test_serve_refuses_a_broken_mapping_file_naming_file_line_and_key(runner, tmp_path):
    shipped = default_mapping("rocketchat").read_text().splitlines()
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
    config = write_config(tmp_path, vendor="acc", mapping=str(default_mapping("acc")))
    result = runner.invoke(main, ["serve", "--config", str(config)])
    assert result.exit_code == 1
    assert "key targets[0] (chat).options.project_id: required, not set" in result.output


def test_a_mapping_for_another_vendor_is_refused(runner, tmp_path):
    config = write_config(tmp_path, mapping=str(default_mapping("aria")))
    result = runner.invoke(main, ["serve", "--config", str(config)])
    assert result.exit_code == 1
    assert "maps for 'aria'" in result.output
