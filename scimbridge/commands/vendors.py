"""``scimbridge vendors``: the vendor plugins installed, which a target's ``vendor:`` may name."""

from __future__ import annotations

import json

import click

from scimbridge.vendors.plugin import (
    PluginError,
    distribution_of,
    vendor_names,
    vendor_plugin,
)


@click.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object per vendor, one a line.")
def vendors(as_json: bool) -> None:
    """List the installed vendor plugins: name, product, distribution and version, batch size,
    whether an emulator ships with it. Exit 1 if a plugin cannot be loaded."""
    broken = 0
    for name in vendor_names():
        try:
            plugin = vendor_plugin(name)
            source = distribution_of(name)
        except PluginError as error:
            broken += 1
            click.echo(f"error: {error}", err=True)
            continue
        row = {
            "vendor": name,
            "title": plugin.title,
            "distribution": source,
            "max_batch": plugin.client.max_batch,
            "emulator": plugin.emulator is not None,
            "documentation": plugin.documentation,
        }
        if as_json:
            click.echo(json.dumps(row))
        else:
            click.echo(
                f"{name:<14} {plugin.title:<30} {source:<28} batch {plugin.client.max_batch:<4} "
                f"{'emulator' if plugin.emulator else 'no emulator'}"
            )
    if broken:
        raise click.ClickException(f"{broken} vendor plugin(s) cannot be loaded")
    if not vendor_names():
        raise click.ClickException("no vendor plugin is installed")
