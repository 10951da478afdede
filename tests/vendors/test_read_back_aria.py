"""Aria Operations read-back (reconcile): the client lists every Aria user in the record's
shape, against a bridge that delivered to the emulator and an admin who changed it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from scimbridge.mapping import MappedRecord
from scimbridge.mapping.context import Action
from scimbridge.reconcile.compare import Difference, differences
from scimbridge.store.delivery_tables import links
from scimbridge.testing.contract import create_user, join_group, set_active
from scimbridge.testing.live import LiveBridge, start_live
from scimbridge.vendors.base import VendorAccount, VendorClient, VendorUnavailable

POWER_USER = {"roleName": "PowerUser", "allowAllObjects": True}
READ_ONLY = {"roleName": "ReadOnly", "allowAllObjects": True}


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveBridge]:
    live, stop = start_live(tmp_path, "aria")
    yield live
    stop()


def client_of(live: LiveBridge) -> VendorClient:
    return live.worker.client(live.bridge.config.targets[0])


def read_all(client: VendorClient) -> list[VendorAccount]:
    """Every account, page after page until the client hands out no cursor."""
    accounts, cursor = [], None
    for _ in range(100):
        page = client.accounts(cursor)
        accounts += page.accounts
        cursor = page.next_cursor
        if cursor is None:
            return accounts
    raise AssertionError("the listing never ended")


def by_username(client: VendorClient, username: str) -> VendorAccount:
    [account] = [a for a in read_all(client) if a.record["username"] == username]
    return account


def delivered_links(live: LiveBridge) -> list[dict[str, Any]]:
    with live.bridge.database.transaction():
        rows = live.bridge.database.session.execute(select(links)).mappings().all()
    return [dict(row) for row in rows]


def drift(client: VendorClient, link: dict[str, Any], account: VendorAccount) -> list[Difference]:
    mapped = MappedRecord(Action.IMPORT, link["vendor_record"])
    return differences(mapped, account.record, client.account_keys, client.account_key)


def provisioned(live: LiveBridge, name: str, *groups: str) -> dict[str, Any]:
    """``scim_user(name)`` in ``groups``, delivered; returns its link."""
    user = create_user(live, name)
    for group in groups:
        join_group(live, group, user["id"])
    live.drain()
    [link] = [link for link in delivered_links(live) if link["scim_id"] == user["id"]]
    return link


def test_delivered_users_read_back_active_under_their_link_with_no_differences(
    live: LiveBridge,
) -> None:
    ada = provisioned(live, "ada", "Aria Read Only")
    bob = provisioned(live, "bob", "Aria Administrators", "Aria Operators")
    client = client_of(live)

    accounts = {account.vendor_id: account for account in read_all(client)}

    for link in (ada, bob):
        account = accounts[link["vendor_id"]]
        assert account.active
        assert drift(client, link, account) == []


def test_a_read_back_account_holds_every_record_field_aria_shows(live: LiveBridge) -> None:
    link = provisioned(live, "ada", "Aria Read Only")

    [account] = read_all(client_of(live))

    assert account.record == {
        "id": link["vendor_id"],
        "username": "ada@example.com",
        "firstName": "Ada",
        "lastName": "Tester",
        "emailAddress": "ada@example.com",
        "distinguishedName": "00u-ada",
        "enabled": True,
        "groupIds": [],
        "roleNames": ["ReadOnly"],
        "role-permissions": [READ_ONLY],
    }


def test_a_deactivated_user_reads_back_inactive(live: LiveBridge) -> None:
    link = provisioned(live, "ada")
    set_active(live, link["scim_id"], False)
    live.drain()

    [account] = read_all(client_of(live))

    assert account.active is False
    assert account.record["enabled"] is False


def test_an_admins_change_of_a_managed_field_is_a_difference(live: LiveBridge) -> None:
    link = provisioned(live, "ada")
    live.emulator.admin_change("ada@example.com", firstName="Augusta")
    client = client_of(live)

    [account] = read_all(client)

    assert drift(client, link, account) == [Difference("firstName", "Augusta", "Ada")]


def test_an_admins_disabling_reads_back_inactive_and_as_a_difference(live: LiveBridge) -> None:
    link = provisioned(live, "ada")
    live.emulator.admin_change("ada@example.com", enabled=False)
    client = client_of(live)

    [account] = read_all(client)

    assert account.active is False
    assert drift(client, link, account) == [Difference("enabled", False, True)]


def test_a_role_an_admin_grants_in_aria_reads_back_and_is_no_difference(live: LiveBridge) -> None:
    link = provisioned(live, "ada", "Aria Read Only")
    live.emulator.admin_change("ada@example.com", **{"role-permissions": [READ_ONLY, POWER_USER]})
    client = client_of(live)

    [account] = read_all(client)

    assert account.record["role-permissions"] == [READ_ONLY, POWER_USER]
    assert drift(client, link, account) == []


def test_an_admin_created_account_is_listed_and_not_excluded(live: LiveBridge) -> None:
    created = live.emulator.admin_create(username="carol", firstName="Carol")
    client = client_of(live)

    [account] = read_all(client)

    assert (account.vendor_id, account.record["firstName"]) == (created["id"], "Carol")
    assert client.excluded(account) is None


def test_the_bridges_own_service_account_is_excluded(live: LiveBridge) -> None:
    service = live.emulator.credentials["username"]
    live.emulator.admin_create(username=service.upper())
    client = client_of(live)

    reason = client.excluded(by_username(client, service.upper()))

    assert reason is not None
    assert "service account" in reason


def test_arias_built_in_admin_is_excluded(live: LiveBridge) -> None:
    live.emulator.admin_create(
        username="admin", **{"role-permissions": [{"roleName": "Administrator"}]}
    )
    client = client_of(live)

    reason = client.excluded(by_username(client, "admin"))

    assert reason is not None
    assert "built-in" in reason


def test_more_users_than_a_suite_api_page_are_each_listed_once(live: LiveBridge) -> None:
    """1,001 users: one more than the 1,000 a paged Suite API listing answers by default
    (``pageSize``, e.g. ``GET /api/resources``); ``getUsers`` documents no paging."""
    for n in range(1001):
        live.emulator.admin_create(username=f"user{n}")

    accounts = read_all(client_of(live))

    assert sorted(account.record["username"] for account in accounts) == sorted(
        f"user{n}" for n in range(1001)
    )
    assert len({account.vendor_id for account in accounts}) == 1001


def test_the_page_total_counts_every_user(live: LiveBridge) -> None:
    for n in range(3):
        live.emulator.admin_create(username=f"user{n}")

    page = client_of(live).accounts(None)

    assert (page.total, page.next_cursor) == (3, None)


def test_a_503_on_the_listing_is_unavailable_and_reading_again_continues(live: LiveBridge) -> None:
    live.emulator.admin_create(username="carol")
    live.emulator.fault(status=503, path="/api/auth/users")
    client = client_of(live)

    with pytest.raises(VendorUnavailable):
        client.accounts(None)
    [account] = client.accounts(None).accounts

    assert account.record["username"] == "carol"
