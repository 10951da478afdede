"""The newcomer's demo: the bridge on SQLite in front of the five bundled vendor emulators.

``make run`` (``scimbridge demo``) starts one emulator per vendor on loopback,
writes a configuration with one target per vendor (``scimbridge-demo.yaml``, so
that ``scimbridge outbox list --config scimbridge-demo.yaml`` works beside it),
and serves the bridge with its delivery worker, so that a user created with
``curl`` shows up in the emulators' state within a second.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from scimbridge.config import VENDORS, BridgeConfig, load_config
from scimbridge.emulators import DEMO_OPTIONS, RunningEmulator, run_in_thread

DEMO_TOKEN = "demo-token-change-me"
"""The bearer token of every demo target; a demo, never a deployment, uses it."""


EMULATOR_PORTS = {
    "confide": 9101,
    "acc": 9102,
    "aria": 9103,
    "rocketchat": 9104,
    "cloudshell": 9105,
}


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
                "options": DEMO_OPTIONS.get(vendor, {}),
                "inbound": {"bearer_tokens": [DEMO_TOKEN]},
                "delivery": {"backoff_seconds": 1, "max_backoff_seconds": 30},
            }
            for vendor in VENDORS
        ],
    }
    path.write_text(
        "# Written by `scimbridge demo`: the bridge in front of the bundled emulators.\n"
        + yaml.safe_dump(document, sort_keys=False)
    )
    return load_config(path)


def start_emulators() -> dict[str, RunningEmulator]:
    return {vendor: run_in_thread(vendor, port=EMULATOR_PORTS[vendor]) for vendor in VENDORS}
