"""Without the emulators (a production install leaves them out), ``scimbridge emulate``
and ``scimbridge vendors`` say so, with an install command that works where scimbridge
runs from: the clone's ``emulators/`` directory, or, from an installed package, where to
get the distribution that no package index holds."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from scimbridge.cli import main
from scimbridge.commands.emulate import PACKAGE_DIRECTORY, install_hint

REPOSITORY = Path(__file__).resolve().parents[2]


@pytest.fixture
def no_emulators(monkeypatch: pytest.MonkeyPatch) -> None:
    """``import scimbridge_emulators`` fails, as where the distribution is not installed."""
    monkeypatch.setitem(sys.modules, "scimbridge_emulators", None)


def test_from_a_clone_the_hint_installs_its_emulators_directory() -> None:
    hint = install_hint(PACKAGE_DIRECTORY)

    assert hint == f"pip install -e {REPOSITORY / 'emulators'}"
    assert 'name = "scimbridge-emulators"' in (REPOSITORY / "emulators/pyproject.toml").read_text()


def test_from_an_installed_package_the_hint_names_no_package_index_cannot_serve(
    tmp_path: Path,
) -> None:
    hint = install_hint(tmp_path / "site-packages" / "scimbridge")

    assert "scimbridge[emulators]" not in hint
    assert "not published on PyPI" in hint
    assert "pip install ./emulators" in hint


def test_emulate_without_the_emulators_prints_the_hint(
    runner: CliRunner, no_emulators: None
) -> None:
    result = runner.invoke(main, ["emulate", "acc"])

    assert result.exit_code == 1
    assert "the vendor emulators are not installed" in result.output
    assert f"pip install -e {REPOSITORY / 'emulators'}" in result.output


def test_vendors_says_an_emulator_is_not_installed(runner: CliRunner, no_emulators: None) -> None:
    result = runner.invoke(main, ["vendors"])

    assert result.exit_code == 0, result.output
    [acc] = [line for line in result.stdout.splitlines() if line.startswith("acc ")]
    assert acc.endswith("emulator not installed")
    assert "emulator not installed (acc, " in result.stderr
    assert f"pip install -e {REPOSITORY / 'emulators'}" in result.stderr


def test_vendors_json_tells_a_shipped_emulator_from_an_installed_one(
    runner: CliRunner, no_emulators: None
) -> None:
    result = runner.invoke(main, ["vendors", "--json"])

    rows = {row["vendor"]: row for row in map(json.loads, result.stdout.splitlines())}
    assert rows["acc"]["emulator"] is True
    assert rows["acc"]["emulator_installed"] is False


def test_vendors_says_nothing_is_missing_where_the_emulators_are_installed(
    runner: CliRunner,
) -> None:
    result = runner.invoke(main, ["vendors", "--json"])

    rows = {row["vendor"]: row for row in map(json.loads, result.stdout.splitlines())}
    assert rows["acc"]["emulator_installed"] is True
    assert "not installed" not in result.stderr
