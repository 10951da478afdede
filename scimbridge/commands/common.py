"""What every ``scimbridge`` command shares: the ``--config`` option and turning a
configuration error into a one-line message instead of a traceback."""

from __future__ import annotations

import re

import click

from scimbridge.app import Bridge
from scimbridge.config import BridgeConfig, ConfigError, Target, load_config
from scimbridge.config_document import UNSET

config_option = click.option(
    "--config",
    "config_path",
    envvar="SCIMBRIDGE_CONFIG",
    type=click.Path(dir_okay=False),
    help="Bridge configuration file (YAML or JSON). Default: $SCIMBRIDGE_CONFIG.",
)


def read_config(config_path: str | None, *, require_env: bool = True) -> BridgeConfig:
    """The configuration, or a one-line error; ``require_env=False`` for commands that never
    call a vendor (``mapping check``, ``preview``, and those of :func:`open_reading`), so
    its secrets need not be set."""
    try:
        return load_config(config_path, require_env=require_env)
    except ConfigError as error:
        raise click.ClickException(str(error)) from None


def named_target(config: BridgeConfig, name: str) -> Target:
    """The target a command names, or a one-line error listing the configured ones: a
    misspelt name must never read as an empty answer."""
    target = config.target(name)
    if target is None:
        names = ", ".join(known.name for known in config.targets)
        raise click.ClickException(f"no target {name!r} in the configuration; targets: {names}")
    return target


def open_bridge(config: BridgeConfig, *, vendors: bool = True) -> Bridge:
    """The bridge of ``config``, or a one-line error; ``vendors=False``: no vendor client is
    built (:class:`~scimbridge.app.Bridge`)."""
    try:
        return Bridge(config, vendors=vendors)
    except ConfigError as error:
        raise click.ClickException(str(error)) from None


def open_reading(config_path: str | None) -> tuple[BridgeConfig, Bridge]:
    """The configuration and bridge of a command that only reads the database (``status``,
    ``outbox list``, ``outbox purge --dry-run``, ``mapping preview --user``): read without
    the vendors' secrets, which need not be set, and no vendor client built. ``serve``,
    ``worker``, ``reconcile`` and ``config check`` still require every secret."""
    config = read_config(config_path, require_env=False)
    unset = re.search(UNSET + r"([A-Za-z_][A-Za-z0-9_]*)", config.database)
    if unset:
        raise click.ClickException(
            f"the database URL needs the environment variable {unset.group(1)}, which is not set"
        )
    return config, open_bridge(config, vendors=False)
