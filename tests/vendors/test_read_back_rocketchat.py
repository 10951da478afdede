"""Rocket.Chat read-back (reconcile): ``users.list`` paged through the bridge's client, each
user in the import record's shape, against a bridge that delivered to the emulator."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import select

from scimbridge.mapping import MappedRecord
from scimbridge.mapping.context import Action
from scimbridge.reconcile.compare import Difference, differences
from scimbridge.store.delivery_tables import links
from scimbridge.testing.live import LiveBridge, scim_user, start_live
from scimbridge.vendors.base import VendorAccount, VendorClient, VendorUnavailable

PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
MANAGED = {"roles": ("admin",)}
"""The one role the shipped mapping manages ("Chat Admins")."""


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveBridge]:
    live, stop = start_live(tmp_path, "rocketchat")
    yield live
    stop()


def client_of(live: LiveBridge) -> VendorClient:
    return live.worker.client(live.bridge.config.targets[0])


def read_all(client: VendorClient) -> list[VendorAccount]:
    """Every page of the listing, from the first until no cursor is left."""
    page = client.accounts(None)
    accounts = list(page.accounts)
    while page.next_cursor is not None:
        page = client.accounts(page.next_cursor)
        accounts += page.accounts
    return accounts


def delivered(live: LiveBridge, *names: str) -> None:
    for name in names:
        assert live.scim("POST", "/Users", scim_user(name)).status_code == 201
    live.drain()


def linked(live: LiveBridge) -> dict[str, tuple[str, dict[str, Any]]]:
    """Per user name the bridge linked, the vendor id and the record last sent."""
    with live.bridge.database.transaction():
        rows = live.bridge.database.session.execute(
            select(links.c.user_name, links.c.vendor_id, links.c.vendor_record)
        ).all()
    return {row.user_name: (row.vendor_id, row.vendor_record) for row in rows}


def drift(client: VendorClient, sent: dict[str, Any], held: VendorAccount) -> list[Difference]:
    mapped = MappedRecord(Action.IMPORT, sent, managed=MANAGED)
    return differences(mapped, held.record, client.account_keys, client.account_key)


def by_username(accounts: list[VendorAccount]) -> dict[str, VendorAccount]:
    return {account.record["username"]: account for account in accounts}


def person(username: str, **fields: Any) -> dict[str, Any]:
    """What Administration > Users requires of a new user."""
    return {
        "username": username,
        "name": username.title(),
        "emails": [{"address": f"{username}@example.com", "verified": False}],
        **fields,
    }


def test_delivered_users_read_back_with_their_link_and_no_difference(live: LiveBridge) -> None:
    delivered(live, "ada", "bob")
    client = client_of(live)

    accounts = {account.vendor_id: account for account in read_all(client)}

    for vendor_id, sent in linked(live).values():
        assert accounts[vendor_id].active
        assert drift(client, sent, accounts[vendor_id]) == []
    assert len(accounts) == 2


def test_a_user_reads_back_in_the_record_shape(live: LiveBridge) -> None:
    delivered(live, "ada")

    [account] = read_all(client_of(live))

    assert account.record == {
        "username": "ada",
        "name": "Ada Tester",
        "emails": ["ada@example.com"],
        "roles": ["user"],
        "type": "user",
    }


def test_a_deactivated_user_reads_back_inactive(live: LiveBridge) -> None:
    delivered(live, "ada")
    [ada] = live.scim("GET", "/Users").json()["Resources"]
    deactivate = {"op": "replace", "value": {"active": False}}
    live.scim("PATCH", f"/Users/{ada['id']}", {"schemas": [PATCH], "Operations": [deactivate]})
    live.drain()

    [account] = read_all(client_of(live))

    assert account.active is False
    assert live.emulator.users()[0]["active"] is False


def test_an_admin_rename_reads_back_as_a_difference(live: LiveBridge) -> None:
    delivered(live, "ada")
    renamed = requests.patch(  # RunningEmulator.admin_change takes no field called name
        f"{live.emulator.origin}/_emulator/admin/accounts/ada",
        json={"name": "Ada Lovelace"},
        timeout=5,
    )
    assert renamed.status_code == 200
    client = client_of(live)
    [(_, sent)] = linked(live).values()

    [account] = read_all(client)

    assert drift(client, sent, account) == [Difference("name", "Ada Lovelace", "Ada Tester")]


def test_an_admin_granted_managed_role_reads_back_as_a_difference(live: LiveBridge) -> None:
    delivered(live, "ada")
    live.emulator.admin_change("ada", roles=["user", "admin"])
    client = client_of(live)
    [(_, sent)] = linked(live).values()

    [account] = read_all(client)

    assert [difference.field for difference in drift(client, sent, account)] == ["roles"]


def test_a_role_the_mapping_does_not_manage_is_no_difference(live: LiveBridge) -> None:
    delivered(live, "ada")
    live.emulator.admin_change("ada", roles=["user", "livechat-agent"])
    client = client_of(live)
    [(_, sent)] = linked(live).values()

    [account] = read_all(client)

    assert account.record["roles"] == ["user", "livechat-agent"]
    assert drift(client, sent, account) == []


def test_an_email_differing_only_in_case_is_no_difference(live: LiveBridge) -> None:
    delivered(live, "ada")
    live.emulator.admin_change("ada", emails=[{"address": "ADA@Example.com", "verified": True}])
    client = client_of(live)
    [(_, sent)] = linked(live).values()

    [account] = read_all(client)

    assert drift(client, sent, account) == []


def test_an_account_the_admin_created_is_listed_and_not_excluded(live: LiveBridge) -> None:
    created = live.emulator.admin_create(**person("cid"))
    client = client_of(live)

    [account] = read_all(client)

    assert account.vendor_id == created["_id"]
    assert client.excluded(account) is None


def test_the_bridges_own_account_and_rocket_cat_are_excluded(tmp_path: Path) -> None:
    live, stop = start_live(tmp_path, "rocketchat", workspace_users=True)
    try:
        client = client_of(live)
        accounts = by_username(read_all(client))
    finally:
        stop()

    assert accounts["bridge.admin"].vendor_id == live.emulator.credentials["user_id"]
    assert "credentials.user_id" in (client.excluded(accounts["bridge.admin"]) or "")
    assert "rocket.cat" in (client.excluded(accounts["rocket.cat"]) or "")


def test_a_bot_and_an_app_user_are_excluded(live: LiveBridge) -> None:
    live.emulator.admin_create(**person("helper.bot", type="bot", roles=["bot"]))
    live.emulator.admin_create(**person("poll.app", type="app", roles=["app"]))
    client = client_of(live)

    accounts = read_all(client)

    assert [bool(client.excluded(account)) for account in accounts] == [True, True]


def test_more_accounts_than_a_page_are_each_listed_once(live: LiveBridge) -> None:
    created = {live.emulator.admin_create(**person(f"staff{n:03}"))["_id"] for n in range(230)}
    client = client_of(live)

    first = client.accounts(None)
    accounts = read_all(client)

    assert (len(first.accounts), first.total) == (100, 230)
    assert sorted(account.vendor_id for account in accounts) == sorted(created)


def test_a_503_on_a_page_raises_and_the_same_cursor_continues(live: LiveBridge) -> None:
    created = {live.emulator.admin_create(**person(f"staff{n:03}"))["_id"] for n in range(150)}
    client = client_of(live)
    first = client.accounts(None)
    live.emulator.fault(status=503, path="users.list")

    with pytest.raises(VendorUnavailable):
        client.accounts(first.next_cursor)
    rest = client.accounts(first.next_cursor)

    assert rest.next_cursor is None
    listed = [account.vendor_id for account in first.accounts + rest.accounts]
    assert sorted(listed) == sorted(created)


def test_a_listing_beyond_the_routes_limit_is_paced_not_refused(tmp_path: Path) -> None:
    """Two calls a second on users.list: the third page waits for the window in place."""
    live, stop = start_live(
        tmp_path,
        "rocketchat",
        options={"rate_limits": {"per_route": {"calls": 2, "seconds": 1}}},
        rate_limit_calls=2,
        rate_limit_seconds=1,
    )
    try:
        for n in range(250):
            live.emulator.admin_create(**person(f"staff{n:03}"))
        accounts = read_all(client_of(live))
        statuses = [logged["status"] for logged in live.emulator.requests("users.list")]
    finally:
        stop()

    assert len({account.vendor_id for account in accounts}) == 250
    assert statuses == [200, 200, 200]
