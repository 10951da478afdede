"""The lease's heartbeat: one thread per client renews while a request is in flight."""

from __future__ import annotations

import threading
import time

import pytest

from scimbridge.vendors.base import Interrupted
from scimbridge.vendors.heartbeat import Heartbeat

INTERVAL = 0.02


def lease_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == "test-lease"]


@pytest.fixture
def heartbeat():
    beating = Heartbeat("test", INTERVAL, Interrupted)
    yield beating
    beating.close()


def test_a_request_longer_than_the_interval_is_renewed_while_in_flight(heartbeat):
    renewals: list[float] = []
    with heartbeat.during(lambda: renewals.append(time.monotonic())):
        time.sleep(INTERVAL * 10)
    assert len(renewals) >= 2


def test_nothing_is_renewed_once_the_request_is_done(heartbeat):
    renewals: list[float] = []
    with heartbeat.during(lambda: renewals.append(time.monotonic())):
        time.sleep(INTERVAL * 3)
    done = len(renewals)
    time.sleep(INTERVAL * 5)
    assert len(renewals) == done


def test_a_short_request_is_not_renewed(heartbeat):
    renewals: list[float] = []
    with heartbeat.during(lambda: renewals.append(time.monotonic())):
        pass
    time.sleep(INTERVAL * 3)
    assert renewals == []


def test_one_thread_serves_every_request_of_the_client(heartbeat):
    for _ in range(50):
        with heartbeat.during(lambda: None):
            pass
    assert len(lease_threads()) == 1


def test_a_lease_lost_in_flight_is_raised_once_the_request_is_done(heartbeat):
    calls: list[int] = []

    def lost() -> None:
        calls.append(1)
        raise Interrupted("the lease was taken over")

    with pytest.raises(Interrupted, match="taken over"), heartbeat.during(lost):
        time.sleep(INTERVAL * 6)
    assert calls == [1]


def test_the_lost_lease_replaces_the_requests_own_error(heartbeat):
    def lost() -> None:
        raise Interrupted("the lease was taken over")

    with pytest.raises(Interrupted), heartbeat.during(lost):
        time.sleep(INTERVAL * 3)
        raise TimeoutError("the vendor did not answer")


def test_a_failed_renewal_is_tried_again(heartbeat):
    attempts: list[int] = []

    def flaky() -> None:
        attempts.append(1)
        if len(attempts) == 1:
            raise RuntimeError("database is locked")

    with heartbeat.during(flaky):
        time.sleep(INTERVAL * 10)
    assert len(attempts) >= 2


def test_the_next_request_after_a_lost_lease_is_renewed_again(heartbeat):
    def lost() -> None:
        raise Interrupted("lost")

    with pytest.raises(Interrupted), heartbeat.during(lost):
        time.sleep(INTERVAL * 3)
    renewals: list[float] = []
    with heartbeat.during(lambda: renewals.append(time.monotonic())):
        time.sleep(INTERVAL * 10)
    assert renewals


def test_closing_stops_the_thread(heartbeat):
    with heartbeat.during(lambda: None):
        pass
    heartbeat.close()
    assert lease_threads() == []
