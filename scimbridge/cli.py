"""The ``scimbridge`` command (click, as Flask's own CLI)."""

from __future__ import annotations

import json
import logging
import signal
import sys
import threading
from pathlib import Path

import click

from scimbridge.app import Bridge, create_app
from scimbridge.config import BridgeConfig, ConfigError, load_config
from scimbridge.delivery.retention import purge
from scimbridge.delivery.state import STATES, VISIBLE_STATES, list_entries, retry_failed
from scimbridge.emulators.cli import emulate
from scimbridge.mapping.cli import mapping

config_option = click.option(
    "--config",
    "config_path",
    envvar="SCIMBRIDGE_CONFIG",
    type=click.Path(dir_okay=False),
    help="Bridge configuration file (YAML or JSON). Default: $SCIMBRIDGE_CONFIG.",
)


def configure_logging(level: str = "INFO") -> None:
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)


def read_config(config_path: str | None) -> BridgeConfig:
    try:
        return load_config(config_path)
    except ConfigError as error:
        raise click.ClickException(str(error)) from None


def open_bridge(config: BridgeConfig) -> Bridge:
    try:
        return Bridge(config)
    except ConfigError as error:
        raise click.ClickException(str(error)) from None


def serve_app(config: BridgeConfig, host: str, port: int, threads: int, worker: bool) -> None:
    from waitress import serve as waitress_serve

    try:
        app = create_app(config)
    except ConfigError as error:
        raise click.ClickException(str(error)) from None
    bridge: Bridge = app.extensions["scimbridge"]
    if worker:
        bridge.start_worker()
    # SIGTERM (docker stop, systemd) stops the server as Ctrl-C does: waitress closes
    # on SystemExit, then the worker thread gives its batch back (Bridge.stop_worker).
    signal.signal(signal.SIGTERM, raise_system_exit)
    click.echo(f"scimbridge: SCIM endpoints at http://{host}:{port}/scim/v2/<target>", err=True)
    try:
        waitress_serve(app, host=host, port=port, threads=threads, ident="scimbridge")
    finally:
        bridge.stop_worker()


def raise_system_exit(_signum: int, _frame: object) -> None:
    raise SystemExit(0)


@click.group()
def main() -> None:
    """scimbridge: a SCIM 2.0 service provider in front of vendors' bulk user-import APIs."""


@main.command()
@config_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8080, show_default=True, type=int, help="Port to listen on.")
@click.option("--threads", default=8, show_default=True, type=int, help="Request threads.")
@click.option(
    "--worker/--no-worker",
    default=None,
    help="Run the delivery worker in this process (default: the config's `worker`, true).",
)
def serve(config_path: str | None, host: str, port: int, threads: int, worker: bool | None) -> None:
    """Serve the SCIM endpoints of every configured target at /scim/v2/<target>."""
    config = read_config(config_path)
    configure_logging(config.log_level)
    serve_app(config, host, port, threads, config.worker if worker is None else worker)


@main.command()
@config_option
@click.option("--poll", default=1.0, show_default=True, help="Seconds between idle polls.")
def worker(config_path: str | None, poll: float) -> None:
    """Deliver the outbox in this process (run several for throughput; PostgreSQL advised)."""
    from scimbridge.delivery.worker import Worker

    config = read_config(config_path)
    configure_logging(config.log_level)
    bridge = open_bridge(config)
    stop = threading.Event()
    for stopping_signal in (signal.SIGTERM, signal.SIGINT):
        signal.signal(stopping_signal, lambda *_: stop.set())
    click.echo("scimbridge worker: delivering; Ctrl-C or SIGTERM to stop", err=True)
    Worker(config, bridge.database, bridge.mappings).run(stop, poll)
    click.echo("scimbridge worker: stopped", err=True)


@main.command()
@click.option("--port", default=8080, show_default=True, type=int, help="Port of the bridge.")
@click.option(
    "--name",
    default="scimbridge-demo",
    show_default=True,
    help="Writes NAME.yaml (the configuration) and NAME.db (SQLite) in the current directory.",
)
def demo(port: int, name: str) -> None:
    """Serve the bridge on SQLite in front of the five bundled vendor emulators."""
    from scimbridge.demo import DEMO_TOKEN, start_emulators, write_demo_config

    configure_logging("INFO")
    logging.getLogger("scimbridge.delivery").setLevel(logging.DEBUG)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    emulators = start_emulators()
    database = f"sqlite:///{Path(name + '.db').resolve()}"
    config = write_demo_config(emulators, database, Path(name + ".yaml"))
    for vendor, emulator in emulators.items():
        click.echo(
            f"  emulator {vendor:<11} {emulator.url}  (state: {emulator.origin}/_emulator/state)",
            err=True,
        )
    click.echo(
        f"\nTry:\n  curl -s -H 'Authorization: Bearer {DEMO_TOKEN}' "
        f"-H 'Content-Type: application/scim+json' http://127.0.0.1:{port}/scim/v2/rocketchat/Users "
        """-d '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ada","""
        """"name":{"givenName":"Ada","familyName":"Lovelace"},"""
        """"emails":[{"value":"ada@example.com","type":"work","primary":true}]}'\n""",
        err=True,
    )
    serve_app(config, "127.0.0.1", port, 8, worker=True)


@main.group()
def outbox() -> None:
    """Inspect and retry deliveries."""


@outbox.command("list")
@config_option
@click.option("--target", help="Only this target.")
@click.option(
    "--state",
    type=click.Choice([*STATES, "all"]),
    default=None,
    help="Default: pending, held and failed.",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def outbox_list(
    config_path: str | None, target: str | None, state: str | None, as_json: bool
) -> None:
    """List outbox entries (pending, held and failed by default)."""
    states = {None: VISIBLE_STATES, "all": STATES}.get(state, (state,))
    bridge = open_bridge(read_config(config_path))
    with bridge.database.transaction():
        entries = list_entries(bridge.database.session, target, states)
    for entry in entries:
        if as_json:
            click.echo(json.dumps(entry, default=str))
        else:
            click.echo(
                f"#{entry['seq']:<6} {entry['target']:<12} {entry['state']:<10} {entry['event']:<7} "
                f"{entry['user_name']:<30} attempts={entry['attempts']} "
                f"vendor_id={entry['vendor_id'] or '-'} {entry['last_error'] or ''}".rstrip()
            )
    if not entries and not as_json:
        click.echo("no entries", err=True)


@outbox.command("retry")
@config_option
@click.option("--target", help="Only this target.")
@click.argument("seqs", nargs=-1, type=int)
def outbox_retry(config_path: str | None, target: str | None, seqs: tuple[int, ...]) -> None:
    """Queue failed entries again (all of them, or the numbered ones)."""
    bridge = open_bridge(read_config(config_path))
    with bridge.database.transaction():
        count = retry_failed(bridge.database.session, target, list(seqs))
    click.echo(f"{count} entr{'y' if count == 1 else 'ies'} queued again")


@outbox.command("purge")
@config_option
@click.option("--target", help="Only this target.")
@click.option(
    "--older-than",
    type=click.FloatRange(min=0),
    help="Seconds since the entry was finished. Default: each target's delivery.retention_seconds.",
)
def outbox_purge(config_path: str | None, target: str | None, older_than: float | None) -> None:
    """Drop the user snapshots of delivered and superseded entries past their retention.

    The worker does this on its own once an hour; run it to apply a shorter period now
    (``--older-than 0`` after a user asked to be forgotten).
    """
    config = read_config(config_path)
    if target and config.target(target) is None:
        raise click.ClickException(f"no target named {target!r} in the configuration")
    bridge = open_bridge(config)
    for chosen in config.targets:
        if target and chosen.name != target:
            continue
        with bridge.database.transaction() as session:
            purged = purge(session, chosen, bridge.database.now(), older_than)
        click.echo(
            f"{chosen.name}: {purged.entries} entr{'y' if purged.entries == 1 else 'ies'} and "
            f"{purged.tombstones} former user{'' if purged.tombstones == 1 else 's'} purged"
        )


main.add_command(mapping)
main.add_command(emulate)
