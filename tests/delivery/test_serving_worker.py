"""``scimbridge serve`` delivers in a thread of its own, and its status and metrics show what is left."""

from __future__ import annotations

import time

import pytest
from prometheus_client.parser import text_string_to_metric_families
from test_end_to_end import scim_user, vendor_users


def wait_for(condition, seconds=30.0):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "gave up waiting"
        time.sleep(0.05)


@pytest.mark.parametrize("live", ["aria"], indirect=True)
def test_the_worker_thread_delivers_without_being_asked(live):
    live.bridge.start_worker(poll_seconds=0.05)
    try:
        assert live.scim("POST", "/Users", scim_user("ada")).status_code == 201
        wait_for(lambda: "ada" in vendor_users(live))
    finally:
        live.bridge.stop_worker()
    assert live.bridge.worker is None


@pytest.mark.parametrize("live", ["aria"], indirect=True)
def test_the_status_endpoint_counts_pending_deliveries(live):
    live.scim("POST", "/Users", scim_user("ada"))
    pending = live.scim("GET", "/Status")
    assert pending.status_code == 200
    assert pending.json()["outbox"] == {"pending": 1, "held": 0, "failed": 0}
    live.drain()
    assert live.scim("GET", "/Status").json()["outbox"] == {"pending": 0, "held": 0, "failed": 0}


@pytest.mark.parametrize("live", ["aria"], indirect=True)
def test_metrics_expose_the_outbox_counts_to_prometheus(live):
    live.scim("POST", "/Users", scim_user("ada"))
    metrics = live.http.get(f"{live.url}/metrics", timeout=10)
    assert metrics.status_code == 200
    assert metrics.headers["Content-Type"].startswith("text/plain")
    (entries,) = [
        family
        for family in text_string_to_metric_families(metrics.text)
        if family.name == "scimbridge_outbox_entries"
    ]
    assert {sample.labels["state"]: sample.value for sample in entries.samples} == {
        "pending": 1,
        "held": 0,
        "failed": 0,
    }
