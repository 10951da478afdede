"""The Flask application factory and the bridge extension it installs.

Following Flask's extension pattern, everything a request needs (the
database, one SCIM endpoint per target) hangs off ``app.extensions["scimbridge"]``,
built once at start-up from a validated :class:`~scimbridge.config.BridgeConfig`.
Start-up fails on a bad configuration or mapping file, never on an unreachable
vendor: delivery retries that later.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

from flask import Flask, Response, jsonify
from scim2_models import Resource
from sqlalchemy import text

from scimbridge.config import BridgeConfig, ConfigError, Target, load_config
from scimbridge.delivery.outbox import Outbox
from scimbridge.delivery.state import (
    VISIBLE_STATES,
    TargetHealth,
    delivery_counts,
    target_health,
)
from scimbridge.delivery.storage import DeliveryStateStorage
from scimbridge.delivery.worker import Worker
from scimbridge.mapping import Mapping, MappingFileError, load_mapping
from scimbridge.scim.blueprint import scim
from scimbridge.scim.endpoint import ScimEndpoint
from scimbridge.scim.locations import Locations
from scimbridge.scim.provider import build_provider
from scimbridge.scim.service import BridgeService
from scimbridge.store import Database
from scimbridge.vendors import client_for


def mapping_label(target: Target) -> str:
    """How messages name a target's mapping file: as the configuration wrote it, or by its
    file name alone when that is an absolute path, since refusals reach identity providers
    in SCIM error details and must never show a server path."""
    path = Path(target.mapping_file)
    return path.name if path.is_absolute() else str(path)


def load_mappings(config: BridgeConfig) -> dict[str, Mapping]:
    """Every target's mapping file, checked against its vendor.

    :raises ConfigError: naming the file, line and key of the first problem.
    """
    mappings = {}
    for target in config.targets:
        label = mapping_label(target)
        try:
            mapping = load_mapping(target.mapping_file, label)
        except MappingFileError as error:
            where = f" (the file {target.mapping_file})" if label != target.mapping_file else ""
            raise ConfigError(f"target {target.name}: {error}{where}") from None
        if mapping.vendor != target.vendor:
            raise ConfigError(
                f"target {target.name}: {target.mapping_file} maps for {mapping.vendor!r}, "
                f"but the target's vendor is {target.vendor!r}"
            )
        mappings[target.name] = mapping
    return mappings


def check_vendor_options(config: BridgeConfig) -> None:
    """Build each target's vendor client once, so that a missing option stops start-up.

    Building a client reads the target's credentials and options but does not
    call the vendor: an unreachable vendor never stops the bridge.

    :raises ConfigError: naming the target and the option.
    """
    for target in config.targets:
        try:
            client_for(target).close()
        except ValueError as error:
            raise ConfigError(str(error)) from None


class Bridge:
    """The running bridge: configuration, database, mappings and one SCIM endpoint per target."""

    def __init__(self, config: BridgeConfig, database: Database | None = None):
        self.config = config
        self.mappings = load_mappings(config)
        check_vendor_options(config)
        self.database = database or Database(config.database)
        self.database.upgrade()
        self.service = BridgeService(
            build_provider(config), max_filter_terms=config.max_filter_terms
        )
        self.locations = Locations.of(config)
        self.storages = {target.name: self._storage(target) for target in config.targets}
        self.endpoints = {
            name: ScimEndpoint(
                config.target(name), self.service, storage, self.database, config.max_payload_bytes
            )
            for name, storage in self.storages.items()
        }
        self.worker: tuple[threading.Thread, threading.Event] | None = None

    def _storage(self, target: Target) -> DeliveryStateStorage:
        """The target's storage, with its outbox listening to every write."""
        user_type = self.service.get_resource_type("User")
        storage: DeliveryStateStorage

        def groups_of(user_ids: list[str]) -> dict[str, list[str]]:
            return {
                user_id: [name for _, name in groups if name]
                for user_id, groups in storage.groups_of(user_ids).items()
            }

        def users_by_id(user_ids: list[str]) -> dict[str, Resource]:
            return {user.id: user for user in storage.get_many(user_type, user_ids)}

        outbox = Outbox(target.name, self.mappings[target.name], groups_of, users_by_id)
        storage = DeliveryStateStorage(
            self.database, target.name, listeners=[outbox], provider=self.service.provider
        )
        return storage

    def init_app(self, app: Flask) -> None:
        app.extensions["scimbridge"] = self
        app.register_blueprint(scim)
        self.locations.warn_if_host_decides()
        app.add_url_rule("/healthz", "healthz", self.health)
        app.add_url_rule("/metrics", "metrics", self.metrics)

    def start_worker(self, poll_seconds: float = 1.0) -> None:
        """Deliver in a thread of this process (``scimbridge serve``'s default)."""
        self.worker = Worker(self.config, self.database, self.mappings).start(poll_seconds)

    def stop_worker(self) -> None:
        """Stop the worker thread: it gives back the batch in hand and exits, within the
        longest vendor timeout (a call in flight is let finish or time out)."""
        if self.worker is not None:
            thread, stop = self.worker
            stop.set()
            thread.join(timeout=self.stop_bound_seconds())
            self.worker = None

    def stop_bound_seconds(self) -> float:
        """How long a stopping worker may take: a vendor call in flight, then the settle."""
        return max(target.delivery.timeout_seconds for target in self.config.targets) + 5

    def health(self) -> Response:
        """Ready once the database answers. ``degraded`` names the targets whose vendor
        is unavailable or asked to wait, so a dashboard shows an outage the moment the
        bridge meets it, before anybody's delivery is given up."""
        with self.database.transaction(writing=False):
            self.database.session.execute(text("SELECT 1"))
            counts = delivery_counts(self.database.session)
            health = target_health(self.database.session, self.database.now())
        degraded = sorted(name for name, state in health.items() if state.degraded)
        return jsonify(
            status="degraded" if degraded else "ok",
            targets=sorted(self.endpoints),
            degraded=degraded,
            outbox=counts,
            oldest_pending_seconds={
                name: round(state.oldest_pending_seconds, 1) for name, state in health.items()
            },
        )

    def metrics(self) -> Response:
        """The delivery state for Prometheus (text exposition format 0.0.4), as design.md asks."""
        with self.database.transaction(writing=False):
            counts = delivery_counts(self.database.session)
            health = target_health(self.database.session, self.database.now())
        lines = [
            "# HELP scimbridge_outbox_entries Outbox entries waiting (pending), held for a paused "
            "user (held) or parked (failed).",
            "# TYPE scimbridge_outbox_entries gauge",
        ]
        for target in sorted(self.endpoints):
            for state in VISIBLE_STATES:
                count = counts.get(target, {}).get(state, 0)
                lines.append(
                    f'scimbridge_outbox_entries{{target="{target}",state="{state}"}} {count}'
                )
        lines += [
            "# HELP scimbridge_outbox_oldest_pending_seconds Age of the oldest entry not "
            "delivered yet (0: none).",
            "# TYPE scimbridge_outbox_oldest_pending_seconds gauge",
        ]
        idle = TargetHealth(degraded=False, oldest_pending_seconds=0.0)
        for target in sorted(self.endpoints):
            age = health.get(target, idle).oldest_pending_seconds
            lines.append(f'scimbridge_outbox_oldest_pending_seconds{{target="{target}"}} {age:.1f}')
        lines += [
            "# HELP scimbridge_target_degraded 1 while entries of the target wait on an "
            "unavailable vendor.",
            "# TYPE scimbridge_target_degraded gauge",
        ]
        for target in sorted(self.endpoints):
            degraded = int(health.get(target, idle).degraded)
            lines.append(f'scimbridge_target_degraded{{target="{target}"}} {degraded}')
        return Response("\n".join(lines) + "\n", mimetype="text/plain; version=0.0.4")


def create_app(config: BridgeConfig | str | os.PathLike[str] | None = None) -> Flask:
    """Build the application from a configuration object, a file path, or ``$SCIMBRIDGE_CONFIG``."""
    if not isinstance(config, BridgeConfig):
        config = load_config(config)
    logging.getLogger("scimbridge").setLevel(config.log_level)
    app = Flask("scimbridge")
    Bridge(config).init_app(app)
    return app
