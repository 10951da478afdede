"""Fixtures of the delivery tests: a bridge on a fresh SQLite file and a worker driven step by step."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import yaml
from outbox_doubles import AUTH, ScriptedVendor, config_document, user

from scimbridge.app import Bridge
from scimbridge.config import parse_config
from scimbridge.delivery.worker import Worker
from scimbridge.testing import Clock


@pytest.fixture
def bridge(database_url: str) -> Iterator[Bridge]:
    """A bridge on SQLite, and again on PostgreSQL when a server is available."""
    bridge = Bridge(parse_config(yaml.safe_dump(config_document(database_url, max_attempts=4))))
    yield bridge
    bridge.database.dispose()


@pytest.fixture
def client(bridge: Bridge) -> Any:
    from flask import Flask

    app = Flask("test")
    bridge.init_app(app)
    return app.test_client()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def vendor() -> ScriptedVendor:
    return ScriptedVendor()


@pytest.fixture
def new_worker(bridge: Bridge, vendor: ScriptedVendor, clock: Clock) -> Callable[[], Worker]:
    """Another worker of the same bridge, vendor and clock, as a second thread or process would be."""
    return lambda: Worker(
        bridge.config, bridge.database, bridge.mappings, {"chat": vendor}, clock=clock
    )


@pytest.fixture
def worker(new_worker: Callable[[], Worker]) -> Worker:
    return new_worker()


@pytest.fixture
def create(client: Any) -> Callable[..., dict[str, Any]]:
    def create(name: str, **attributes: Any) -> dict[str, Any]:
        response = client.post("/scim/v2/chat/Users", json=user(name, **attributes), headers=AUTH)
        assert response.status_code == 201, response.json
        return response.json

    return create


@pytest.fixture
def drain(worker: Worker) -> Iterator[Callable[[], int]]:
    def drain() -> int:
        rounds = 0
        while worker.run_once():
            rounds += 1
            assert rounds < 100, "the outbox never drained"
        return rounds

    yield drain


@pytest.fixture
def live(tmp_path: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A bridge served on loopback in front of the emulator of ``request.param`` (a vendor key)."""
    from scimbridge.testing.live import start_live

    running, stop = start_live(tmp_path, request.param)
    yield running
    stop()


@pytest.fixture
def live_on(tmp_path: Any, request: pytest.FixtureRequest, database_url: str) -> Iterator[Any]:
    """The same, on each database the store runs on (SQLite, and PostgreSQL when available)."""
    from scimbridge.testing.live import start_live

    running, stop = start_live(tmp_path, request.param, database_url)
    yield running
    stop()
