"""CloudShell read-back (reconcile): "Get all users" paged through as the bridge's client reads it.

Every test serves a bridge in front of the CloudShell emulator with its system users listed
(the built-in ``admin`` and the login account, as a real listing shows them) and asserts what
the client reads against what the emulator holds and what the links say was sent.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from scimbridge.mapping import MappedRecord
from scimbridge.mapping.context import Action
from scimbridge.reconcile.compare import Difference, differences
from scimbridge.store.delivery_tables import links
from scimbridge.testing import LiveBridge
from scimbridge.testing.contract import create_user, set_active
from scimbridge.testing.live import start_live
from scimbridge.vendors.base import VendorAccount, VendorClient, VendorUnavailable
from scimbridge.vendors.cloudshell import PAGE_LIMIT

MORE_THAN_A_PAGE = PAGE_LIMIT + 10


@pytest.fixture
def live(tmp_path: Any) -> Iterator[LiveBridge]:
    bridge, stop = start_live(tmp_path, "cloudshell", system_users=True)
    yield bridge
    stop()


def client_of(live: LiveBridge) -> VendorClient:
    return live.worker.client(live.bridge.config.targets[0])


def read_all(client: VendorClient) -> list[VendorAccount]:
    """Every account, page after page until ``next_cursor`` is None."""
    found: list[VendorAccount] = []
    cursor = None
    while True:
        page = client.accounts(cursor)
        found += page.accounts
        if page.next_cursor is None:
            return found
        cursor = page.next_cursor


def by_id(accounts: list[VendorAccount]) -> dict[str, VendorAccount]:
    return {account.vendor_id: account for account in accounts}


def link_of(live: LiveBridge, scim_id: str) -> Any:
    with live.bridge.database.transaction() as session:
        return session.execute(select(links).where(links.c.scim_id == scim_id)).one()


def drift(client: VendorClient, wanted: dict[str, Any], account: VendorAccount) -> list[Difference]:
    mapped = MappedRecord(Action.IMPORT, wanted)
    return differences(mapped, account.record, client.account_keys, client.account_key)


def delivered(live: LiveBridge, *names: str) -> list[dict[str, Any]]:
    users = [create_user(live, name) for name in names]
    live.drain()
    return users


def test_delivered_users_read_back_under_their_links_without_differences(live: LiveBridge) -> None:
    users = delivered(live, "ann", "bob")
    client = client_of(live)

    accounts = by_id(read_all(client))

    for user in users:
        link = link_of(live, user["id"])
        account = accounts[link.vendor_id]
        assert account.active
        assert drift(client, link.vendor_record, account) == []


def test_a_read_back_record_holds_the_listed_user_name_and_nothing_cloudshell_does_not_show(
    live: LiveBridge,
) -> None:
    delivered(live, "ann")
    [held] = [user for user in live.emulator.users() if user["Username"] == "ann"]

    account = by_id(read_all(client_of(live)))[str(held["Id"])]

    assert account.record == {"UserName": "ann"}


def test_a_deactivated_user_reads_back_inactive(live: LiveBridge) -> None:
    [ann] = delivered(live, "ann")
    set_active(live, ann["id"], False)
    live.drain()

    account = by_id(read_all(client_of(live)))[link_of(live, ann["id"]).vendor_id]

    assert not account.active


def test_an_admin_deactivation_reads_back_inactive(live: LiveBridge) -> None:
    [ann] = delivered(live, "ann")
    live.emulator.admin_change("ann", IsActive=False)

    account = by_id(read_all(client_of(live)))[link_of(live, ann["id"]).vendor_id]

    assert not account.active


def test_an_admin_change_of_fields_the_mapping_does_not_manage_is_no_difference(
    live: LiveBridge,
) -> None:
    [ann] = delivered(live, "ann")
    live.emulator.admin_change("ann", IsAdmin=True, GroupIds=[1, 3], Email="ann@corp.example")
    client = client_of(live)
    link = link_of(live, ann["id"])

    account = by_id(read_all(client))[link.vendor_id]

    assert drift(client, link.vendor_record, account) == []


def test_a_user_name_the_account_does_not_hold_is_a_difference(live: LiveBridge) -> None:
    """``UserName`` is the one record field CloudShell shows, and no admin can change it
    (edit-user: "Username cannot be modified"): a mapping naming another directory account
    is what drifts."""
    [ann] = delivered(live, "ann")
    client = client_of(live)

    account = by_id(read_all(client))[link_of(live, ann["id"]).vendor_id]

    assert drift(client, {"UserName": "ann.smith"}, account) == [
        Difference("UserName", "ann", "ann.smith")
    ]


def test_a_user_name_held_in_another_case_is_no_difference(live: LiveBridge) -> None:
    [ann] = delivered(live, "ann")
    client = client_of(live)

    account = by_id(read_all(client))[link_of(live, ann["id"]).vendor_id]

    assert drift(client, {"UserName": "ANN"}, account) == []


def test_an_account_the_admin_created_is_listed_and_not_excluded(live: LiveBridge) -> None:
    created = live.emulator.admin_create(Username="carol")
    client = client_of(live)

    account = by_id(read_all(client))[str(created["Id"])]

    assert account.record == {"UserName": "carol"}
    assert account.active
    assert client.excluded(account) is None


def test_the_bridge_service_account_is_excluded(live: LiveBridge) -> None:
    client = client_of(live)
    login = live.emulator.credentials["username"]

    [service] = [a for a in read_all(client) if a.record["UserName"] == login]

    assert client.excluded(service) == "the bridge's service account (credentials.username)"


def test_the_built_in_admin_is_excluded(live: LiveBridge) -> None:
    client = client_of(live)

    [admin] = [a for a in read_all(client) if a.record["UserName"] == "admin"]

    assert client.excluded(admin) == "CloudShell's built-in system administrator"


def test_a_delivered_user_is_not_excluded(live: LiveBridge) -> None:
    [ann] = delivered(live, "ann")
    client = client_of(live)

    account = by_id(read_all(client))[link_of(live, ann["id"]).vendor_id]

    assert client.excluded(account) is None


def test_more_accounts_than_a_page_are_all_listed_once(live: LiveBridge) -> None:
    created = [live.emulator.admin_create(Username=f"u{n}") for n in range(MORE_THAN_A_PAGE)]
    client = client_of(live)

    ids = [account.vendor_id for account in read_all(client)]

    assert len(ids) == len(set(ids))
    assert {str(user["Id"]) for user in created} <= set(ids)
    assert len(live.emulator.requests("/api/v1/users")) == 2


def test_the_listing_asks_for_the_largest_page(live: LiveBridge) -> None:
    read_all(client_of(live))

    [listing] = live.emulator.requests("/api/v1/users")

    assert listing["query"]["paginationProperties.limit"] == str(PAGE_LIMIT)


def test_a_503_on_a_page_is_unavailable_and_the_read_resumes_at_its_cursor(
    live: LiveBridge,
) -> None:
    created = [live.emulator.admin_create(Username=f"u{n}") for n in range(MORE_THAN_A_PAGE)]
    client = client_of(live)
    first = client.accounts(None)
    live.emulator.fault(status=503, path="/api/v1/users")

    with pytest.raises(VendorUnavailable):
        client.accounts(first.next_cursor)
    rest = client.accounts(first.next_cursor)

    ids = [account.vendor_id for account in first.accounts + rest.accounts]
    assert rest.next_cursor is None
    assert len(ids) == len(set(ids))
    assert {str(user["Id"]) for user in created} <= set(ids)
