"""The same person, never another; and a deprovision that nothing stops (docs/architecture.md, "External IDs").

The worker's side of vendor truth, against a scripted vendor: which link (and so
which vendor account) a re-provisioned user gets, who holds a vendor account, what
a deprovision sends when the user no longer maps, and when "no such user" is believed.
"""

from __future__ import annotations

from typing import Any

import yaml
from outbox_doubles import AUTH, config_document, delivery_state, unavailable, user
from sqlalchemy import select

from scimbridge.app import Bridge
from scimbridge.config import parse_config
from scimbridge.delivery.claims import LinkClaims
from scimbridge.store import utc
from scimbridge.store.delivery_tables import outbox
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


def test_the_holder_of_a_vendor_account_is_named_with_its_external_id(
    bridge, client, create, drain, vendor
):
    old = create("john", externalId="okta-OLD")
    drain()
    delete(client, old["id"])
    drain()
    key = vendor.delivered()[0].key
    claims = LinkClaims(bridge.database, bridge.config.target("chat"))
    account = vendor.vendor_ids[key]
    holder = claims.holder(account.upper(), "someone-else")
    assert "userName john" in holder and "okta-OLD" in holder and "deleted" in holder
    assert claims.holder(account, key) is None
    assert claims.holder("an-account-nobody-holds", "someone-else") is None


def test_allow_takeover_frees_a_former_users_account_but_never_a_live_users(
    database_url, client, create, drain, vendor
):
    former = create("john", externalId="okta-OLD")
    create("jane", externalId="okta-JANE")
    drain()
    delete(client, former["id"])
    drain()
    john_key, jane_key = (item.key for item in vendor.delivered()[:2])
    document = config_document(database_url)
    document["targets"][0]["delivery"]["allow_takeover"] = True
    bridge = Bridge(parse_config(yaml.safe_dump(document)))
    try:
        claims = LinkClaims(bridge.database, bridge.config.target("chat"))
        assert claims.holder(vendor.vendor_ids[john_key], "new-person") is None
        assert "okta-JANE" in claims.holder(vendor.vendor_ids[jane_key], "new-person")
    finally:
        bridge.database.dispose()


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
