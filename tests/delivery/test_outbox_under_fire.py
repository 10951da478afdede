"""The outbox under fire: outages park nobody, a poison entry fails alone, leases are renewed and
fenced, a stopping worker gives its batch back, and old snapshots are purged.

The worker's own rules are specified here with a scripted vendor client; the
outage is played against every vendor's emulator, whose final state is asserted.
"""

from __future__ import annotations

import pytest
import yaml
from click.testing import CliRunner
from outbox_doubles import AUTH, config_document, patch, states, unavailable
from pending_age import backdate_pending, is_age
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from test_end_to_end import PATCH, VIEWS, scim_user, vendor_users

from scimbridge.cli import main
from scimbridge.delivery.backoff import retry_delay
from scimbridge.store.delivery_tables import links, outbox
from scimbridge.testing.live import LiveBridge
from scimbridge.vendors.base import Outcome


def entries(bridge):
    with bridge.database.transaction() as session:
        return list(session.execute(select(outbox).order_by(outbox.c.seq)))


def the_link(bridge):
    with bridge.database.transaction() as session:
        return session.execute(select(links)).one()


# -- An unavailable vendor is not a failed user ------------------------------------------------


def test_an_unavailable_vendor_never_parks_a_user_by_count(create, worker, vendor, clock, bridge):
    create("ada")
    for _ in range(50):
        vendor.script.append(unavailable())
        assert worker.run_once() == 1
        clock.advance(900)
    [entry] = entries(bridge)
    assert (entry.state, entry.failures, entry.attempts) == ("pending", 0, 50)
    assert entry.error_kind == "unavailable"
    worker.run_once()
    assert states(bridge) == ["delivered"]


def test_a_user_whose_vendor_stays_unavailable_past_give_up_after_is_parked(
    create, worker, vendor, clock, bridge
):
    create("ada")
    vendor.script.append(unavailable())
    worker.run_once()
    clock.advance(bridge.config.target("chat").delivery.give_up_after_seconds)
    vendor.script.append(unavailable())
    worker.run_once()
    [entry] = entries(bridge)
    assert entry.state == "failed"
    assert (
        "given up: the vendor has been unavailable to this entry for 72.0 hours" in entry.last_error
    )


def test_a_new_write_during_an_outage_restarts_the_give_up_clock(
    client, create, worker, vendor, clock, bridge
):
    ada = create("ada")
    give_up = bridge.config.target("chat").delivery.give_up_after_seconds
    vendor.script.append(unavailable())
    worker.run_once()
    clock.advance(give_up / 2)
    patch(client, ada["id"], {"op": "replace", "path": "name.givenName", "value": "Augusta"})
    clock.advance(give_up / 2 + 60)
    vendor.script.append(unavailable())
    worker.run_once()
    assert states(bridge) == ["superseded", "pending"]


# -- A poison entry fails alone --------------------------------------------------------------


def poisoned(deliver):
    """A client that raises on one user's data, as a bug would."""

    def deliver_or_raise(items):
        if any(item.record.get("username") == "poison" for item in items):
            raise ValueError("cannot handle this user")
        return deliver(items)

    return deliver_or_raise


def test_a_client_error_on_one_user_fails_that_user_alone(
    create, worker, vendor, bridge, monkeypatch
):
    for name in ("ada", "poison", "bob"):
        create(name)
    monkeypatch.setattr(vendor, "deliver", poisoned(vendor.deliver))
    worker.run_once()
    ada, poison, bob = entries(bridge)
    assert (ada.state, bob.state) == ("delivered", "delivered")
    assert (poison.state, poison.failures, poison.error_kind) == ("pending", 1, "failed")
    assert poison.last_error == (
        "unexpected error while delivering to rocketchat: ValueError: cannot handle this user"
    )


def test_a_client_error_repeated_max_attempts_times_parks_the_user(
    create, worker, vendor, bridge, clock, monkeypatch
):
    create("poison")
    monkeypatch.setattr(vendor, "deliver", poisoned(vendor.deliver))
    for _ in range(bridge.config.target("chat").delivery.max_attempts):
        assert worker.run_once() == 1
        clock.advance(60)
    assert worker.run_once() == 0
    [entry] = entries(bridge)
    assert (entry.state, entry.failures) == ("failed", 4)


def test_a_mapping_error_on_one_user_fails_that_user_alone(
    create, worker, vendor, bridge, monkeypatch
):
    for name in ("ada", "poison"):
        create(name)
    mapping = bridge.mappings["chat"]
    apply = mapping.apply

    def apply_or_raise(document, groups, context):
        if document["userName"] == "poison":
            raise KeyError("name")
        return apply(document, groups, context)

    monkeypatch.setattr(mapping, "apply", apply_or_raise)
    worker.run_once()
    ada, poison = entries(bridge)
    assert ada.state == "delivered"
    assert [item.record["username"] for item in vendor.delivered()] == ["ada"]
    assert (poison.failures, poison.last_error) == (
        1,
        "unexpected error while mapping the user: KeyError: 'name'",
    )


# -- Leases and fences -----------------------------------------------------------------------


def test_the_database_refuses_a_second_claimed_entry_for_one_user(client, create, bridge):
    ada = create("ada")
    patch(client, ada["id"], {"op": "replace", "path": "name.givenName", "value": "Augusta"})
    with pytest.raises(IntegrityError), bridge.database.transaction() as session:
        session.execute(update(outbox).values(claimed_by="worker-x/1"))
    assert [entry.claimed_by for entry in entries(bridge)] == [None, None]


def test_the_late_outcome_of_a_worker_whose_lease_was_taken_over_is_discarded(
    create, client, bridge, vendor, clock, new_worker, caplog
):
    ada = create("ada")
    first, second = new_worker(), new_worker()
    lease = bridge.config.target("chat").delivery.lease_seconds

    def overtaken(items):
        clock.advance(lease + 1)
        assert second.run_once() == 1, "the second worker takes the expired claim over"
        return [Outcome(key=item.key, ok=False, error="late refusal") for item in items]

    vendor.script.append(overtaken)
    first.run_once()
    [entry] = entries(bridge)
    assert (entry.state, entry.last_error, entry.attempts) == ("delivered", None, 1)
    assert client.get(f"/scim/v2/chat/Users/{ada['id']}", headers=AUTH).status_code == 200
    assert the_link(bridge).last_error is None
    assert "discarded" in caplog.text


def test_a_worker_waiting_on_the_vendor_keeps_its_lease(create, bridge, vendor, clock, new_worker):
    create("ada")
    first, second = new_worker(), new_worker()
    lease = bridge.config.target("chat").delivery.lease_seconds

    def slow_job(items):
        for _ in range(3):
            clock.advance(lease * 0.6)
            vendor.keep_alive()
            assert second.run_once() == 0, "the claim was taken over while renewed"
        return [vendor.accept(item) for item in items]

    vendor.script.append(slow_job)
    assert first.run_once() == 1
    assert states(bridge) == ["delivered"]
    assert len(vendor.batches) == 1


def test_a_worker_that_lost_its_lease_stops_waiting(create, bridge, vendor, clock, new_worker):
    create("ada")
    first, second = new_worker(), new_worker()
    lease = bridge.config.target("chat").delivery.lease_seconds
    waited_out = []

    def overtaken_while_waiting(items):
        first_lease = vendor.keep_alive
        clock.advance(lease + 1)
        assert second.run_once() == 1
        vendor.keep_alive = first_lease  # the two workers share this one client double
        vendor.wait(60)
        waited_out.append(True)
        return [Outcome(key=item.key, ok=False, error="late refusal") for item in items]

    vendor.script.append(overtaken_while_waiting)
    first.run_once()
    assert waited_out == []
    assert states(bridge) == ["delivered"]


def test_a_stopping_worker_gives_its_batch_back_uncounted(
    create, bridge, vendor, worker, new_worker
):
    create("ada")

    waited_out = []

    def stopped_while_waiting(items):
        worker.stopping.set()
        vendor.wait(60)
        waited_out.append(True)
        return [vendor.accept(item) for item in items]

    vendor.script.append(stopped_while_waiting)
    worker.run_once()
    assert waited_out == []
    [entry] = entries(bridge)
    assert (entry.state, entry.attempts, entry.claimed_by, entry.claimed_until) == (
        "pending",
        0,
        None,
        None,
    )
    assert new_worker().run_once() == 1
    assert states(bridge) == ["delivered"]


def test_a_stopping_worker_claims_nothing_more(create, worker, vendor):
    create("ada")
    worker.stopping.set()
    assert worker.run_once() == 0
    assert vendor.batches == []


# -- Retention -------------------------------------------------------------------------------


def test_finished_entries_lose_their_user_snapshot_after_the_retention(
    client, create, drain, bridge, clock, new_worker
):
    ada = create("ada")
    patch(client, ada["id"], {"op": "replace", "path": "name.givenName", "value": "Augusta"})
    drain()
    create("bob", active=False)
    clock.advance(bridge.config.target("chat").delivery.retention_seconds + 1)
    create("cyd")
    new_worker().run_once()
    superseded, delivered, bob, cyd = entries(bridge)
    assert (superseded.state, superseded.document, superseded.groups) == ("superseded", {}, [])
    assert (delivered.state, delivered.document) == ("delivered", {})
    assert delivered.purged_at is not None
    assert bob.document["userName"] == "bob", "finished after the retention started"
    assert cyd.document["userName"] == "cyd"


def test_a_former_users_tombstone_keeps_only_what_reprovisioning_needs(
    client, create, drain, bridge, clock, new_worker, vendor
):
    ada = create("ada", externalId="00u-ada")
    drain()
    assert client.delete(f"/scim/v2/chat/Users/{ada['id']}", headers=AUTH).status_code == 204
    drain()
    vendor_id = the_link(bridge).vendor_id
    clock.advance(bridge.config.target("chat").delivery.retention_seconds + 1)
    new_worker().run_once()
    tombstone = the_link(bridge)
    assert tombstone.vendor_record is None
    assert (tombstone.external_id, tombstone.user_name, tombstone.vendor_id) == (
        "00u-ada",
        "ada",
        vendor_id,
    )
    create("ada", externalId="00u-ada")
    drain()
    assert vendor.delivered()[-1].vendor_id == vendor_id


def test_a_snapshot_is_kept_while_the_user_has_an_open_entry(
    client, create, bridge, clock, vendor, worker, new_worker
):
    ada = create("ada")
    vendor.script.append(unavailable())
    worker.run_once()
    clock.advance(bridge.config.target("chat").delivery.retention_seconds + 1)
    new_worker().run_once()
    [entry] = entries(bridge)
    assert entry.document["id"] == ada["id"]


# -- What operators see ----------------------------------------------------------------------


def target_gauges(live: LiveBridge) -> dict[str, float]:
    """The target's gauges on ``/metrics``, as Prometheus parses them."""
    text = live.http.get(f"{live.url}/metrics", timeout=10).text
    return {
        sample.name: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.labels == {"target": "aria"}
    }


@pytest.mark.parametrize("live", ["aria"], indirect=True)
def test_status_and_metrics_show_a_target_waiting_on_its_vendor(live):
    live.scim("POST", "/Users", scim_user("ada"))
    live.scim("POST", "/Users", scim_user("bob"))
    live.emulator.fault(status=503, times=1000)
    live.worker.run_once()
    oldest = backdate_pending(live.bridge.database, 7200, 3600)
    status = live.scim("GET", "/Status").json()
    assert status["status"] == "degraded"
    assert is_age(status["oldest_pending_seconds"], oldest), status
    gauges = target_gauges(live)
    assert gauges["scimbridge_target_degraded"] == 1
    assert is_age(gauges["scimbridge_outbox_oldest_pending_seconds"], oldest), gauges
    end_outage(live)
    live.drain()
    status = live.scim("GET", "/Status").json()
    assert (status["status"], status["oldest_pending_seconds"]) == ("ok", 0)
    assert target_gauges(live)["scimbridge_target_degraded"] == 0


# -- A long outage, against every vendor ------------------------------------------------------


def end_outage(live: LiveBridge) -> None:
    emulator = live.emulator.emulator
    with emulator.lock:
        emulator.faults.clear()


@pytest.mark.parametrize("live_on", list(VIEWS), indirect=True)
def test_a_six_hour_outage_parks_nobody_and_every_user_arrives_once_after(live_on):
    live = live_on
    names = [f"user{n}" for n in range(5)]
    created = {name: live.scim("POST", "/Users", scim_user(name)).json() for name in names}
    live.emulator.fault(status=503, times=1_000_000)
    for step in range(36):
        live.worker.run_once()
        live.clock.advance(600)
        if step == 18:
            operation = {"op": "replace", "path": "name.givenName", "value": "Renamed"}
            live.scim(
                "PATCH",
                f"/Users/{created['user0']['id']}",
                {"schemas": [PATCH], "Operations": [operation]},
            )
    assert not [entry for entry in entries(live.bridge) if entry.state == "failed"]
    assert all(entry.failures == 0 for entry in entries(live.bridge))
    assert live.emulator.users() == []
    end_outage(live)
    live.drain()
    users = vendor_users(live)
    assert sorted(users) == names
    given_name = VIEWS[live.vendor].given_name(users["user0"])
    assert given_name in (None, "Renamed")


def test_outbox_purge_drops_snapshots_now(tmp_path, create, drain, bridge, database_url):
    """``scimbridge outbox purge --older-than 0``: an admin applies a shorter period at once."""
    create("ada")
    drain()
    config = tmp_path / "bridge.yaml"
    config.write_text(yaml.safe_dump(config_document(database_url)))
    result = CliRunner().invoke(
        main, ["outbox", "purge", "--config", str(config), "--older-than", "0"]
    )
    assert result.exit_code == 0, result.output
    assert result.output == "chat: 1 entry and 0 former users purged\n"
    assert entries(bridge)[0].document == {}


def test_a_wait_the_vendor_names_replaces_a_longer_exponential_backoff(bridge):
    """After many tries the exponential wait is long; a 429's reset says when the vendor
    takes calls again, so that is when the entry comes due (plus at most 10 % jitter)."""
    policy = bridge.config.target("chat").delivery
    for _ in range(100):
        assert 5.0 <= retry_delay(10, policy, retry_after=5.0) <= 5.5
        assert retry_delay(10, policy) >= policy.max_backoff_seconds / 2
