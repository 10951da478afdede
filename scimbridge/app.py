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
from typing import Any

from flask import Flask
from scim2_models import Resource

from scimbridge.config import BridgeConfig, ConfigError, Target, load_config
from scimbridge.delivery.outbox import Outbox, snapshot
from scimbridge.delivery.redelivery import ChangeCounts, would_change
from scimbridge.delivery.storage import DeliveryStateStorage
from scimbridge.delivery.wanted import Directory
from scimbridge.delivery.worker import Worker, stop_bound_seconds
from scimbridge.mapping import Mapping, MappingFileError, load_mapping
from scimbridge.observability import web as observability
from scimbridge.observability.metrics import BridgeMetrics
from scimbridge.scim.blueprint import scim
from scimbridge.scim.endpoint import ScimEndpoint
from scimbridge.scim.locations import Locations
from scimbridge.scim.provider import build_provider
from scimbridge.scim.service import BridgeService
from scimbridge.store import Database
from scimbridge.vendors import client_for, record_shape
from scimbridge.vendors.plugin import PluginError

log = logging.getLogger("scimbridge.config")

ENTRA_ISSUERS = (
    "https://sts.windows.net/",
    "https://login.microsoftonline.com/",
    "https://login.microsoftonline.us/",
    "https://sts.chinacloudapi.cn/",
    "https://login.chinacloudapi.cn/",
)
"""Where Entra ID's access tokens come from: the issuers ``jwt.entra_tenant`` presets, and
those of the US Government and China clouds."""
ENTRA_PROVISIONING_AUDIENCE = "8adf8e6e-67b2-4cf2-a259-e3dc5476c621"
"""The audience of the token Entra ID's provisioning service sends when its Secret Token
is left blank."""


def load_target_mapping(target: Target) -> Mapping:
    """The target's mapping file, checked against its vendor.

    :raises ConfigError: naming the target, and the file, line and key of the problem.
    """
    try:
        label = target.mapping_label  # a default mapping is its plugin's file
        mapping = load_mapping(target.mapping_file, record_shape, label)
    except MappingFileError as error:
        where = f" (the file {target.mapping})" if target.mapping else ""
        raise ConfigError(f"target {target.name}: {error}{where}") from None
    except PluginError as error:
        raise ConfigError(f"target {target.name}: {error}") from None
    if mapping.vendor != target.vendor:
        raise ConfigError(
            f"target {target.name}: {label} maps for {mapping.vendor!r}, "
            f"but the target's vendor is {target.vendor!r}"
        )
    return mapping


def load_mappings(config: BridgeConfig) -> dict[str, Mapping]:
    """Every target's mapping (:func:`load_target_mapping`); start-up stops on the first problem."""
    return {target.name: load_target_mapping(target) for target in config.targets}


def check_vendor_options(config: BridgeConfig) -> None:
    """Build each target's vendor client once, so that an option its declaration cannot
    judge (a rate limit's name, a value out of a vendor's list) stops start-up; the
    declared keys and types were checked when the configuration was read
    (:mod:`scimbridge.vendors.settings`).

    Building a client reads the target's credentials and options but does not
    call the vendor: an unreachable vendor never stops the bridge.

    :raises ConfigError: naming the target and the option.
    """
    for target in config.targets:
        try:
            client_for(target).close()
        except ValueError as error:
            raise ConfigError(str(error)) from None


def provisioned_by_entra(target: Target) -> bool:
    """Whether the configuration shows that Entra ID provisions the target: its
    ``inbound.jwt`` accepts an Entra ID issuer (``entra_tenant`` sets them) or the
    provisioning service's own audience. A target Entra ID calls with a static Secret
    Token cannot be told from any other."""
    jwt = target.inbound.jwt
    if jwt is None:
        return False
    return ENTRA_PROVISIONING_AUDIENCE in jwt.audiences or any(
        issuer.startswith(ENTRA_ISSUERS) for issuer in jwt.issuers
    )


def warn_of_reusable_external_ids(config: BridgeConfig) -> None:
    """Warn, once at start-up, about each Entra ID target whose file does not set
    ``identity.match``.

    Entra ID's default attribute mapping fills ``externalId`` from ``mailNickname``,
    which a directory hands to a new hire once its former holder has left; under the
    default ``identity.match: externalId`` that new hire would get the former employee's
    vendor account (docs/guides/entra-id.md, "Attributes"). Setting the key, to either
    value, says the operator chose: ``externalId`` after mapping ``objectId`` to it.
    """
    for target in config.targets:
        if provisioned_by_entra(target) and "match" not in target.identity.model_fields_set:
            log.warning(
                "target %s: Entra ID fills externalId from mailNickname by default, which is "
                "reused: a new hire could get a former employee's account. Map objectId to "
                "externalId in Entra ID and set identity.match: externalId, or set "
                "identity.match: externalId_and_userName (docs/guides/entra-id.md)",
                target.name,
            )


class Bridge:
    """The running bridge: configuration, database, mappings and one SCIM endpoint per target."""

    def __init__(
        self, config: BridgeConfig, database: Database | None = None, *, vendors: bool = True
    ):
        """The bridge of ``config``, its mappings loaded and its database upgraded.

        :param vendors: False for the commands that only read the database (``status``,
            ``outbox list``): no vendor client is built, so that a configuration read
            without its secrets (``require_env=False``) serves them; such a bridge must
            deliver nothing.
        """
        self.config = config
        self.mappings = load_mappings(config)
        if vendors:
            check_vendor_options(config)
        self.database = database or Database(config.database)
        self.database.upgrade()
        self.service = BridgeService(
            build_provider(config), max_filter_terms=config.max_filter_terms
        )
        self.locations = Locations.of(config)
        self.directories: dict[str, Directory] = {}
        """Each target's stored users and groups, as reconcile reads them."""
        self.storages = {target.name: self._storage(target) for target in config.targets}
        self.mapping_changes = ChangeCounts()
        """How many delivered users each target's current mapping would change, kept for the
        Status endpoint (:class:`~scimbridge.delivery.redelivery.ChangeCounts`)."""
        self.endpoints = {
            target.name: ScimEndpoint(
                target,
                self.service,
                self.storages[target.name],
                self.database,
                config.max_payload_bytes,
            )
            for target in config.targets
        }
        self.worker: tuple[threading.Thread, threading.Event] | None = None
        self.metrics = BridgeMetrics(config, self.database)
        """This bridge's metrics (``/metrics``), in a registry of its own."""

    def _storage(self, target: Target) -> DeliveryStateStorage:
        """The target's storage, with its outbox listening to every write."""
        user_type = self.service.get_resource_type("User")
        storage: DeliveryStateStorage

        def groups_of(user_ids: list[str]) -> dict[str, list[str]]:
            return {
                user_id: [name for _, name in groups if name]
                for user_id, groups in storage.groups_of(user_ids).items()
            }

        def users_by_id(user_ids: list[str]) -> dict[str, Resource[Any]]:
            return {str(user.id): user for user in storage.get_many(user_type, user_ids)}

        def documents_by_id(user_ids: list[str]) -> dict[str, dict[str, Any]]:
            return {user_id: snapshot(user) for user_id, user in users_by_id(user_ids).items()}

        self.directories[target.name] = Directory(documents_by_id, groups_of)
        outbox = Outbox(
            target.name,
            self.mappings[target.name],
            groups_of,
            users_by_id,
            match=target.identity.match,
        )
        storage = DeliveryStateStorage(
            self.database, target.name, listeners=[outbox], provider=self.service.provider
        )
        return storage

    def init_app(self, app: Flask) -> None:
        app.extensions["scimbridge"] = self
        app.register_blueprint(scim)
        self.locations.warn_if_host_decides()
        warn_of_reusable_external_ids(self.config)
        self.warn_of_mapping_changes()
        observability.install(app)

    def warn_of_mapping_changes(self) -> None:
        """Say, once at start-up, for each target whose changed mapping would change delivered
        users, how many, and what brings the vendor in step (docs/mapping.md, "When the
        mapping changes")."""
        for target in self.config.targets:
            count = self.changes_of(target)
            if not count:
                continue
            remedy = (
                "the worker redelivers them while the outbox is idle "
                "(delivery.redeliver_on_mapping_change)"
                if target.delivery.redeliver_on_mapping_change
                else "set delivery.redeliver_on_mapping_change: true to redeliver them, or "
                f"run scimbridge reconcile --target {target.name} --apply"
            )
            log.warning("target %s: %s; %s", target.name, would_change(count), remedy)

    def changes_of(self, target: Target) -> int:
        """How many delivered users the target's current mapping would change (kept)."""
        return self.mapping_changes.count(
            self.database, target, self.mappings[target.name], self.directories[target.name]
        )

    def start_worker(self, poll_seconds: float = 1.0) -> None:
        """Deliver in a thread of this process (``scimbridge serve``'s default)."""
        self.worker = Worker(
            self.config,
            self.database,
            self.mappings,
            metrics=self.metrics.delivery,
            directories=self.directories,
        ).start(poll_seconds)

    def stop_worker(self) -> None:
        """Stop the worker thread: it gives back the batch in hand and exits, within the
        longest vendor timeout (a call in flight is let finish or time out)."""
        if self.worker is not None:
            thread, stop = self.worker
            stop.set()
            thread.join(timeout=self.stop_bound_seconds())
            self.worker = None

    def stop_bound_seconds(self) -> float:
        """How long a stopping worker may take (:func:`~scimbridge.delivery.worker.stop_bound_seconds`)."""
        return stop_bound_seconds(self.config)


def create_app(config: BridgeConfig | str | os.PathLike[str] | None = None) -> Flask:
    """Build the application from a configuration object, a file path, or ``$SCIMBRIDGE_CONFIG``."""
    if not isinstance(config, BridgeConfig):
        config = load_config(config)
    logging.getLogger("scimbridge").setLevel(config.log_level)
    app = Flask("scimbridge")
    Bridge(config).init_app(app)
    return app
