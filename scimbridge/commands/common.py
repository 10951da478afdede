"""What every ``scimbridge`` command shares: the ``--config`` option and turning a
configuration error into a one-line message instead of a traceback."""

from __future__ import annotations

import click

from scimbridge.app import Bridge
from scimbridge.config import BridgeConfig, ConfigError, Target, load_config

config_option = click.option(
    "--config",
    "config_path",
    envvar="SCIMBRIDGE_CONFIG",
    type=click.Path(dir_okay=False),
    help="Bridge configuration file (YAML or JSON). Default: $SCIMBRIDGE_CONFIG.",
)


def read_config(config_path: str | None, *, require_env: bool = True) -> BridgeConfig:
    """The configuration, or a one-line error; ``require_env=False`` for commands that never
    call a vendor (``mapping check``, ``preview``), so its secrets need not be set."""
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


def open_bridge(config: BridgeConfig) -> Bridge:
    try:
        return Bridge(config)
    except ConfigError as error:
        raise click.ClickException(str(error)) from None
