"""ACC read-back (reconcile): the project-user listing in the record's shape, against the emulator.

Users are provisioned by a live bridge (:func:`~scimbridge.testing.live.start_live`) and read
back by the bridge's own client; what an admin does in ACC is played by the emulator's admin
controls. Members in no product group hold no access, which is also what a DISABLE leaves,
so the provisioned users join "ACC Members".
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from scimbridge.config import default_mapping
from scimbridge.mapping import MappedRecord
from scimbridge.reconcile.compare import differences
from scimbridge.store.delivery_tables import links
from scimbridge.testing.live import LiveBridge, scim_user, start_live
from scimbridge.vendors.base import Action, VendorAccount, VendorClient, VendorUnavailable

VENDOR = "acc"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
MANAGED_ROLES = (
    "287d5cc2-9008-462c-96e5-c9491db85d97",
    "cda845af-05f0-4c46-9108-71b993946c35",
    "b8e84a73-7506-4d3f-b221-93691df2a359",
)
"""The role ids the shipped mapping grants by group (mappings/acc.yaml, ``roleIds``)."""
DOCS = [{"key": "docs", "access": "member"}]


@pytest.fixture
def live(tmp_path: Any) -> Iterator[LiveBridge]:
    running, stop = start_live(tmp_path, VENDOR)
    yield running
    stop()


@pytest.fixture
def disabling(tmp_path: Any) -> Iterator[LiveBridge]:
    """A bridge whose mapping disables a deactivated user (product access none) instead of
    removing them from the project."""
    text = default_mapping(VENDOR).read_text("utf-8")
    mapping = tmp_path / "acc-disable.yaml"
    mapping.write_text(
        text.replace(
            "  on_deactivate:\n    action: remove", "  on_deactivate:\n    action: disable"
        )
    )
    assert "action: disable" in mapping.read_text("utf-8")
    running, stop = start_live(tmp_path, VENDOR, target={"mapping": str(mapping)})
    yield running
    stop()


def provision(live: LiveBridge, *names: str) -> list[str]:
    """Create these users as members of "ACC Members" and deliver them; their SCIM ids."""
    ids = []
    for name in names:
        response = live.scim("POST", "/Users", scim_user(name))
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    group = {
        "schemas": [GROUP],
        "displayName": "ACC Members",
        "members": [{"value": user_id} for user_id in ids],
    }
    assert live.scim("POST", "/Groups", group).status_code == 201
    live.drain()
    return ids


def client_of(live: LiveBridge) -> VendorClient:
    return live.worker.client(live.bridge.config.targets[0])


def read_all(client: VendorClient) -> list[VendorAccount]:
    accounts, cursor = [], None
    while True:
        page = client.accounts(cursor)
        accounts += page.accounts
        cursor = page.next_cursor
        if cursor is None:
            return accounts


def delivered(live: LiveBridge) -> dict[str, dict[str, Any]]:
    """Per vendor id the link holds, the record last sent."""
    with live.bridge.database.transaction() as session:
        rows = session.execute(select(links.c.vendor_id, links.c.vendor_record)).all()
    return {row.vendor_id: row.vendor_record for row in rows}


def drift(
    client: VendorClient, account: VendorAccount, sent: dict[str, Any], **managed: Any
) -> list[str]:
    mapped = MappedRecord(Action.IMPORT, sent, managed=managed)
    return [
        found.field
        for found in differences(mapped, account.record, client.account_keys, client.account_key)
    ]


def account_named(accounts: list[VendorAccount], email: str) -> VendorAccount:
    [found] = [account for account in accounts if account.record["email"] == email]
    return found


def test_delivered_users_read_back_active_under_their_link_ids_without_differences(
    live: LiveBridge,
) -> None:
    provision(live, "ada", "bob", "cy")
    client = client_of(live)

    accounts = {account.vendor_id: account for account in read_all(client)}

    sent = delivered(live)
    assert len(sent) == 3 and set(accounts) == set(sent)
    for vendor_id, record in sent.items():
        assert accounts[vendor_id].active
        assert drift(client, accounts[vendor_id], record) == []


def test_a_member_reads_back_the_record_fields_the_bridge_can_keep(live: LiveBridge) -> None:
    """Names are the Autodesk account's: no PATCH changes them, so they are not read back."""
    provision(live, "ada")
    [member] = live.emulator.users()

    [account] = read_all(client_of(live))

    assert account.record == {
        "email": "ada@example.com",
        "userId": member["id"],
        "companyId": member["companyId"],
        "roleIds": [],
        "products": member["products"],
    }


def test_a_deactivated_user_reads_back_inactive(disabling: LiveBridge) -> None:
    [ada] = provision(disabling, "ada")
    deactivate = {"op": "replace", "value": {"active": False}}
    disabling.scim("PATCH", f"/Users/{ada}", {"schemas": [PATCH], "Operations": [deactivate]})
    disabling.drain()

    [account] = read_all(client_of(disabling))

    assert not account.active
    assert all(product["access"] == "none" for product in account.record["products"])


def test_a_removed_user_is_not_read_back(live: LiveBridge) -> None:
    [ada] = provision(live, "ada", "bob")[:1]
    assert live.scim("DELETE", f"/Users/{ada}").status_code == 204
    live.drain()

    accounts = read_all(client_of(live))

    assert [account.record["email"] for account in accounts] == ["bob@example.com"]


def test_an_admins_change_of_the_company_reads_back_as_a_difference(live: LiveBridge) -> None:
    provision(live, "ada")
    live.emulator.admin_change("ADA@example.com", companyId="company-set-in-acc")
    client = client_of(live)

    [account] = read_all(client)

    assert account.record["companyId"] == "company-set-in-acc"
    assert drift(client, account, delivered(live)[account.vendor_id]) == ["companyId"]


def test_an_admins_change_of_a_managed_products_access_is_a_difference(live: LiveBridge) -> None:
    provision(live, "ada")
    [member] = live.emulator.users()
    raised = [
        {**product, "access": "administrator"} if product["key"] == "docs" else product
        for product in member["products"]
    ]
    live.emulator.admin_change("ada@example.com", products=raised)
    client = client_of(live)

    [account] = read_all(client)

    assert drift(client, account, delivered(live)[account.vendor_id]) == ["products"]


def test_a_product_the_record_does_not_name_granted_in_acc_is_no_difference(
    live: LiveBridge,
) -> None:
    provision(live, "ada")
    [member] = live.emulator.users()
    live.emulator.admin_change(
        "ada@example.com", products=[*member["products"], {"key": "autoSpecs", "access": "member"}]
    )
    client = client_of(live)

    [account] = read_all(client)

    assert {"key": "autoSpecs", "access": "member"} in account.record["products"]
    assert drift(client, account, delivered(live)[account.vendor_id]) == []


def test_a_role_set_in_acc_that_the_mapping_does_not_manage_is_no_difference(
    live: LiveBridge,
) -> None:
    provision(live, "ada")
    live.emulator.admin_change("ada@example.com", roleIds=["role-set-in-acc"])
    client = client_of(live)

    [account] = read_all(client)

    assert account.record["roleIds"] == ["role-set-in-acc"]
    sent = delivered(live)[account.vendor_id]
    assert drift(client, account, sent, roleIds=MANAGED_ROLES) == []


def test_a_managed_role_the_users_groups_do_not_grant_is_a_difference(live: LiveBridge) -> None:
    provision(live, "ada")
    live.emulator.admin_change("ada@example.com", roleIds=[MANAGED_ROLES[2]])
    client = client_of(live)

    [account] = read_all(client)

    sent = delivered(live)[account.vendor_id]
    assert drift(client, account, sent, roleIds=MANAGED_ROLES) == ["roleIds"]


def test_a_member_the_admin_added_is_listed_and_not_excluded(live: LiveBridge) -> None:
    provision(live, "ada")
    added = live.emulator.admin_create(email="carol@example.com", firstName="Carol", products=DOCS)
    client = client_of(live)

    carol = account_named(read_all(client), "carol@example.com")

    assert carol.vendor_id == added["id"] and carol.active
    assert client.excluded(carol) is None


def test_the_admin_the_bridge_acts_as_by_autodesk_id_is_excluded(live: LiveBridge) -> None:
    user_id = live.emulator.credentials["user_id"]
    live.emulator.admin_create(email="admin@example.com", autodeskId=user_id, products=DOCS)
    client = client_of(live)

    admin = account_named(read_all(client), "admin@example.com")

    assert "User-Id" in (client.excluded(admin) or "")


def test_the_admin_the_bridge_acts_as_by_acc_id_is_excluded(harness: Any) -> None:
    admin = harness.emu.admin_create(email="admin@example.com", products=DOCS)
    client = harness.client(credentials={"user_id": admin["id"]})

    [account] = read_all(client)

    assert "User-Id" in (client.excluded(account) or "")


def test_more_members_than_one_page_are_all_listed_once(harness: Any) -> None:
    emails = [f"member{n}@example.com" for n in range(450)]
    for email in emails:
        harness.emu.admin_create(email=email, products=DOCS)
    client = harness.client()

    accounts = read_all(client)

    assert sorted(account.record["email"] for account in accounts) == sorted(emails)
    pages = harness.sent("/users", method="GET")
    assert [read["query"]["offset"] for read in pages] == ["0", "200", "400"]


def test_a_page_tells_the_listings_total(harness: Any) -> None:
    for n in range(3):
        harness.emu.admin_create(email=f"member{n}@example.com", products=DOCS)

    page = harness.client().accounts()

    assert page.total == 3 and page.next_cursor is None


def test_a_503_on_a_page_raises_unavailable_and_the_read_resumes_at_its_cursor(
    harness: Any,
) -> None:
    for n in range(250):
        harness.emu.admin_create(email=f"member{n}@example.com", products=DOCS)
    client = harness.client()
    first = client.accounts()
    harness.emu.fault(status=503, path="/users")

    with pytest.raises(VendorUnavailable):
        client.accounts(first.next_cursor)
    rest = client.accounts(first.next_cursor)

    listed = [account.record["email"] for account in first.accounts + rest.accounts]
    assert len(listed) == len(set(listed)) == 250
    assert rest.next_cursor is None


def test_a_read_back_keeps_to_the_read_limit(own_emulator: Any) -> None:
    acc = own_emulator(VENDOR, read_limit=2, limit_seconds=1)
    for n in range(450):
        acc.emu.admin_create(email=f"member{n}@example.com", products=DOCS)
    client = acc.client(options={"rate_limits": {"reads": {"calls": 2, "seconds": 1}}})

    accounts = read_all(client)

    assert len(accounts) == 450
    assert [read["status"] for read in acc.sent("/users", method="GET")] == [200] * 3
