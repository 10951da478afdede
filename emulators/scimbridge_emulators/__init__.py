"""Strict emulators of the vendor APIs, for the tests and the newcomer's demo.

Each vendor plugin may ship one (:attr:`scimbridge.vendors.VendorPlugin.emulator`);
this package holds the five built-in vendors' and what every emulator shares
(:mod:`.base`, :mod:`.state`), whose names a plugin's emulator imports from this package
itself (``from scimbridge_emulators import VendorEmulator, Rejection, ...``). Nothing in
the bridge's serving path imports it.

Each emulator follows its vendor's documented contract (the vendor's public API
documentation, named in each module; docs/vendors.md): it refuses what the vendor refuses, with
the vendor's status and error shape, keeps the vendor-side end state, and can
misbehave on demand::

    emu = run_in_thread("acc")
    emu.fault(status=429, retry_after=2)
    emu.fault(after="timeout", delay=5, method="POST", path="users:import")  # applied, late
    emu.fault(after="disconnect", method="POST", path="users:import")  # applied, no answer
    ...  # point a target's base_url at emu.url, credentials at emu.credentials
    assert len(emu.users()) == 1000

Documented limits are enforced at their real size by default; the options of
:func:`run_in_thread` / :func:`create_emulator` scale them down for tests (none
switches them off). The built-in vendors':

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
``…/suite-api``). Token URLs in :func:`demo_credentials` are absolute paths
(``/connect/token``, ``/authentication/v2/token``) to resolve with
``urljoin(base_url, token_url)``; ``emu.credentials`` has them resolved.
"""

from __future__ import annotations

from typing import Any

from flask import Flask

from scimbridge.vendors.plugin import UnknownVendor, vendor_names, vendor_plugin
from scimbridge_emulators.base import Bucket, Rejection, VendorEmulator, build_app
from scimbridge_emulators.server import RunningEmulator, serve_in_thread
from scimbridge_emulators.state import Quota, QuotaCheck, TokenStatus, same_secret


def emulator_class(vendor: str) -> type[VendorEmulator]:
    """The emulator the ``vendor`` plugin ships, imported now.

    :raises UnknownVendor: when no installed plugin is called ``vendor``, or it ships no emulator.
    """
    return vendor_plugin(vendor).load_emulator()


def emulated_vendors() -> tuple[str, ...]:
    """The installed vendors whose plugin ships an emulator."""
    return tuple(name for name in vendor_names() if vendor_plugin(name).emulator is not None)


def demo_credentials(vendor: str) -> dict[str, str]:
    """The credentials the emulator of ``vendor`` accepts by default, keyed as a target's ``credentials``."""
    return dict(emulator_class(vendor).demo_credentials)


def demo_options(vendor: str) -> dict[str, Any]:
    """The target ``options`` the emulator of ``vendor`` expects (ACC ``project_id``, Aria ``auth_source_id``)."""
    return dict(emulator_class(vendor).demo_options)


def create_emulator(
    vendor: str, credentials: dict[str, str] | None = None, **options: Any
) -> Flask:
    """A Flask app emulating ``vendor``; ``options`` go to the vendor's emulator class.

    :raises UnknownVendor: for a vendor without an installed emulator.
    """
    return build_app(emulator_class(vendor)(credentials, **options))


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
    "Bucket",
    "Quota",
    "QuotaCheck",
    "Rejection",
    "RunningEmulator",
    "TokenStatus",
    "UnknownVendor",
    "VendorEmulator",
    "build_app",
    "create_emulator",
    "demo_credentials",
    "demo_options",
    "emulated_vendors",
    "emulator_class",
    "run_in_thread",
    "same_secret",
]
