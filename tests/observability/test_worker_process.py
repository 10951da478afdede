"""A separate ``scimbridge worker`` process: its ``--metrics-port`` serves the deliveries it
made, and its JSON log lines carry the request id of the SCIM write another process took."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml
from flask import Flask
from flask.testing import FlaskClient
from scimbridge_emulators import run_in_thread
from scrape import Scrape
from test_end_to_end import scim_user

from scimbridge.app import Bridge
from scimbridge.config import load_config
from scimbridge.testing.live import TOKEN, live_config

REPOSITORY = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(condition: Callable[[], Any], seconds: float = 30.0) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        result = condition()
        if result:
            return result
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def scraped(port: int) -> Scrape | None:
    try:
        response = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=2)
    except requests.RequestException:
        return None
    return Scrape(response.text)


@pytest.fixture
def bench(tmp_path: Path) -> Iterator[tuple[FlaskClient, Path]]:
    """The Aria emulator, a configuration file for it, and the SCIM side in this process."""
    emulator = run_in_thread("aria")
    config = tmp_path / "bridge.yaml"
    config.write_text(yaml.safe_dump(live_config(tmp_path, emulator, "aria")))
    bridge = Bridge(load_config(config))
    app = Flask("scim")
    bridge.init_app(app)
    yield app.test_client(), config
    bridge.database.dispose()
    emulator.stop()


@pytest.mark.slow
def test_a_worker_process_serves_its_deliveries_on_its_metrics_port(
    bench: tuple[FlaskClient, Path], tmp_path: Path
) -> None:
    client, config = bench
    port = free_port()
    log = (tmp_path / "worker.log").open("wb")
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "scimbridge",
            "worker",
            "--config",
            str(config),
            "--poll",
            "0.1",
            "--metrics-port",
            str(port),
        ],
        cwd=REPOSITORY,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    try:
        created = client.post(
            "/scim/v2/aria/Users",
            json=scim_user("ada"),
            headers={"Authorization": f"Bearer {TOKEN}", "X-Request-Id": "idp-write-proc-1"},
        )
        assert created.status_code == 201
        labels = {"target": "aria", "vendor": "aria", "outcome": "delivered"}

        def delivered() -> Scrape | None:
            metrics = scraped(port)
            if metrics and metrics.value("scimbridge_deliveries_total", **labels) == 1:
                return metrics
            return None

        metrics = wait_for(delivered)
    finally:
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=30) == 0

    assert (
        metrics.value(
            "scimbridge_vendor_request_duration_seconds_count", target="aria", vendor="aria"
        )
        >= 1
    )
    assert "scimbridge_outbox_entries" not in {sample.name for sample in metrics.samples}
    lines = [
        json.loads(line)
        for line in (tmp_path / "worker.log").read_text().splitlines()
        if line.startswith("{")
    ]
    (delivery,) = [line for line in lines if line["message"].startswith("aria: delivered")]
    assert (delivery["request_id"], delivery["scim_id"]) == (
        "idp-write-proc-1",
        created.json["id"],
    )
