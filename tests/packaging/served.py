"""``scimbridge serve`` as a separate process, started the way an operator starts it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Served:
    """A bridge process; its output is kept, to assert what it printed."""

    def __init__(
        self,
        config: Path,
        cwd: Path,
        env: dict[str, str],
        python: str = sys.executable,
    ):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = cwd / "bridge.log"
        command = [python, "-m", "scimbridge", "serve", "--config", str(config)]
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [*command, "--port", str(self.port), "--no-worker"],
                cwd=cwd,
                env={**os.environ, **env},
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def wait_until_serving(self, seconds: float = 60.0) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"the bridge exited: {self.output()}")
            try:
                requests.get(f"{self.url}/healthz", timeout=1)
                return
            except requests.ConnectionError:
                time.sleep(0.2)
        raise AssertionError(f"the bridge never served: {self.output()}")

    def stop(self) -> str:
        self.process.terminate()
        self.process.wait(timeout=30)
        return self.output()

    def output(self) -> str:
        return self.log.read_text(errors="replace")
