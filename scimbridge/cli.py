"""The ``scimbridge`` command (click, as Flask's own CLI)."""

from __future__ import annotations

import json
import logging
import signal
import threading
from pathlib import Path
from typing import Any

import click

from scimbridge.app import Bridge, create_app
from scimbridge.commands.common import config_option, open_bridge, open_reading, read_config
from scimbridge.commands.config import config
from scimbridge.commands.emulate import emulate, require_emulators
from scimbridge.commands.mapping import mapping
from scimbridge.commands.outbox import outbox
from scimbridge.commands.reconcile import reconcile
from scimbridge.commands.vendors import vendors
from scimbridge.config import BridgeConfig, ConfigError
from scimbridge.delivery.redelivery import would_change
from scimbridge.observability.health import TargetStatus, delivery_status
from scimbridge.observability.logs import configure_logging, configured_secrets
from scimbridge.reconcile.checks import DriftState


def log_as_configured(config: BridgeConfig) -> None:
    """Log in the configured format and level, the configuration's secrets redacted."""
    configure_logging(config.log_level, config.log_format, configured_secrets(config))


WAITRESS_OPTIONS: dict[str, Any] = {"ident": "scimbridge", "clear_untrusted_proxy_headers": False}
"""waitress removes ``Forwarded`` and ``X-Forwarded-*`` from every request unless told
otherwise (``clear_untrusted_proxy_headers``, true since waitress 2): the bridge reads
them itself, from the peers in ``trusted_proxies`` only (:mod:`scimbridge.scim.locations`,
:mod:`scimbridge.scim.throttle`), and ignores them from any other."""


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
        waitress_serve(app, host=host, port=port, threads=threads, **WAITRESS_OPTIONS)
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
    log_as_configured(config)
    serve_app(config, host, port, threads, config.worker if worker is None else worker)


@main.command()
@config_option
@click.option("--poll", default=1.0, show_default=True, help="Seconds between idle polls.")
@click.option(
    "--metrics-port",
    type=click.IntRange(1, 65535),
    help="Serve this worker's delivery and vendor metrics for Prometheus on this port (default: off).",
)
@click.option(
    "--metrics-host",
    default="127.0.0.1",
    show_default=True,
    help="Address the metrics port listens on.",
)
def worker(
    config_path: str | None, poll: float, metrics_port: int | None, metrics_host: str
) -> None:
    """Deliver the outbox in this process (run several for throughput; PostgreSQL advised)."""
    from prometheus_client import start_http_server

    from scimbridge.delivery.worker import Worker
    from scimbridge.observability.metrics import DeliveryMetrics

    config = read_config(config_path)
    log_as_configured(config)
    bridge = open_bridge(config)
    metrics = DeliveryMetrics(targets=config.targets)
    if metrics_port is not None:
        # The outbox gauges are left to the serving processes' /metrics: they read the same
        # database, and one source of them keeps Prometheus from seeing each twice.
        start_http_server(metrics_port, metrics_host, registry=metrics.registry)
        click.echo(
            f"scimbridge worker: metrics at http://{metrics_host}:{metrics_port}/metrics", err=True
        )
    stop = threading.Event()
    for stopping_signal in (signal.SIGTERM, signal.SIGINT):
        signal.signal(stopping_signal, lambda *_: stop.set())
    click.echo("scimbridge worker: delivering; Ctrl-C or SIGTERM to stop", err=True)
    Worker(
        config,
        bridge.database,
        bridge.mappings,
        metrics=metrics,
        directories=bridge.directories,
    ).run(stop, poll)
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
    """Serve the bridge on SQLite in front of the bundled vendor emulators."""
    require_emulators()
    from scimbridge.demo import DEMO_TOKEN, start_emulators, write_demo_config

    configure_logging("INFO", "text")
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
    example = next(iter(emulators))
    click.echo(
        f"\nTry (any target: {', '.join(emulators)}):\n"
        f"  curl -s -H 'Authorization: Bearer {DEMO_TOKEN}' "
        f"-H 'Content-Type: application/scim+json' http://127.0.0.1:{port}/scim/v2/{example}/Users "
        """-d '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ada","""
        """"name":{"givenName":"Ada","familyName":"Lovelace"},"""
        """"emails":[{"value":"ada@example.com","type":"work","primary":true}]}'\n""",
        err=True,
    )
    serve_app(config, "127.0.0.1", port, 8, worker=True)


@main.command()
@config_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object per target, one a line.")
def status(config_path: str | None, as_json: bool) -> None:
    """Each target's delivery: outbox counts, the oldest pending entry's age, its state (ok,
    degraded, or credentials refused, with the vendor's refusal on a line of its own), and,
    on a line of its own when there are any, how many delivered users the current
    mapping would change (``--json``: ``mapping_changes``, 0 when none) and what the last
    scheduled drift check found (``drift``). Vendor secrets need not be set."""
    config, bridge = open_reading(config_path)
    changes = {target.name: bridge.changes_of(target) for target in config.targets}
    for target in delivery_status(bridge.database, config.targets, changes):
        if as_json:
            click.echo(json.dumps(target.as_json()))
            continue
        counts = " ".join(f"{state}={count}" for state, count in target.outbox.items())
        click.echo(
            f"{target.target:<16} {target.vendor:<11} {target.state + ' ':<9}"
            f"{counts}  oldest pending {target.oldest_pending_seconds:.0f} s"
        )
        if target.credentials_refused is not None:
            click.echo(f"{'':<16} {refusal_line(target)}")
        if target.mapping_changes:
            click.echo(f"{'':<16} {would_change(target.mapping_changes)}")
        if target.drift is not None:
            click.echo(f"{'':<16} {drift_line(target.drift)}")


def refusal_line(target: TargetStatus) -> str:
    """What ``status`` says of a target whose vendor refuses the bridge's credentials."""
    since = target.refused_since.strftime("%Y-%m-%d %H:%M:%SZ") if target.refused_since else "?"
    return (
        f"credentials refused since {since}: {target.credentials_refused} "
        "(entries wait, uncounted; delivered once a login succeeds)"
    )


def drift_line(drift: DriftState) -> str:
    """What ``status`` says of a target's scheduled drift check."""
    if drift.completed_at is None:
        return "drift: no check completed yet" + (" (one is under way)" if drift.under_way else "")
    when = drift.completed_at.strftime("%Y-%m-%d %H:%M:%SZ")
    found = drift.drifting()
    summary = f"{found} user(s) or account(s) drifting" if found else "in step"
    return f"drift: {summary} at the check of {when} (scimbridge reconcile --target shows them)"


main.add_command(config)
main.add_command(outbox)
main.add_command(mapping)
main.add_command(emulate)
main.add_command(vendors)
main.add_command(reconcile)
