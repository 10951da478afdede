"""``/metrics``: the families of docs/observability.md, parsed as Prometheus parses them,
after a provisioning run through SCIM against the real Aria emulator."""

from __future__ import annotations

import time
from typing import Any

import yaml
from flask import Flask
from offline import Offline
from pending_age import backdate_pending, is_age
from scrape import Scrape, scrape
from test_end_to_end import scim_user

from scimbridge.app import Bridge
from scimbridge.config import parse_config
from scimbridge.testing.live import TOKEN, LiveBridge, live_config

PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def deactivate(live: LiveBridge, user_id: str) -> None:
    body = {"schemas": [PATCH], "Operations": [{"op": "replace", "value": {"active": False}}]}
    assert live.scim("PATCH", f"/Users/{user_id}", body).status_code == 200


def provision(live: LiveBridge) -> str:
    """Create, update and deactivate a user, each delivered before the next: three deliveries."""
    created = live.scim("POST", "/Users", scim_user("ada"))
    assert created.status_code == 201
    user_id = created.json()["id"]
    live.drain()
    updated = {**scim_user("ada"), "displayName": "Ada Lovelace"}
    assert live.scim("PUT", f"/Users/{user_id}", updated).status_code == 200
    live.drain()
    deactivate(live, user_id)
    live.drain()
    return user_id


def test_families_have_their_prometheus_types(aria: LiveBridge) -> None:
    metrics = scrape(aria)

    assert {
        name: metrics.kind(name)
        for name in (
            "scimbridge_scim_requests",
            "scimbridge_scim_request_duration_seconds",
            "scimbridge_outbox_entries",
            "scimbridge_outbox_oldest_pending_seconds",
            "scimbridge_target_degraded",
            "scimbridge_database_up",
            "scimbridge_deliveries",
            "scimbridge_delivery_retries",
            "scimbridge_vendor_request_duration_seconds",
            "scimbridge_vendor_responses",
            "scimbridge_vendor_rate_limited",
        )
    } == {
        "scimbridge_scim_requests": "counter",
        "scimbridge_scim_request_duration_seconds": "histogram",
        "scimbridge_outbox_entries": "gauge",
        "scimbridge_outbox_oldest_pending_seconds": "gauge",
        "scimbridge_target_degraded": "gauge",
        "scimbridge_database_up": "gauge",
        "scimbridge_deliveries": "counter",
        "scimbridge_delivery_retries": "counter",
        "scimbridge_vendor_request_duration_seconds": "histogram",
        "scimbridge_vendor_responses": "counter",
        "scimbridge_vendor_rate_limited": "counter",
    }


def test_scim_requests_are_counted_by_target_method_and_status(aria: LiveBridge) -> None:
    provision(aria)
    refused = aria.http.get(f"{aria.url}/scim/v2/aria/Users", timeout=10)
    assert refused.status_code == 401

    metrics = scrape(aria)

    requests = "scimbridge_scim_requests_total"
    assert metrics.value(requests, target="aria", method="POST", status="201") == 1
    assert metrics.value(requests, target="aria", method="PUT", status="200") == 1
    assert metrics.value(requests, target="aria", method="PATCH", status="200") == 1
    assert metrics.value(requests, target="aria", method="GET", status="401") == 1


def test_a_request_for_an_unknown_target_is_not_a_label(aria: LiveBridge) -> None:
    response = aria.http.get(
        f"{aria.url}/scim/v2/nosuch/Users", headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert response.status_code == 404

    metrics = scrape(aria)

    assert metrics.total("scimbridge_scim_requests_total", target="nosuch") == 0
    assert metrics.total("scimbridge_scim_requests_total") == 0


def test_scim_latency_is_observed_per_target_and_method(aria: LiveBridge) -> None:
    provision(aria)

    metrics = scrape(aria)

    latency = "scimbridge_scim_request_duration_seconds"
    assert metrics.value(f"{latency}_count", target="aria", method="POST") == 1
    assert metrics.value(f"{latency}_sum", target="aria", method="POST") > 0
    assert metrics.value(f"{latency}_bucket", target="aria", method="POST", le="+Inf") == 1


def test_outbox_depth_shows_pending_writes_and_their_age_then_returns_to_zero(
    aria: LiveBridge,
) -> None:
    aria.scim("POST", "/Users", scim_user("ada"))
    aria.scim("POST", "/Users", scim_user("bob"))
    oldest = backdate_pending(aria.bridge.database, 7200, 3600)
    before = scrape(aria)
    aria.drain()

    after = scrape(aria)

    entries = "scimbridge_outbox_entries"
    assert before.value(entries, target="aria", state="pending") == 2
    age = before.value("scimbridge_outbox_oldest_pending_seconds", target="aria")
    assert is_age(age, oldest), age
    assert {
        state: after.value(entries, target="aria", state=state)
        for state in ("pending", "held", "failed")
    } == {"pending": 0, "held": 0, "failed": 0}
    assert after.value("scimbridge_outbox_oldest_pending_seconds", target="aria") == 0
    assert after.value("scimbridge_target_degraded", target="aria") == 0
    assert after.value("scimbridge_database_up") == 1


def test_deliveries_are_counted_per_target_vendor_and_outcome(aria: LiveBridge) -> None:
    provision(aria)

    metrics = scrape(aria)

    deliveries = "scimbridge_deliveries_total"
    assert metrics.value(deliveries, target="aria", vendor="aria", outcome="delivered") == 3
    assert metrics.value(deliveries, target="aria", vendor="aria", outcome="parked") == 0
    assert metrics.value(deliveries, target="aria", vendor="aria", outcome="unavailable") == 0


def test_vendor_calls_are_timed_and_counted_by_status_class(aria: LiveBridge) -> None:
    provision(aria)

    metrics = scrape(aria)

    latency = "scimbridge_vendor_request_duration_seconds"
    calls = metrics.value(f"{latency}_count", target="aria", vendor="aria")
    assert calls >= 3
    assert metrics.value(f"{latency}_sum", target="aria", vendor="aria") > 0
    answered = metrics.total("scimbridge_vendor_responses_total", target="aria", vendor="aria")
    assert answered == calls
    assert (
        metrics.value(
            "scimbridge_vendor_responses_total", target="aria", vendor="aria", status_class="2xx"
        )
        > 0
    )


def test_a_vendor_429_is_counted_and_its_delivery_retried(aria: LiveBridge) -> None:
    aria.scim("POST", "/Users", scim_user("ada"))
    aria.emulator.fault(status=429, retry_after=1, times=1)
    aria.worker.run_once()
    limited = scrape(aria)
    aria.drain_in_real_time()

    metrics = scrape(aria)

    labels = {"target": "aria", "vendor": "aria"}
    assert limited.value("scimbridge_vendor_rate_limited_total", **labels) == 1
    assert limited.value("scimbridge_vendor_responses_total", **labels, status_class="4xx") >= 1
    assert limited.value("scimbridge_deliveries_total", **labels, outcome="unavailable") == 1
    assert limited.value("scimbridge_target_degraded", target="aria") == 1
    assert metrics.value("scimbridge_deliveries_total", **labels, outcome="delivered") == 1
    assert metrics.value("scimbridge_delivery_retries_total", **labels) == 1


def test_an_unreachable_vendor_is_counted_as_an_error_answer(aria: LiveBridge) -> None:
    aria.scim("POST", "/Users", scim_user("ada"))
    aria.emulator.stop()
    aria.worker.run_once()

    metrics = scrape(aria)

    labels = {"target": "aria", "vendor": "aria"}
    assert metrics.value("scimbridge_vendor_responses_total", **labels, status_class="error") >= 1
    assert metrics.value("scimbridge_target_degraded", target="aria") == 1


def test_each_bridge_counts_in_a_registry_of_its_own(aria: LiveBridge, tmp_path: Any) -> None:
    document = live_config(tmp_path / "other", aria.emulator, "aria")
    (tmp_path / "other").mkdir()
    other = Bridge(parse_config(yaml.safe_dump(document)))
    app = Flask("other")
    other.init_app(app)
    try:
        aria.scim("POST", "/Users", scim_user("ada"))

        mine = scrape(aria)
        theirs = Scrape(app.test_client().get("/metrics").get_data(as_text=True))
    finally:
        other.database.dispose()

    requests = "scimbridge_scim_requests_total"
    assert mine.value(requests, target="aria", method="POST", status="201") == 1
    assert theirs.total(requests) == 0
    assert theirs.value("scimbridge_outbox_entries", target="aria", state="pending") == 0


def test_a_scrape_says_when_the_database_cannot_be_read(offline: Offline) -> None:
    offline.lose_database()

    response = offline.client.get("/metrics")

    metrics = Scrape(response.get_data(as_text=True))
    assert response.status_code == 200
    assert metrics.value("scimbridge_database_up") == 0
    assert "scimbridge_outbox_entries" not in {sample.name for sample in metrics.samples}


def test_the_serving_worker_thread_counts_on_the_bridges_metrics(aria: LiveBridge) -> None:
    labels = {"target": "aria", "vendor": "aria", "outcome": "delivered"}
    aria.bridge.start_worker(poll_seconds=0.05)
    try:
        aria.scim("POST", "/Users", scim_user("ada"))
        deadline = time.monotonic() + 30
        while scrape(aria).value("scimbridge_deliveries_total", **labels) < 1:
            assert time.monotonic() < deadline, "the worker thread never delivered"
            time.sleep(0.05)
    finally:
        aria.bridge.stop_worker()

    assert (
        scrape(aria).value(
            "scimbridge_vendor_request_duration_seconds_count", target="aria", vendor="aria"
        )
        >= 1
    )
