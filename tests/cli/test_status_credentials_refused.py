"""``scimbridge status`` names a target whose vendor refuses the bridge's credentials
(issue 25, item 2): the state, since when, and the vendor's words."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from pydantic import SecretStr

from scimbridge.cli import main
from scimbridge.testing.live import live_config, scim_user, start_live
from scimbridge.vendors import client_for


@pytest.fixture
def refused_config(tmp_path: Path, database_url: str) -> Iterator[Path]:
    """The configuration of a bridge whose Aria refused its password at the last round."""
    live, stop = start_live(tmp_path, "aria", database_url)
    config = tmp_path / "scimbridge.yaml"
    config.write_text(yaml.safe_dump(live_config(tmp_path, live.emulator, "aria", database_url)))
    target = live.bridge.config.targets[0]
    credentials = {**target.credentials, "password": SecretStr("not-the-password")}
    live.worker.clients[target.name] = client_for(
        target.model_copy(update={"credentials": credentials})
    )
    assert live.scim("POST", "/Users", scim_user("ada")).status_code == 201
    live.worker.run_once()
    yield config
    stop()


def test_status_shows_credentials_refused_with_the_vendors_refusal(runner, refused_config):
    result = runner.invoke(main, ["status", "--config", str(refused_config)])
    assert result.exit_code == 0, result.output
    state_line, refusal_line = result.output.splitlines()[:2]
    assert state_line.split()[2:4] == ["credentials", "refused"]
    assert "credentials refused since" in refusal_line
    assert "Invalid username or password" in refusal_line
