"""The bridge's Prometheus metrics, each bridge in a registry of its own.

Three kinds of families, told apart by where they are true:

- SCIM requests (:class:`ScimMetrics`): counted by the process that answers them;
- deliveries and vendor calls (:class:`DeliveryMetrics`): counted by the process that
  delivers, ``scimbridge serve`` with its worker thread (on its ``/metrics``) or a
  ``scimbridge worker`` (on its ``--metrics-port``);
- the outbox (:class:`OutboxCollector`): read from the database at scrape time, so it is
  the same whichever process delivers, and whichever process is scraped.

A registry per :class:`~scimbridge.app.Bridge`, never prometheus_client's global one: a
process may build several bridges (the tests build hundreds), and each must count its own.
docs/observability.md lists every family.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.exc import SQLAlchemyError

from scimbridge.config import BridgeConfig, Target
from scimbridge.delivery.state import VISIBLE_STATES, delivery_counts, target_health
from scimbridge.observability.calls import status_class
from scimbridge.reconcile.checks import drift_states
from scimbridge.store import Database

log = logging.getLogger("scimbridge.metrics")

SCIM_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
"""Seconds: a lookup takes milliseconds, a 1,000-operation Bulk request tens of seconds."""
VENDOR_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
"""Seconds: vendor APIs answer in tens of milliseconds to seconds, imports up to the timeout."""

OUTCOMES = (
    "delivered",
    "unavailable",
    "retried",
    "parked",
    "discarded",
    "given_back",
    "credentials_refused",
)
"""What a delivery attempt of one outbox entry came to (docs/observability.md):
delivered; rescheduled because the vendor was unavailable (uncounted); refused or failed and
rescheduled (counted toward ``max_attempts``); parked as failed for good; its outcome
discarded because the batch's lease was taken over; given back by a stopping worker; held
for the next login because the vendor refused the bridge's credentials (uncounted)."""


class VendorCalls:
    """The vendor-call series of one target, bound once so that a call only increments."""

    def __init__(self, metrics: DeliveryMetrics, target: str, vendor: str):
        self.latency = metrics.vendor_latency.labels(target, vendor)
        self.rate_limited = metrics.vendor_rate_limited.labels(target, vendor)
        self.responses = {
            status: metrics.vendor_responses.labels(target, vendor, status)
            for status in ("2xx", "3xx", "4xx", "5xx", "error")
        }

    def answered(self, status: int | None, seconds: float) -> None:
        self.latency.observe(seconds)
        self.responses[status_class(status)].inc()
        if status == 429:
            self.rate_limited.inc()


class DeliveryMetrics:
    """What the delivering process counts: outcomes of outbox entries, and vendor calls."""

    def __init__(self, registry: CollectorRegistry | None = None, targets: Iterable[Target] = ()):
        """:param targets: whose series start at 0, so that ``rate()`` sees their first event."""
        self.registry = registry or CollectorRegistry()
        self.deliveries = Counter(
            "scimbridge_deliveries",
            "Delivery attempts of outbox entries, by what they came to.",
            ["target", "vendor", "outcome"],
            registry=self.registry,
        )
        self.retries = Counter(
            "scimbridge_delivery_retries",
            "Delivery attempts of entries that had been tried before.",
            ["target", "vendor"],
            registry=self.registry,
        )
        self.vendor_latency = Histogram(
            "scimbridge_vendor_request_duration_seconds",
            "Time from sending a vendor API request to its answer (or its failure).",
            ["target", "vendor"],
            buckets=VENDOR_BUCKETS,
            registry=self.registry,
        )
        self.vendor_responses = Counter(
            "scimbridge_vendor_responses",
            "Vendor API answers by status class; error: no answer (timeout, refused connection).",
            ["target", "vendor", "status_class"],
            registry=self.registry,
        )
        self.vendor_rate_limited = Counter(
            "scimbridge_vendor_rate_limited",
            "Vendor API answers 429 Too Many Requests.",
            ["target", "vendor"],
            registry=self.registry,
        )
        self.loops = Gauge(
            "scimbridge_delivery_loops",
            "Delivery loops running, by target: delivery.concurrency of them while all is well.",
            ["target", "vendor"],
            registry=self.registry,
        )
        self.loop_restarts = Counter(
            "scimbridge_delivery_loop_restarts",
            "Delivery loops that died (an unexpected error, the database gone) and were restarted.",
            ["target", "vendor"],
            registry=self.registry,
        )
        for target in targets:
            self.loop_restarts.labels(target.name, target.vendor)
            for outcome in OUTCOMES:
                self.deliveries.labels(target.name, target.vendor, outcome)
            self.retries.labels(target.name, target.vendor)
            self.vendor_calls(target.name, target.vendor)

    def loop_restarted(self, target: Target) -> None:
        self.loop_restarts.labels(target.name, target.vendor).inc()

    def loops_running(self, target: Target, count: int) -> None:
        self.loops.labels(target.name, target.vendor).set(count)

    def vendor_calls(self, target: str, vendor: str) -> VendorCalls:
        """The observer a worker hands the target's vendor client."""
        return VendorCalls(self, target, vendor)

    def settled(self, target: Target, outcomes: Mapping[str, int], retries: int) -> None:
        """Count a settled batch, once its transaction committed."""
        for outcome, count in outcomes.items():
            self.deliveries.labels(target.name, target.vendor, outcome).inc(count)
        if retries:
            self.retries.labels(target.name, target.vendor).inc(retries)


class ScimMetrics:
    """What the serving process counts of the SCIM requests it answers."""

    def __init__(self, registry: CollectorRegistry):
        self.requests = Counter(
            "scimbridge_scim_requests",
            "SCIM requests answered, by target, HTTP method and status.",
            ["target", "method", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "scimbridge_scim_request_duration_seconds",
            "Time to answer a SCIM request, from reaching the application to its answer.",
            ["target", "method"],
            buckets=SCIM_BUCKETS,
            registry=registry,
        )

    def answered(self, target: str, method: str, status: int, seconds: float) -> None:
        self.requests.labels(target, method, str(status)).inc()
        self.latency.labels(target, method).observe(seconds)


class OutboxCollector(Collector):
    """The outbox as the database holds it now, read at every scrape."""

    def __init__(self, database: Database, targets: Iterable[str]):
        self.database = database
        self.targets = sorted(targets)

    def describe(self) -> Iterator[Metric]:
        """The families without samples: registering the collector must not query the database."""
        yield from self._families()

    def collect(self) -> Iterator[Metric]:
        entries, oldest, degraded, refused, up = self._families()
        try:
            with self.database.transaction(writing=False) as session:
                counts = delivery_counts(session)
                health = target_health(session, self.database.now())
        except SQLAlchemyError as error:
            log.warning("metrics: the outbox could not be read: %s", type(error).__name__)
            up.add_metric([], 0)
            yield up
            return
        for target in self.targets:
            for state in VISIBLE_STATES:
                entries.add_metric([target, state], counts.get(target, {}).get(state, 0))
            state_of = health.get(target)
            oldest.add_metric([target], state_of.oldest_pending_seconds if state_of else 0.0)
            degraded.add_metric([target], int(state_of.degraded) if state_of else 0)
            refusal = state_of.credentials_refused if state_of else None
            refused.add_metric([target], int(refusal is not None))
        up.add_metric([], 1)
        yield from (entries, oldest, degraded, refused, up)

    @staticmethod
    def _families() -> tuple[GaugeMetricFamily, ...]:
        return (
            GaugeMetricFamily(
                "scimbridge_outbox_entries",
                "Outbox entries waiting (pending), held for a paused user (held) or parked (failed).",
                labels=["target", "state"],
            ),
            GaugeMetricFamily(
                "scimbridge_outbox_oldest_pending_seconds",
                "Age of the target's oldest entry not delivered yet (0: none).",
                labels=["target"],
            ),
            GaugeMetricFamily(
                "scimbridge_target_degraded",
                "1 while entries of the target wait on an unavailable vendor.",
                labels=["target"],
            ),
            GaugeMetricFamily(
                "scimbridge_target_credentials_refused",
                "1 while the vendor refuses the bridge's own credentials for the target: "
                "its entries wait for a login that succeeds.",
                labels=["target"],
            ),
            GaugeMetricFamily(
                "scimbridge_database_up",
                "1 when this scrape could read the outbox from the database.",
            ),
        )


class DriftCollector(Collector):
    """The last complete drift check of each target (``reconcile.interval_seconds``), read
    at every scrape: accounts per finding kind, and when the check completed."""

    def __init__(self, database: Database, targets: Iterable[Target]):
        self.database = database
        self.targets = sorted(
            target.name for target in targets if target.reconcile.interval_seconds is not None
        )

    def describe(self) -> Iterator[Metric]:
        yield from self._families()

    def collect(self) -> Iterator[Metric]:
        accounts, completed = self._families()
        if not self.targets:
            return
        try:
            states = drift_states(self.database, self.targets)
        except SQLAlchemyError as error:
            log.warning("metrics: the drift checks could not be read: %s", type(error).__name__)
            return
        for name, state in states.items():
            if state.completed_at is None:
                continue
            for kind, count in state.counts.items():
                accounts.add_metric([name, kind], count)
            completed.add_metric([name], state.completed_at.timestamp())
        yield from (accounts, completed)

    @staticmethod
    def _families() -> tuple[GaugeMetricFamily, ...]:
        return (
            GaugeMetricFamily(
                "scimbridge_drift_accounts",
                "Users and accounts the target's last complete drift check found, per kind "
                "(differs, missing, active_but_deprovisioned, duplicated, orphan, ...; "
                "orphan_active: the orphans still active).",
                labels=["target", "kind"],
            ),
            GaugeMetricFamily(
                "scimbridge_drift_check_completed_timestamp_seconds",
                "When the target's last drift check completed (Unix time).",
                labels=["target"],
            ),
        )


class BridgeMetrics:
    """Every family of one bridge, in its own registry: what ``/metrics`` shows."""

    def __init__(self, config: BridgeConfig, database: Database):
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)
        self.scim = ScimMetrics(self.registry)
        self.delivery = DeliveryMetrics(self.registry, config.targets)
        self.registry.register(
            OutboxCollector(database, [target.name for target in config.targets])
        )
        self.registry.register(DriftCollector(database, config.targets))

    def exposition(self) -> tuple[bytes, str]:
        """The text exposition format and its content type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
