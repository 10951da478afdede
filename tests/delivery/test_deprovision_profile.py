"""A deprovision carries the newest mapped profile where the vendor's call can carry it
(issue 22, item 4): a change folded into a deactivation (one outbox entry carrying both: a
PATCH of both, or a worker that was down) is never dropped, and the values the mapping does
not manage stay as the vendor holds them. Asserted on the emulator's end state.
"""

from __future__ import annotations

import pytest
from test_vendor_truth import account_of, add_aria_role, create, create_group, patch, role_names


@pytest.mark.parametrize("live", ["aria"], indirect=True)
def test_aria_a_rename_folded_into_a_deactivation_arrives_and_arias_own_role_stays(live):
    ada = create(live, "ada")
    create_group(live, "Aria Read Only", ada["id"])
    live.drain()
    with live.emulator.emulator.lock:
        add_aria_role(live.emulator.emulator, account_of(live, "ada"))

    patch(
        live,
        f"/Users/{ada['id']}",
        {"op": "replace", "path": "name.givenName", "value": "Adele"},
        {"op": "replace", "path": "active", "value": False},
    )
    live.drain()

    account = account_of(live, "ada")
    assert account is not None
    assert (account["firstName"], account["enabled"]) == ("Adele", False)
    assert role_names(account) == {"ReadOnly", "PowerUser"}
