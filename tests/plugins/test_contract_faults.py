"""``VendorContract``'s cases about a write the vendor applied although its answer came
late or never aim their fault at the create's method, so that a vendor whose listing
shares the create's path (``GET /users`` beside ``POST /users``) has its create delayed,
not the listing a client may send first."""

from __future__ import annotations

from typing import Any

import pytest

from scimbridge.testing import VendorContract


class FaultQueued(Exception):
    """Stops a contract case once it queued its fault: only the fault is looked at."""


class RecordingEmulator:
    def __init__(self) -> None:
        self.faults: list[dict[str, Any]] = []

    def fault(self, **fault: Any) -> None:
        self.faults.append(fault)
        raise FaultQueued


class LiveStandIn:
    def __init__(self) -> None:
        self.emulator = RecordingEmulator()


class SharedPathContract(VendorContract):
    """A vendor creating users with ``PUT /users`` beside its listing, ``GET /users``."""

    vendor = "bulkimport"
    account_field = "email"
    account_id_field = "id"
    import_path = "/users"
    import_method = "PUT"


@pytest.mark.parametrize(
    "case",
    [
        "test_a_timed_out_first_import_then_a_deactivation_leaves_the_account_deprovisioned",
        "test_a_first_import_delivered_twice_leaves_one_account",
    ],
)
def test_a_late_or_lost_answer_is_played_on_the_create_alone(case: str) -> None:
    live = LiveStandIn()

    with pytest.raises(FaultQueued):
        getattr(SharedPathContract(), case)(live)

    [fault] = live.emulator.faults
    assert (fault["method"], fault["path"]) == ("PUT", "/users")
