"""The client's own choices, end to end: SCIM in, the emulator's state out.

What the vendor contract does not ask but this vendor's document makes the client
do: keep the groups granted in the product, send CSV a file per set of columns,
poll jobs slower than one poll and check unfinished ones again, never let two users
of one batch share an account, pace itself to the rate limit, and remove accounts.
Only scimbridge's public modules are used (``scimbridge.testing``,
``scimbridge.vendors``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from scimbridge_bulkimport.client import BulkImportClient

from scimbridge.testing import (
    LiveBridge,
    Teardowns,
    create_user,
    delivery_state,
    join_group,
    patch,
    scim_user,
    set_active,
    start_live,
)
from scimbridge.vendors import Action, DeliveryItem

Serve = Callable[..., LiveBridge]


@pytest.fixture(scope="module")
def teardowns() -> Iterator[Teardowns]:
    """Bridges and emulators stopped in the background, joined once the module is done."""
    teardowns = Teardowns()
    yield teardowns
    teardowns.finish()


@pytest.fixture
def serve(tmp_path: Any, teardowns: Teardowns) -> Iterator[Serve]:
    """``serve(options=None, **emulator_options)``: a bridge in front of a new emulator."""
    stops: list[Callable[[], None]] = []

    def serve(options: dict[str, Any] | None = None, **emulator_options: Any) -> LiveBridge:
        live, stop = start_live(
            tmp_path,
            "bulkimport",
            options={"poll_interval_seconds": 0.02, **(options or {})},
            **{"job_seconds": 0.05, **emulator_options},
        )
        stops.append(stop)
        return live

    yield serve
    teardowns.later(*stops)


def account(live: LiveBridge, email: str) -> dict[str, Any]:
    [found] = [user for user in live.emulator.users() if user["email"] == email]
    return found


def group_id(live: LiveBridge, name: str) -> str:
    found = live.scim("GET", f'/Groups?filter=displayName eq "{name}"').json()
    return str(found["Resources"][0]["id"])


def client_of(live: LiveBridge, **options: Any) -> BulkImportClient:
    """A client of the live target, used on its own (nobody holds any account)."""
    target = live.bridge.config.targets[0]
    if options:
        target = target.model_copy(update={"options": {**target.options, **options}})
    return BulkImportClient(target)


@pytest.mark.parametrize("format_", ["json", "csv"])
def test_groups_granted_in_the_product_stay_and_revoked_ones_go(serve, format_):
    live = serve(options={"format": format_})
    ada = create_user(live, "ada")
    join_group(live, "BulkImport Admins", ada["id"])
    live.drain()
    assert account(live, "ada@example.com")["groups"] == ["admins"]
    with live.emulator.emulator.lock:  # an admin of the product adds a group of its own
        live.emulator.emulator.by_email("ada@example.com")["groups"].append("product-own")
    gid = group_id(live, "BulkImport Admins")
    patch(live, f"/Groups/{gid}", {"op": "remove", "path": f'members[value eq "{ada["id"]}"]'})
    live.drain()
    assert account(live, "ada@example.com")["groups"] == ["product-own"]
    set_active(live, ada["id"], False)
    live.drain()
    deactivated = account(live, "ada@example.com")
    assert (deactivated["active"], deactivated["groups"]) == (False, ["product-own"])
    imports = live.emulator.requests("users/import")
    assert all((entry["json"] is None) == (format_ == "csv") for entry in imports)


def test_a_job_slower_than_one_poll_is_polled_until_it_completes(serve):
    live = serve(job_seconds=0.3, options={"poll_interval_seconds": 0.05, "max_polls": 40})
    ada = create_user(live, "ada")
    live.drain()
    assert delivery_state(live, ada["id"])["status"] == "delivered"
    assert len(live.emulator.requests("/jobs/")) > 1
    assert len(live.emulator.requests("users/import")) == 1


def test_a_job_unfinished_after_the_polls_is_checked_again_and_leaves_one_account(serve):
    live = serve(job_seconds=0.5, options={"poll_interval_seconds": 0.05, "max_polls": 2})
    ada = create_user(live, "ada")
    live.worker.run_once()
    state = delivery_state(live, ada["id"])
    assert state["status"] == "pending" and "still" in state["lastError"], state
    for client in live.worker.clients.values():
        assert isinstance(client, BulkImportClient)
        client.max_polls = 40  # the vendor is slow today: the next attempt waits longer
    live.drain()
    assert delivery_state(live, ada["id"])["status"] == "delivered"
    assert len([u for u in live.emulator.users() if u["email"] == "ada@example.com"]) == 1


def test_a_job_that_fails_as_a_whole_is_imported_again(serve):
    live = serve()
    live.emulator.emulator.fail_jobs()
    ada = create_user(live, "ada")
    live.drain()
    assert delivery_state(live, ada["id"])["status"] == "delivered"
    assert account(live, "ada@example.com")["active"] is True


def test_two_users_of_one_batch_with_one_email_never_share_the_account(serve):
    live = serve()
    ada = create_user(live, "ada")
    other = live.scim(
        "POST",
        "/Users",
        {**scim_user("ada"), "userName": "ada.two@example.com", "externalId": "00u-ada-two"},
    ).json()
    live.drain()
    assert len([u for u in live.emulator.users() if u["email"] == "ada@example.com"]) == 1
    states = {user["userName"]: delivery_state(live, user["id"]) for user in (ada, other)}
    assert sorted(state["status"] for state in states.values()) == ["delivered", "failed"]
    [holder] = [name for name, state in states.items() if state["status"] == "delivered"]
    [refused] = [state["lastError"] for state in states.values() if state["status"] == "failed"]
    assert f"is the account of another user of the bridge (userName {holder}," in refused


def test_the_client_keeps_to_the_rate_limit(serve):
    live = serve(
        rate_limit_calls=5,
        rate_limit_seconds=2,
        job_seconds=0,
        options={"rate_limits": {"api": {"calls": 5, "seconds": 2}}},
    )
    users = [create_user(live, name) for name in ("ada", "bob", "cy")]
    for user in users:
        set_active(live, user["id"], False)
        live.drain_in_real_time(30)
        set_active(live, user["id"], True)
        live.drain_in_real_time(30)
    assert 429 not in {entry["status"] for entry in live.emulator.requests()}
    assert all(delivery_state(live, user["id"])["status"] == "delivered" for user in users)
    assert len(live.emulator.requests()) > 10  # more than two windows' worth


# -- the client on its own -----------------------------------------------------------------------


def test_remove_deletes_the_account_and_a_gone_account_is_done(serve):
    live = serve()
    create_user(live, "ada")
    create_user(live, "bob")
    live.drain()
    client = client_of(live)
    ada, bob = account(live, "ada@example.com"), account(live, "bob@example.com")
    removals = [
        DeliveryItem(key="k-ada", action=Action.REMOVE, record={}, vendor_id=ada["id"]),
        DeliveryItem(key="k-bob", action=Action.REMOVE, record={"email": "bob@example.com"}),
    ]
    outcomes = client.deliver(removals)
    assert [(o.ok, o.vendor_id) for o in outcomes] == [(True, ada["id"]), (True, bob["id"])]
    assert live.emulator.users() == []
    again = client.deliver(removals[:1])
    assert again[0].ok
    client.close()


def test_a_deactivation_of_an_account_the_vendor_never_had_is_skipped(serve):
    live = serve()
    client = client_of(live)
    item = DeliveryItem(key="k", action=Action.DISABLE, record={"email": "nobody@example.com"})
    [outcome] = client.deliver([item])
    assert outcome.ok and "skipped" in outcome.details
    assert live.emulator.requests("users/import") == []


def test_the_holder_of_an_email_is_its_accounts_id_whatever_its_case(serve):
    live = serve()
    create_user(live, "ada")
    live.drain()
    client = client_of(live)

    holders = client.holders("email", ["ADA@example.com", "free@example.com"])

    assert holders == {
        "ADA@example.com": account(live, "ada@example.com")["id"],
        "free@example.com": None,
    }


def test_csv_fails_alone_a_group_name_it_cannot_carry(serve):
    live = serve()
    client = client_of(live, format="csv")
    items = [
        DeliveryItem(key="ok", action=Action.IMPORT, record={"email": "a@x.org", "groups": ["a"]}),
        DeliveryItem(
            key="bad", action=Action.IMPORT, record={"email": "b@x.org", "groups": ["a;b"]}
        ),
    ]
    ok, bad = client.deliver(items)
    assert ok.ok and not bad.ok and not bad.retryable
    assert "CSV" in (bad.error or "")
    assert [user["email"] for user in live.emulator.users()] == ["a@x.org"]


def test_an_unknown_format_is_refused_when_the_client_is_built(serve):
    live = serve()
    with pytest.raises(ValueError, match=r"options\.format"):
        client_of(live, format="xml")
