"""``scimbridge emulate VENDOR``: one vendor emulator in the foreground, for demos and curl."""

from __future__ import annotations

import click

from scimbridge.emulators import DEMO_OPTIONS, EMULATORS, create_emulator
from scimbridge.emulators.base import EXTENSION_KEY


@click.command()
@click.argument("vendor", type=click.Choice(sorted(EMULATORS)))
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=9000, show_default=True, type=int, help="Port to listen on.")
def emulate(vendor: str, host: str, port: int) -> None:
    """Serve the emulator of VENDOR with its demo credentials; control it under /_emulator/."""
    from werkzeug.serving import run_simple

    app = create_emulator(vendor)
    emulator = app.extensions[EXTENSION_KEY]
    click.echo(f"{vendor} emulator: base_url http://{host}:{port}{emulator.url_prefix}")
    click.echo(f"credentials: the demo credentials, keys {', '.join(emulator.credentials)}")
    for key, value in DEMO_OPTIONS.get(vendor, {}).items():
        click.echo(f"options: {key} = {value}")
    click.echo(f"controls: http://{host}:{port}/_emulator/ (state, requests, faults, reset)")
    run_simple(host, port, app, threaded=True)
