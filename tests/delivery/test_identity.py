"""The same person, never another; and a deprovision that nothing stops (docs/architecture.md, "External IDs").

The worker's side of vendor truth, against a scripted vendor: which link (and so
which vendor account) a re-provisioned user gets, who holds a vendor account, what
a deprovision sends when the user no longer maps, and when "no such user" is believed.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from outbox_doubles import AUTH, config_document, delivery_state, unavailable, user
from sqlalchemy import select
from sqlalchemy.orm import Session

from scimbridge.app import Bridge
from scimbridge.config import parse_config
from scimbridge.delivery.identity import Reservations, keys_of
from scimbridge.store import utc
from scimbridge.store.delivery_tables import account_keys, links, outbox
from scimbridge.testing import contract
from scimbridge.testing.live import LiveBridge, start_live
from scimbridge.vendors.base import Action, Outcome


def delete(client: Any, user_id: str) -> None:
    assert client.delete(f"/scim/v2/chat/Users/{user_id}", headers=AUTH).status_code == 204


def put(client: Any, user_id: str, body: dict[str, Any]) -> Any:
    return client.put(f"/scim/v2/chat/Users/{user_id}", json=body, headers=AUTH)


def skipped(items: list[Any]) -> list[Outcome]:
    return [
        Outcome(key=item.key, ok=True, details={"skipped": "no such user at the vendor"})
        for item in items
    ]


def test_a_new_person_with_a_reused_user_name_gets_a_new_identity(client, create, drain, vendor):
    old = create("john", externalId="okta-OLD")
    drain()
    delete(client, old["id"])
    drain()
    create("john", externalId="okta-NEW-PERSON")
    drain()
    first, new = vendor.delivered()[0], vendor.delivered()[-1]
    assert new.key != first.key
    assert new.vendor_id is None
    assert new.first_import is True


def test_a_former_user_without_external_id_is_the_same_person_by_user_name(
    client, create, drain, vendor
):
    old = create("john")
    drain()
    delete(client, old["id"])
    drain()
    create("john", externalId="okta-JOHN")
    drain()
    assert len({item.key for item in vendor.delivered()}) == 1


def test_the_same_external_id_is_the_same_person_under_a_new_user_name(
    client, create, drain, vendor
):
    old = create("john", externalId="okta-JOHN")
    drain()
    delete(client, old["id"])
    drain()
    create("john.smith", externalId="okta-JOHN")
    drain()
    assert len({item.key for item in vendor.delivered()}) == 1


def link_of(session: Session, scim_user: dict[str, Any]) -> str:
    """The stable id (link) of a SCIM user."""
    return str(
        session.execute(select(links.c.id).where(links.c.scim_id == scim_user["id"])).scalar_one()
    )


def test_the_holder_of_an_account_key_is_named_with_its_external_id(
    bridge, client, create, drain, vendor
):
    """A deleted user keeps its user name while its account may live (the mapping disables
    it): another user asking for it, in any case, learns whom it belongs to."""
    vendor.account_keys = frozenset({"username"})
    old = create("john", externalId="okta-OLD")
    drain()
    delete(client, old["id"])
    drain()
    first = vendor.delivered()[0]
    key, username = first.key, first.record["username"]
    newcomer = create("john.smith", externalId="okta-NEW")

    with bridge.database.transaction() as session:
        reservations = Reservations(session, bridge.config.target("chat"))
        refused = reservations.reserve(
            {link_of(session, newcomer): keys_of(vendor, {"username": username.upper()})}
        )
        own = reservations.reserve({key: keys_of(vendor, {"username": username})})

    [holder] = refused.values()
    assert "userName john" in holder and "okta-OLD" in holder and "deleted" in holder
    assert own == {}


def test_allow_takeover_frees_a_former_users_account_keys_but_never_a_live_users(
    database_url, client, create, drain, vendor
):
    vendor.account_keys = frozenset({"username"})
    former = create("john", externalId="okta-OLD")
    create("jane", externalId="okta-JANE")
    drain()
    delete(client, former["id"])
    drain()
    john, jane = (item.record["username"] for item in vendor.delivered()[:2])
    new_john = create("john.smith", externalId="okta-NEW-JOHN")
    new_jane = create("jane.doe", externalId="okta-NEW-JANE")
    document = config_document(database_url)
    document["targets"][0]["delivery"]["allow_takeover"] = True
    bridge = Bridge(parse_config(yaml.safe_dump(document)))
    try:
        with bridge.database.transaction() as session:
            reservations = Reservations(session, bridge.config.target("chat"))
            took_over = reservations.reserve(
                {link_of(session, new_john): keys_of(vendor, {"username": john})}
            )
            refused = reservations.reserve(
                {link_of(session, new_jane): keys_of(vendor, {"username": jane})}
            )
    finally:
        bridge.database.dispose()

    assert took_over == {}
    [holder] = refused.values()
    assert "okta-JANE" in holder


def test_a_takeover_happens_only_when_every_key_is_free_or_a_former_users(
    database_url, client, create, drain, vendor
):
    """A user who wants a former user's name and a live user's email takes neither: the
    former user keeps its name, and its link its account."""
    vendor.account_keys = frozenset({"username", "emails"})
    former = create("john", externalId="okta-OLD")
    create("jane", externalId="okta-JANE")
    drain()
    delete(client, former["id"])
    drain()
    newcomer = create("john.smith", externalId="okta-NEW-JOHN")
    document = config_document(database_url)
    document["targets"][0]["delivery"]["allow_takeover"] = True
    bridge = Bridge(parse_config(yaml.safe_dump(document)))
    wanted = {"username": "john", "emails": ["jane@example.com"]}
    try:
        with bridge.database.transaction() as session:
            refused = Reservations(session, bridge.config.target("chat")).reserve(
                {link_of(session, newcomer): keys_of(vendor, wanted)}
            )
            holders = {
                row.value: row.link_id
                for row in session.execute(select(account_keys.c.value, account_keys.c.link_id))
            }
            former_link = session.execute(
                select(links.c.id, links.c.vendor_id).where(links.c.scim_id == former["id"])
            ).one()
    finally:
        bridge.database.dispose()

    [conflict] = refused.values()
    assert "okta-JANE" in conflict
    assert holders["john"] == former_link.id
    assert former_link.vendor_id is not None


def test_a_deactivation_that_no_longer_maps_is_accepted_and_deprovisions_the_sent_account(
    client, create, drain, vendor
):
    ada = create("ada")
    drain()
    response = put(client, ada["id"], {**user("ada"), "emails": [], "active": False})
    assert response.status_code == 200, response.json
    drain()
    deprovision = vendor.delivered()[-1]
    assert deprovision.action is Action.DISABLE
    assert deprovision.record["emails"] == ["ada@example.com"]
    assert deprovision.record["importIds"] == [deprovision.key]
    assert delivery_state(client, ada["id"])["status"] == "delivered"


def test_an_import_that_no_longer_maps_is_still_refused(client, create, drain):
    ada = create("ada")
    response = put(client, ada["id"], {**user("ada"), "emails": []})
    assert response.status_code == 400
    assert response.json["scimType"] == "invalidValue"


def test_a_user_never_sent_to_the_vendor_has_nothing_to_deprovision(client, create, drain, vendor):
    ada = create("ada")
    put(client, ada["id"], {**user("ada"), "emails": [], "active": False})
    drain()
    assert vendor.delivered() == []
    assert delivery_state(client, ada["id"])["status"] == "delivered"


def test_the_record_the_vendor_holds_comes_with_the_next_delivery(client, create, drain, vendor):
    ada = create("ada")
    drain()
    put(client, ada["id"], {**user("ada"), "displayName": "Ada L"})
    drain()
    first, second = vendor.delivered()
    assert first.previous is None
    assert second.previous == first.record


def test_a_deprovision_keeps_looking_while_an_import_is_unconfirmed(
    bridge, client, create, worker, vendor, clock
):
    ada = create("ada")
    vendor.script.append(unavailable())
    worker.run_once()
    put(client, ada["id"], {**user("ada"), "active": False})
    clock.advance(60)
    vendor.script.append(skipped)
    worker.run_once()
    assert delivery_state(client, ada["id"])["status"] == "pending"
    clock.advance(bridge.config.target("chat").delivery.unconfirmed_import_seconds)
    vendor.script.append(skipped)
    worker.run_once()
    assert delivery_state(client, ada["id"])["status"] == "delivered"


def test_an_item_the_vendor_asked_to_wait_for_is_not_counted_as_failed(
    bridge, create, worker, vendor, clock
):
    create("ada")
    vendor.script.append(
        lambda items: [
            Outcome(key=item.key, ok=False, error="429", retryable=True, retry_after=30)
            for item in items
        ]
    )
    worker.run_once()
    with bridge.database.transaction():
        entry = bridge.database.session.execute(select(outbox)).one()
    assert (entry.state, entry.failures, entry.error_kind) == ("pending", 0, "unavailable")
    assert (utc(entry.next_attempt_at) - clock()).total_seconds() >= 29


# -- identity.match: externalId_and_userName (docs/architecture.md, "The same person") ------
# Against the Aria emulator, which keeps a removed user's account (disabled) and re-imports
# the same account when given its id: what it holds says which account a person got.

STRICT = {"identity": {"match": "externalId_and_userName"}}


@pytest.fixture
def aria(tmp_path: Path, database_url: str) -> Iterator[LiveBridge]:
    """A bridge whose target requires externalId and userName to match, before Aria."""
    live, stop = start_live(tmp_path, "aria", database_url, target=STRICT)
    yield live
    stop()


def aria_accounts(live: LiveBridge, name: str) -> list[dict[str, Any]]:
    """Aria's accounts of ``scim_user(name)``, by their username."""
    return [account for account in live.emulator.users() if account["username"] == name]


def provisioned_then_deleted(live: LiveBridge, name: str, external_id: str) -> dict[str, Any]:
    """Provision ``name``, delete it; returns its Aria account, now disabled."""
    former = contract.create_user(live, name, externalId=external_id)
    live.drain()
    assert live.scim("DELETE", f"/Users/{former['id']}").status_code == 204
    live.drain()
    [account] = aria_accounts(live, f"{name}@example.com")
    assert account["enabled"] is False
    return account


def test_with_external_id_and_user_name_a_reused_external_id_gets_a_new_account(
    aria: LiveBridge,
) -> None:
    """Entra ID's default fills externalId from mailNickname, which a new hire can inherit:
    johanna, given john's former externalId, must not get john's account."""
    former = provisioned_then_deleted(aria, "john", "jsmith")

    johanna = contract.create_user(aria, "johanna", externalId="jsmith")
    aria.drain()

    [account] = aria_accounts(aria, "johanna@example.com")
    assert account["id"] != former["id"]
    assert account["enabled"] is True
    assert aria_accounts(aria, "john@example.com") == [former]
    assert contract.delivery_state(aria, johanna["id"])["status"] == "delivered"


def test_with_external_id_and_user_name_the_same_both_is_the_same_account(
    aria: LiveBridge,
) -> None:
    former = provisioned_then_deleted(aria, "john", "jsmith")

    contract.create_user(aria, "john", externalId="jsmith")
    aria.drain()

    [account] = aria_accounts(aria, "john@example.com")
    assert account["id"] == former["id"]
    assert account["enabled"] is True


def test_with_external_id_and_user_name_a_user_without_external_id_is_another_person(
    aria: LiveBridge,
) -> None:
    """Only one side has an externalId: nothing shows it is the same person, so the
    former account stays as it is and the newcomer fails with a conflict."""
    former = provisioned_then_deleted(aria, "john", "jsmith")

    john = contract.create_user(aria, "john", externalId=None)
    aria.drain()

    assert aria_accounts(aria, "john@example.com") == [former]
    assert contract.delivery_state(aria, john["id"])["status"] == "failed"
