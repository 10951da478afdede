"""The newcomer's demo: the bridge on SQLite in front of the bundled vendor emulators.

``make run`` (``scimbridge demo``) starts the emulator of every installed vendor
plugin that ships one, on loopback,
writes a configuration with one target per vendor (``scimbridge-demo.yaml``, so
that ``scimbridge outbox list --config scimbridge-demo.yaml`` works beside it),
and serves the bridge with its delivery worker, so that a user created with
``curl`` shows up in the emulators' state within a second.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from scimbridge_emulators import (
    RunningEmulator,
    demo_options,
    emulated_vendors,
    emulator_class,
    run_in_thread,
)

from scimbridge.config import BridgeConfig, load_config

DEMO_TOKEN = "demo-token-change-me"
"""The bearer token of every demo target; a demo, never a deployment, uses it."""


def write_demo_config(
    emulators: dict[str, RunningEmulator], database: str, path: Path
) -> BridgeConfig:
    """One target per vendor, named after it, pointing at that vendor's emulator."""
    document: dict[str, Any] = {
        "database": database,
        "targets": [
            {
                "name": vendor,
                "vendor": vendor,
                "base_url": emulators[vendor].url,
                "credentials": emulators[vendor].credentials,
                "options": demo_options(vendor),
                "inbound": {"bearer_tokens": [DEMO_TOKEN]},
                "delivery": {"backoff_seconds": 1, "max_backoff_seconds": 30},
            }
            for vendor in emulators
        ],
    }
    path.write_text(
        "# Written by `scimbridge demo`: the bridge in front of the bundled emulators.\n"
        + yaml.safe_dump(document, sort_keys=False)
    )
    return load_config(path)


def start_emulators() -> dict[str, RunningEmulator]:
    """Every installed emulator, on its ``demo_port`` (or any free port)."""
    return {
        vendor: run_in_thread(vendor, port=emulator_class(vendor).demo_port or 0)
        for vendor in emulated_vendors()
    }
