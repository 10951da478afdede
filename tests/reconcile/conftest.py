"""Fixtures of the reconcile tests: a live bridge in front of Aria's emulator, and its
configuration written to a file as an operator's commands read it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from scimbridge.cli import main
from scimbridge.testing import LiveBridge, live_config, start_live


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveBridge]:
    live, stop = start_live(tmp_path, "aria")
    yield live
    stop()


@pytest.fixture
def config_file(live: LiveBridge, tmp_path: Path) -> Path:
    """The live bridge's configuration (same database, same emulator) as a file."""
    document = live_config(tmp_path, live.emulator, "aria")
    path = tmp_path / "bridge.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


@pytest.fixture
def run(config_file: Path) -> Any:
    """``scimbridge ARGS --config <the file>``: the result of the command."""
    runner = CliRunner()

    def run(*args: str, input: str | None = None) -> Any:
        return runner.invoke(main, [*args, "--config", str(config_file)], input=input)

    return run
