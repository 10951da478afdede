"""``scimbridge vendors``: the vendor plugins installed, which a target's ``vendor:`` may name."""

from __future__ import annotations

import json

import click

from scimbridge.commands.emulate import emulators_installed, install_hint
from scimbridge.vendors.plugin import (
    PluginError,
    VendorPlugin,
    distribution_of,
    vendor_names,
    vendor_plugin,
)


def emulator_missing(plugin: VendorPlugin) -> str | None:
    """Why the plugin's emulator cannot be started here (``scimbridge emulate``), or None
    when it can or the plugin ships none. Finding out imports it, as starting it would."""
    if plugin.emulator is None:
        return None
    if not emulators_installed():
        return install_hint()
    try:
        plugin.load_emulator()
    except PluginError as error:
        return str(error)
    return None


@click.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object per vendor, one a line.")
def vendors(as_json: bool) -> None:
    """List the installed vendor plugins: name, product, distribution and version, batch size,
    whether an emulator ships with it and is installed. Exit 1 if a plugin cannot be loaded."""
    broken = 0
    missing: dict[str, list[str]] = {}
    for name in vendor_names():
        try:
            plugin = vendor_plugin(name)
            source = distribution_of(name)
        except PluginError as error:
            broken += 1
            click.echo(f"error: {error}", err=True)
            continue
        reason = emulator_missing(plugin)
        if reason is not None:
            missing.setdefault(reason, []).append(name)
        row = {
            "vendor": name,
            "title": plugin.title,
            "distribution": source,
            "max_batch": plugin.client.max_batch,
            "emulator": plugin.emulator is not None,
            "emulator_installed": plugin.emulator is not None and reason is None,
            "documentation": plugin.documentation,
        }
        if as_json:
            click.echo(json.dumps(row))
        else:
            emulator = "no emulator" if plugin.emulator is None else "emulator"
            if reason is not None:
                emulator += " not installed"
            click.echo(
                f"{name:<14} {plugin.title:<30} {source:<28} batch {plugin.client.max_batch:<4} "
                f"{emulator}"
            )
    for reason, names in missing.items():
        click.echo(f"emulator not installed ({', '.join(names)}): {reason}", err=True)
    if broken:
        raise click.ClickException(f"{broken} vendor plugin(s) cannot be loaded")
    if not vendor_names():
        raise click.ClickException("no vendor plugin is installed")
