"""``scimbridge config``: check a configuration before a deployment, and publish its schema."""

from __future__ import annotations

import json

import click

from scimbridge.app import check_vendor_options, load_mappings
from scimbridge.commands.common import config_option, read_config
from scimbridge.config import ConfigError, json_schema


@click.group()
def config() -> None:
    """Check the configuration file, or print its JSON Schema."""


@config.command()
@config_option
def check(config_path: str | None) -> None:
    """Check the configuration as ``serve`` would at start-up: every key, every secret's
    environment variable, each target's mapping file and vendor options. Nothing is opened
    or called: neither the database nor a vendor."""
    checked = read_config(config_path)
    try:
        load_mappings(checked)
        check_vendor_options(checked)
    except ConfigError as error:
        raise click.ClickException(str(error)) from None
    names = ", ".join(target.name for target in checked.targets)
    click.echo(f"ok: {len(checked.targets)} target(s): {names}")


@config.command()
def schema() -> None:
    """Print the JSON Schema of the configuration file (draft 2020-12), for editors and CI."""
    click.echo(json.dumps(json_schema(), indent=2))
