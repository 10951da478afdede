"""``scimbridge config``: check a configuration before a deployment, and publish its schema."""

from __future__ import annotations

import json
import sys

import click

from scimbridge.app import check_vendor_options, load_mappings
from scimbridge.commands.common import config_option, read_config
from scimbridge.config import ConfigError, Target, json_schema
from scimbridge.vendors import client_for
from scimbridge.vendors.base import VendorClient, VendorError

CONNECTION_CHECK_EMAIL = "scimbridge-connection-check@example.invalid"
"""What a ``lookup`` vendor is asked for by ``--connect``: an address no account holds
(RFC 2606 reserves ``.invalid``), so the read finds nothing and shows nothing."""


@click.group()
def config() -> None:
    """Check the configuration file, or print its JSON Schema."""


@config.command()
@config_option
@click.option(
    "--connect",
    is_flag=True,
    help="Also log in to each target's vendor and make one read that changes nothing.",
)
def check(config_path: str | None, connect: bool) -> None:
    """Check the configuration as ``serve`` would at start-up: every key, every secret's
    environment variable, each target's mapping file and vendor credentials and options.
    Nothing is opened or called: neither the database nor a vendor, unless ``--connect``
    asks to log in to each vendor (one line per target; exit status 1 if any failed)."""
    checked = read_config(config_path)
    try:
        load_mappings(checked)
        check_vendor_options(checked)
    except ConfigError as error:
        raise click.ClickException(str(error)) from None
    names = ", ".join(target.name for target in checked.targets)
    click.echo(f"ok: {len(checked.targets)} target(s): {names}")
    if connect:
        refused = [target.name for target in checked.targets if not _connected(target)]
        if refused:
            sys.exit(1)


def _connected(target: Target) -> bool:
    """Log in to the target's vendor and make one harmless read; print how it went, with
    every secret redacted."""
    client = client_for(target)
    try:
        done = _log_in_and_read(client)
    except VendorError as error:
        click.echo(f"{target.name}: failed: {client.redact(str(error))}")
        return False
    finally:
        client.close()
    click.echo(f"{target.name}: ok: {done}")
    return True


def _log_in_and_read(client: VendorClient) -> str:
    """What was done: the login, then the first page of the vendor's accounts (``list``),
    a lookup of an address nobody holds (``lookup``), or nothing more (``none``).

    :raises VendorError: the vendor's refusal or unavailability.
    """
    client.authenticate()
    if client.read_back == "list":
        page = client.accounts()
        return f"logged in to {client.vendor}, read {len(page.accounts)} account(s)"
    if client.read_back == "lookup":
        field = sorted(client.account_keys)[0]
        client.look_up(field, [CONNECTION_CHECK_EMAIL])
        return f"logged in to {client.vendor}, looked up one {field}"
    return f"logged in to {client.vendor} (it documents no read)"


@config.command()
def schema() -> None:
    """Print the JSON Schema of the configuration file (draft 2020-12), for editors and CI."""
    click.echo(json.dumps(json_schema(), indent=2))
