"""The deployment files (docs/deploy.md) agree with the code and with each other.

`scripts/check-image.sh` builds and runs the image; these tests only read the files: the
compose example parses and names its services as the documentation says, its configuration
is valid, and every stop grace period outlasts what a stopping process may take.
"""

from __future__ import annotations

import configparser
import json
import re
import tomllib
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from scimbridge.app import Bridge
from scimbridge.config import BridgeConfig, load_config

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
WAITRESS_SHUTDOWN_SECONDS = 5
"""How long waitress lets the requests in hand finish on SIGTERM before `serve` stops its worker."""


def stop_seconds(config: BridgeConfig) -> float:
    """The longest a stopping `serve` may take: its requests, then its worker thread."""
    return WAITRESS_SHUTDOWN_SECONDS + Bridge.stop_bound_seconds(SimpleNamespace(config=config))


def seconds(duration: str) -> float:
    """A Compose or systemd duration: ``60s``, ``1m30s``, ``90``."""
    parts = re.fullmatch(r"(?:(\d+)m)?(?:(\d+)s?)?", duration.strip())
    assert parts and duration.strip(), duration
    return int(parts.group(1) or 0) * 60 + int(parts.group(2) or 0)


@pytest.fixture
def compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


@pytest.fixture
def bridge_config(monkeypatch: pytest.MonkeyPatch) -> BridgeConfig:
    """deploy/bridge.yaml, with every ${NAME} it names set as bridge.env would."""
    path = DEPLOY / "bridge.yaml"
    for name in set(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", path.read_text())):
        monkeypatch.setenv(name, f"{name.lower()}-0123456789abcdef")
    return load_config(path)


def dockerfile_healthcheck() -> list[str]:
    text = (ROOT / "Dockerfile").read_text()
    match = re.search(r"^HEALTHCHECK (?:[^\n]*\\\n)*?\s*CMD (\[[^\n]*\])$", text, re.MULTILINE)
    assert match, "the Dockerfile has no HEALTHCHECK in exec form"
    return ["CMD", *json.loads(match.group(1))]


def test_the_compose_example_runs_a_bridge_workers_and_postgresql(compose: dict) -> None:
    services = compose["services"]
    assert set(services) == {"bridge", "worker", "postgres"}
    assert "--no-worker" in " ".join(services["bridge"]["command"])
    assert services["worker"]["command"][:2] == ["scimbridge", "worker"]
    assert services["worker"]["deploy"]["replicas"] >= 1
    assert "pgdata" in compose["volumes"]
    assert services["bridge"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    # the bridge alone runs the migrations at start-up; workers start once it answers
    assert services["worker"]["depends_on"]["bridge"]["condition"] == "service_healthy"


def test_secrets_are_never_written_into_the_compose_file(compose: dict) -> None:
    for name in ("bridge", "worker"):
        service = compose["services"][name]
        assert service["env_file"] == "bridge.env"
        assert service["environment"]["POSTGRES_PASSWORD"].startswith("${POSTGRES_PASSWORD:?")
    assert compose["services"]["postgres"]["environment"]["POSTGRES_PASSWORD"].startswith(
        "${POSTGRES_PASSWORD:?"
    )
    ignored = (DEPLOY / ".gitignore").read_text().split()
    assert {"bridge.env", ".env"} <= set(ignored)


def test_the_bridge_health_check_is_the_image_s_own_and_a_worker_has_its_own(compose: dict) -> None:
    services = compose["services"]
    assert services["bridge"]["healthcheck"]["test"] == dockerfile_healthcheck()
    worker_check = " ".join(services["worker"]["healthcheck"]["test"])
    assert "9100" in worker_check and "9100" in " ".join(services["worker"]["command"])


def test_the_example_configuration_is_valid(bridge_config: BridgeConfig) -> None:
    assert bridge_config.database.startswith("postgresql+psycopg://")
    assert all(target.mapping is None for target in bridge_config.targets)


def test_every_grace_period_outlasts_a_stopping_process(
    compose: dict, bridge_config: BridgeConfig
) -> None:
    needed = stop_seconds(bridge_config)
    for name in ("bridge", "worker"):
        service = compose["services"][name]
        assert service["stop_signal"] == "SIGTERM"
        assert seconds(service["stop_grace_period"]) > needed, name
    default = stop_seconds(
        BridgeConfig.model_validate(
            {
                "targets": [
                    {
                        "name": "t",
                        "vendor": "rocketchat",
                        "base_url": "https://chat.example.com",
                        "credentials": {"user_id": "u1", "auth_token": "rc-token"},
                        "inbound": {"bearer_tokens": ["0123456789abcdef"]},
                    }
                ]
            }
        )
    )
    for unit in ("scimbridge.service", "scimbridge-worker@.service"):
        parser = configparser.ConfigParser(strict=False, interpolation=None)
        parser.optionxform = str
        parser.read(DEPLOY / unit)
        service = parser["Service"]
        assert service["KillSignal"] == "SIGTERM"
        assert seconds(service["TimeoutStopSec"]) > default, unit
        assert service["ExecStart"].startswith("/opt/scimbridge/bin/scimbridge ")


def test_the_dockerfile_keeps_its_promises() -> None:
    text = (ROOT / "Dockerfile").read_text()
    instructions = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert "STOPSIGNAL SIGTERM" in instructions
    assert "USER scimbridge" in instructions
    assert "WORKDIR /var/lib/scimbridge" in instructions
    assert "/healthz" in " ".join(dockerfile_healthcheck())
    assert "SCIMBRIDGE_PORT" in " ".join(dockerfile_healthcheck())
    # the wheel carries the default mappings; nothing else of the checkout enters the image
    assert not any(line.startswith("COPY mappings") for line in instructions)


def test_the_image_build_context_holds_every_directory_the_wheel_is_built_from() -> None:
    """.dockerignore is an allow-list: the top-level mappings/ the wheel packages must pass it."""
    ignore = (ROOT / ".dockerignore").read_text().splitlines()
    allowed = {line[1:].rstrip("/") for line in ignore if line.startswith("!")}
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]

    assert {"scimbridge", *setuptools["package-dir"].values()} <= allowed
