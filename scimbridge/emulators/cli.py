"""``scimbridge emulate VENDOR``: one vendor emulator in the foreground, for demos and curl."""

from __future__ import annotations

from typing import Any

import click

from scimbridge.emulators import DEMO_OPTIONS, EMULATORS, create_emulator
from scimbridge.emulators.base import EXTENSION_KEY

RATE_LIMIT_OPTIONS = {
    "rocketchat": ("rate_limit_calls", "rate_limit_seconds"),
    "acc": ("write_limit", "limit_seconds"),
}
"""Where ``--rate-limit CALLS/SECONDS`` goes: Rocket.Chat's per-route limit, ACC's write
limit and window (ACC's read limit keeps its 600 calls, counted over the same window)."""


def parse_rate_limit(
    _context: click.Context, _parameter: click.Parameter, value: str | None
) -> tuple[int, float] | None:
    if value is None:
        return None
    calls, _, seconds = value.partition("/")
    try:
        parsed = int(calls), float(seconds)
    except ValueError:
        raise click.BadParameter("write it CALLS/SECONDS, e.g. 10/60") from None
    if parsed[0] < 1 or parsed[1] <= 0:
        raise click.BadParameter("a rate limit needs at least one call in a positive window")
    return parsed


def emulator_options(vendor: str, rate_limit: tuple[int, float] | None) -> dict[str, Any]:
    if rate_limit is None:
        return {}
    if vendor not in RATE_LIMIT_OPTIONS:
        raise click.UsageError(
            f"--rate-limit applies to {', '.join(sorted(RATE_LIMIT_OPTIONS))}, "
            f"which document a limit; {vendor} does not"
        )
    return dict(zip(RATE_LIMIT_OPTIONS[vendor], rate_limit, strict=True))


@click.command()
@click.argument("vendor", type=click.Choice(sorted(EMULATORS)))
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=9000, show_default=True, type=int, help="Port to listen on.")
@click.option(
    "--rate-limit",
    metavar="CALLS/SECONDS",
    callback=parse_rate_limit,
    help="Scale the vendor's documented rate limit (rocketchat: per route, default 10/60; "
    "acc: writes, default 100/60).",
)
def emulate(vendor: str, host: str, port: int, rate_limit: tuple[int, float] | None) -> None:
    """Serve the emulator of VENDOR with its demo credentials; control it under /_emulator/."""
    from werkzeug.serving import run_simple

    options = emulator_options(vendor, rate_limit)
    app = create_emulator(vendor, **options)
    emulator = app.extensions[EXTENSION_KEY]
    click.echo(f"{vendor} emulator: base_url http://{host}:{port}{emulator.url_prefix}")
    click.echo(f"credentials: the demo credentials, keys {', '.join(emulator.credentials)}")
    for key, value in {**DEMO_OPTIONS.get(vendor, {}), **options}.items():
        click.echo(f"options: {key} = {value}")
    click.echo(f"controls: http://{host}:{port}/_emulator/ (state, requests, faults, reset)")
    run_simple(host, port, app, threaded=True)
