"""A serving worker lets a batch gather while the IdP is still writing (``delivery.gather_seconds``).

A tenant loaded through SCIM Bulk should go out in a few full imports, not one small
import per round; a single write should wait no longer than ``gather_seconds``, and an
entry never longer than ``gather_limit_seconds``. A direct round (``run_once``,
``deliver_due`` without ``gather``) claims what is due at once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
import yaml
from outbox_doubles import ScriptedVendor, config_document

from scimbridge.app import Bridge
from scimbridge.config import parse_config
from scimbridge.delivery.worker import Worker
from scimbridge.testing import Clock
from scimbridge.vendors.base import DeliveryItem, Outcome


@pytest.fixture
def gather_seconds() -> float:
    return 10


@pytest.fixture
def bridge(database_url: str, gather_seconds: float) -> Iterator[Bridge]:
    """A bridge whose batches gather for ``gather_seconds`` (10 s), for at most 60 s."""
    document = config_document(database_url, gather_seconds=gather_seconds, gather_limit_seconds=60)
    bridge = Bridge(parse_config(yaml.safe_dump(document)))
    yield bridge
    bridge.database.dispose()


def serving_round(worker: Worker, bridge: Bridge) -> int:
    """One round of the target's loop, as ``scimbridge serve`` runs it."""
    return worker.deliver_due(bridge.config.target("chat"), gather=True)


def test_a_partial_batch_waits_while_the_idp_is_still_writing(bridge, worker, vendor, create):
    create("ada")

    assert serving_round(worker, bridge) == 0

    assert vendor.batches == []


def test_a_partial_batch_goes_once_the_idp_stopped_writing(
    bridge, worker, vendor, create, clock: Clock
):
    create("ada")
    create("bob")
    clock.advance(10)

    assert serving_round(worker, bridge) == 2

    assert [[item.record["username"] for item in batch] for batch in vendor.batches] == [
        ["ada", "bob"]
    ]


def test_a_full_batch_goes_at_once_while_the_idp_is_still_writing(bridge, worker, vendor, create):
    for name in ("ada", "bob", "cy", "dee"):
        create(name)

    assert serving_round(worker, bridge) == vendor.max_batch

    assert [item.record["username"] for item in vendor.batches[0]] == ["ada", "bob", "cy"]


def test_an_entry_waits_no_longer_than_the_gather_limit(
    bridge, worker, vendor, create, clock: Clock
):
    create("ada")
    clock.advance(61)
    create("bob")  # written now: the IdP is still writing

    assert serving_round(worker, bridge) == 2


def test_a_direct_round_claims_at_once(bridge, worker, vendor, create):
    create("ada")

    assert worker.run_once() == 1

    assert [item.record["username"] for item in vendor.batches[0]] == ["ada"]


@pytest.mark.parametrize("gather_seconds", [0])
def test_gather_seconds_zero_claims_at_once(bridge, worker, vendor, create):
    create("ada")

    assert serving_round(worker, bridge) == 1


class ClaimingVendor(ScriptedVendor):
    """A vendor taking one user a request, whose client takes five users a delivery."""

    max_batch = 1
    claim_size = 5
    runs_ended = 0

    def deliver(self, items: list[DeliveryItem]) -> list[Outcome]:
        self.batches.append(items)
        return [self.accept(item) for item in items]

    def run_ended(self) -> None:
        self.runs_ended += 1


def test_a_batch_takes_the_clients_claim_size_not_its_request_size(bridge, create, clock: Clock):
    vendor = ClaimingVendor()
    worker = Worker(bridge.config, bridge.database, bridge.mappings, {"chat": vendor}, clock=clock)
    for name in ("ada", "bob", "cy", "dee", "eve", "fay"):
        create(name)

    assert worker.run_once() == 5

    assert len(vendor.batches[0]) == 5


def test_a_round_with_nothing_due_ends_the_clients_run(bridge, create, clock: Clock):
    vendor = ClaimingVendor()
    worker = Worker(bridge.config, bridge.database, bridge.mappings, {"chat": vendor}, clock=clock)
    create("ada")
    worker.run_once()
    assert vendor.runs_ended == 0

    worker.run_once()

    assert vendor.runs_ended == 1


@pytest.mark.parametrize("gather_seconds", [0.3])
def test_a_scim_request_being_written_counts_as_the_idp_still_writing(
    bridge, worker, vendor, create, database_url
):
    """A Bulk request commits once, seconds after its first user: the round waits for it
    (SQLite's write lock) and sees its users, rather than an IdP gone quiet in mid-Bulk."""
    if not database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL lets no reader wait for a transaction's rows before it commits")
    create("ada")
    time.sleep(0.4)
    writing = threading.Event()

    def bulk_request() -> None:
        with bridge.database.transaction():
            create("bob")
            writing.set()
            time.sleep(0.5)
            create("cy")

    request = threading.Thread(target=bulk_request)
    request.start()
    writing.wait()
    delivered = serving_round(worker, bridge)
    request.join()

    assert delivered == 0
    assert vendor.batches == []
