"""A vendor back from an outage gets the target's waiting users at once (issue 25, item 3).

Each entry an outage postponed backs off on its own, up to ``delivery.max_backoff_seconds``
(15 minutes by default): after a 10-minute outage most waited minutes more once the vendor
answered again. Now the vendor's first answer (to a probe: an entry tried early while all
back off) makes every one of them due. Time is the worker's clock, moved by the test.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from test_end_to_end import vendor_users

from scimbridge.testing.live import LiveBridge, scim_user, start_live

USERS = tuple(f"user{number}" for number in range(8))
OUTAGE_SECONDS = 600
ROUND_SECONDS = 1.0
DEFAULT_BACKOFF = {"backoff_seconds": 2.0, "max_backoff_seconds": 900.0, "timeout_seconds": 1}
"""``delivery``'s defaults (config.Delivery), which the live bridge's test backoffs replace."""


def arrived(live: LiveBridge) -> set[str]:
    return {identity.split("@")[0] for identity in vendor_users(live)} & set(USERS)


def rounds(live: LiveBridge, seconds: float, step: float = ROUND_SECONDS) -> None:
    """Deliver a round every ``step`` seconds of the worker's clock for ``seconds``."""
    for _ in range(int(seconds / step)):
        live.clock.advance(step)
        live.worker.run_once()


@pytest.fixture(params=["aria", "cloudshell"])
def after_outage(
    request: pytest.FixtureRequest, tmp_path: Any, database_url: str
) -> Iterator[LiveBridge]:
    """A live bridge with the default backoff whose vendor answered 503 to everything for
    ten minutes, while the users were written, and answers again now."""
    live, stop = start_live(tmp_path, request.param, database_url, delivery=DEFAULT_BACKOFF)
    live.emulator.fault(status=503, times=1_000_000)
    for name in USERS:
        assert live.scim("POST", "/Users", scim_user(name)).status_code == 201
        rounds(live, OUTAGE_SECONDS / len(USERS), step=5.0)
    assert arrived(live) == set()
    with live.emulator.emulator.lock:
        live.emulator.emulator.faults.clear()
    yield live
    stop()


def test_every_waiting_user_is_delivered_within_30_s_of_the_vendors_return(after_outage):
    for _ in range(int(30 / ROUND_SECONDS)):
        rounds(after_outage, ROUND_SECONDS)
        if arrived(after_outage) == set(USERS):
            break
    assert arrived(after_outage) == set(USERS)


def test_a_wait_the_vendor_named_is_not_cut_short_by_its_next_answer(tmp_path, database_url):
    """A 429's ``Retry-After`` is when the vendor takes the call again (RFC 9110 §10.2.3):
    the answer to another user is no sign it would take this one sooner."""
    live, stop = start_live(tmp_path, "aria", database_url, delivery=DEFAULT_BACKOFF)
    try:
        live.emulator.fault(status=429, retry_after=600, path="/api/auth/sources/")
        assert live.scim("POST", "/Users", scim_user("user0")).status_code == 201
        live.worker.run_once()
        assert live.scim("POST", "/Users", scim_user("user1")).status_code == 201
        rounds(live, 30)
        assert arrived(live) == {"user1"}
    finally:
        stop()
