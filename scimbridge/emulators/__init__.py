"""Strict emulators of the five vendor APIs, for the tests and the newcomer's demo.

Each emulator follows its vendor's documented contract (the vendor's public API
documentation, named in each module; docs/vendors.md): it refuses what the vendor refuses, with
the vendor's status and error shape, keeps the vendor-side end state, and can
misbehave on demand::

    emu = run_in_thread("acc")
    emu.fault(status=429, retry_after=2)
    emu.fault(after="timeout", delay=5, path="users:import")  # applied, answer late
    emu.fault(after="disconnect", path="users:import")  # applied, no answer at all
    ...  # point a target's base_url at emu.url, credentials at emu.credentials
    assert len(emu.users()) == 1000

Documented limits are enforced at their real size by default; the options of
:func:`run_in_thread` / :func:`create_emulator` scale them down for tests (none
switches them off):

- every emulator: ``async_polls`` (status polls before a job ends),
  ``token_ttl_seconds``;
- ``rocketchat``: ``rate_limit_calls=10``, ``rate_limit_seconds=60.0`` (per route
  and client IP), ``bypass_rate_limit=False`` (the ``api-bypass-rate-limit``
  permission);
- ``acc``: ``write_limit=100``, ``read_limit=600``, ``limit_seconds=60.0`` (per
  client id), ``import_delay_seconds=0.5`` (an import shows in the listing only
  that long after its 202; 0: at once), ``project_ids``;
- ``aria``: ``auth_source_id``;
- ``cloudshell``: ``directory``, ``groups``.

Base URLs: ``emu.url`` includes the vendor's path prefix (``…/confide``,
``…/suite-api``). Token URLs in :data:`DEMO_CREDENTIALS` are absolute paths
(``/connect/token``, ``/authentication/v2/token``) to resolve with
``urljoin(base_url, token_url)``; ``emu.credentials`` has them resolved.
"""

from __future__ import annotations

from typing import Any

from flask import Flask

from scimbridge.emulators.acc import AccEmulator
from scimbridge.emulators.aria import AriaEmulator
from scimbridge.emulators.base import VendorEmulator, build_app
from scimbridge.emulators.cloudshell import CloudShellEmulator
from scimbridge.emulators.confide import ConfideEmulator
from scimbridge.emulators.rocketchat import RocketChatEmulator
from scimbridge.emulators.server import RunningEmulator, serve_in_thread

EMULATORS: dict[str, type[VendorEmulator]] = {
    emulator.vendor: emulator
    for emulator in (
        ConfideEmulator,
        AccEmulator,
        AriaEmulator,
        RocketChatEmulator,
        CloudShellEmulator,
    )
}

DEMO_CREDENTIALS: dict[str, dict[str, str]] = {
    vendor: dict(emulator.demo_credentials) for vendor, emulator in EMULATORS.items()
}
"""The credentials each emulator accepts by default, keyed as a target's ``credentials``."""

DEMO_OPTIONS: dict[str, dict[str, Any]] = {
    vendor: dict(emulator.demo_options)
    for vendor, emulator in EMULATORS.items()
    if emulator.demo_options
}
"""The target ``options`` each emulator expects (ACC ``project_id``, Aria ``auth_source_id``)."""


def create_emulator(
    vendor: str, credentials: dict[str, str] | None = None, **options: Any
) -> Flask:
    """A Flask app emulating ``vendor``; ``options`` go to the vendor's emulator class.

    :raises ValueError: for an unknown vendor.
    """
    if vendor not in EMULATORS:
        raise ValueError(f"no emulator for {vendor!r}; known: {', '.join(EMULATORS)}")
    return build_app(EMULATORS[vendor](credentials, **options))


def run_in_thread(
    vendor: str,
    port: int = 0,
    host: str = "127.0.0.1",
    credentials: dict[str, str] | None = None,
    **options: Any,
) -> RunningEmulator:
    """Serve an emulator on ``host:port`` (0: any free port) in a daemon thread."""
    return serve_in_thread(create_emulator(vendor, credentials, **options), host, port)


__all__ = [
    "DEMO_CREDENTIALS",
    "DEMO_OPTIONS",
    "EMULATORS",
    "RunningEmulator",
    "create_emulator",
    "run_in_thread",
]
