"""Fixtures of the observability tests: a bridge served on loopback in front of a vendor
emulator, whose worker counts in the bridge's own metrics (as ``scimbridge serve``'s
worker thread does), and log lines captured as the bridge writes them."""

from __future__ import annotations

import io
import logging
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "delivery"))

from captured_logs import CapturedLogs

from scimbridge.delivery.worker import Worker
from scimbridge.observability.logs import configure_logging, configured_secrets
from scimbridge.testing.live import LiveBridge, start_live


def observed_bridge(tmp_path: Any, vendor: str, **options: Any) -> tuple[LiveBridge, Any]:
    """:func:`start_live`, with the worker counting in the bridge's metrics."""
    live, stop = start_live(tmp_path, vendor, **options)
    live.worker = Worker(
        live.bridge.config,
        live.bridge.database,
        live.bridge.mappings,
        clock=live.clock,
        metrics=live.bridge.metrics.delivery,
    )
    return live, stop


@pytest.fixture
def aria(tmp_path: Any) -> Iterator[LiveBridge]:
    """A bridge in front of the Aria emulator (an HTTP vendor that imports many users a call)."""
    live, stop = observed_bridge(tmp_path, "aria")
    yield live
    stop()


@pytest.fixture
def capture_logs() -> Iterator[Callable[..., CapturedLogs]]:
    """Install the bridge's handler on a string stream, at DEBUG, for one test."""
    root = logging.getLogger()
    bridge_logger = logging.getLogger("scimbridge")
    levels = (root.level, bridge_logger.level)
    handlers: list[logging.Handler] = []

    def capture(live: LiveBridge, log_format: str = "json") -> CapturedLogs:
        stream = io.StringIO()
        secrets = configured_secrets(live.bridge.config)
        handlers.append(configure_logging("DEBUG", log_format, secrets, stream))  # type: ignore[arg-type]
        bridge_logger.setLevel(logging.DEBUG)
        return CapturedLogs(stream)

    yield capture
    for handler in handlers:
        root.removeHandler(handler)
    root.setLevel(levels[0])
    bridge_logger.setLevel(levels[1])


@pytest.fixture
def offline(tmp_path: Any) -> Iterator[Any]:
    from offline import Offline

    bridge = Offline(tmp_path)
    yield bridge
    bridge.bridge.database.dispose()
