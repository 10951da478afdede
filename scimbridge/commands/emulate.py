"""``scimbridge emulate VENDOR``: one vendor emulator in the foreground, for demos and curl.

The emulators are imported when the command runs, never when the CLI starts: a
production install serves the bridge without them.
"""

from __future__ import annotations

from importlib import metadata
from pathlib import Path
from typing import Any

import click

import scimbridge
from scimbridge.vendors.plugin import PluginError

PACKAGE_DIRECTORY = Path(scimbridge.__file__).resolve().parent


def install_hint(package_directory: Path = PACKAGE_DIRECTORY) -> str:
    """How to install the emulators beside the scimbridge in ``package_directory``.

    They are the distribution ``scimbridge-emulators`` in the repository's ``emulators/``,
    not published on PyPI: from a clone (scimbridge installed editable, or run from the
    checkout) the hint names that directory; from an installed package it says where to
    get it, since ``pip install 'scimbridge[emulators]'`` finds it on no index.
    """
    checkout = package_directory.parent / "emulators"
    if (checkout / "pyproject.toml").is_file():
        return f"pip install -e {checkout}"
    return (
        "scimbridge-emulators is not published on PyPI: from a clone of scimbridge's "
        f"repository at version {metadata.version('scimbridge')}, pip install ./emulators"
    )


def emulators_installed() -> bool:
    try:
        import scimbridge_emulators  # noqa: F401 - only whether it imports
    except ImportError:
        return False
    return True


def require_emulators() -> None:
    """Stop with the way to install them when the emulators are not installed."""
    if not emulators_installed():
        raise click.ClickException(
            "the vendor emulators are not installed (a production install leaves them out): "
            + install_hint()
        )


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
    """The emulator's constructor options for ``--rate-limit``, where the vendor documents a limit."""
    from scimbridge_emulators import emulated_vendors, emulator_class

    if rate_limit is None:
        return {}
    names = emulator_class(vendor).rate_limit_options
    if names is None:
        limited = [name for name in emulated_vendors() if emulator_class(name).rate_limit_options]
        raise click.UsageError(
            f"--rate-limit applies to {', '.join(limited)}, which document a limit; "
            f"{vendor} does not"
        )
    return dict(zip(names, rate_limit, strict=True))


@click.command()
@click.argument("vendor")
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

    require_emulators()
    from scimbridge_emulators import UnknownVendor, create_emulator, demo_options
    from scimbridge_emulators.base import EXTENSION_KEY

    try:
        options = emulator_options(vendor, rate_limit)
        app = create_emulator(vendor, **options)
    except (UnknownVendor, PluginError) as error:
        raise click.BadParameter(str(error), param_hint="VENDOR") from None
    emulator = app.extensions[EXTENSION_KEY]
    click.echo(f"{vendor} emulator: base_url http://{host}:{port}{emulator.url_prefix}")
    click.echo(f"credentials: the demo credentials, keys {', '.join(emulator.credentials)}")
    for key, value in {**demo_options(vendor), **options}.items():
        click.echo(f"options: {key} = {value}")
    click.echo(f"controls: http://{host}:{port}/_emulator/ (state, requests, faults, reset)")
    run_simple(host, port, app, threaded=True)
