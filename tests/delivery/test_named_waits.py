"""A wait a vendor names is honoured up to ``delivery.give_up_after_seconds`` (issue 22, item 5).

``Retry-After: 999999999999`` (RFC 9110 §10.2.3 sets no bound) names a moment past the
last date a ``datetime`` holds. Read as it is, settling the batch raised OverflowError,
the entries stayed claimed, and every lease sent the batch again. Aria sends
``Retry-After``; Rocket.Chat ``X-RateLimit-Reset``, epoch milliseconds as far ahead.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from scimbridge.store import utc
from scimbridge.store.delivery_tables import outbox
from scimbridge.testing.live import LiveBridge, scim_user, start_live

FOREVER = 999_999_999_999
GIVE_UP_AFTER = 3600
LEASE = 30
FAULTED_CALL = {
    "aria": "/api/auth/sources/",  # the import
    "rocketchat": "import.run",  # the call that applies the import
}


@pytest.fixture(params=sorted(FAULTED_CALL))
def refused_for_ever(
    request: pytest.FixtureRequest, tmp_path: Any, database_url: str
) -> Iterator[LiveBridge]:
    """A live bridge whose vendor answers the user's first import with a 429 asking to wait
    ~31,700 years, and which has tried it once."""
    live, stop = start_live(
        tmp_path,
        request.param,
        database_url,
        delivery={"give_up_after_seconds": GIVE_UP_AFTER, "lease_seconds": LEASE},
    )
    live.emulator.fault(status=429, retry_after=FOREVER, path=FAULTED_CALL[live.vendor])
    assert live.scim("POST", "/Users", scim_user("ada")).status_code == 201
    live.worker.run_once()
    yield live
    stop()


def the_entry(live: LiveBridge) -> Any:
    with live.bridge.database.transaction() as session:
        return session.execute(select(outbox)).one()


def test_an_enormous_vendor_wait_reschedules_the_entry_within_give_up_after(refused_for_ever):
    live = refused_for_ever
    entry = the_entry(live)
    assert (entry.state, entry.error_kind, entry.failures, entry.claimed_by) == (
        "pending",
        "unavailable",
        0,
        None,
    )
    assert utc(entry.next_attempt_at) <= live.clock() + timedelta(seconds=GIVE_UP_AFTER)


def test_an_enormous_vendor_wait_is_not_sent_again_when_the_lease_runs_out(refused_for_ever):
    live = refused_for_ever
    before = live.emulator.requests()
    live.clock.advance(LEASE + 1)
    live.worker.run_once()
    assert live.emulator.requests() == before
    assert len(live.emulator.requests(FAULTED_CALL[live.vendor])) == 1
