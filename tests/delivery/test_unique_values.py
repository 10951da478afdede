"""``first_available`` end to end: two people whose userNames share a local part both reach
Rocket.Chat, each with a user name of their own, kept for good (docs/mapping.md, "Unique values").

Rocket.Chat's emulator refuses a second user of a user name, as Rocket.Chat does;
the rate limit is scaled to 10 calls per 2 s, both in the emulator and in the client.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import delete, select

from scimbridge.mapping import load_mapping
from scimbridge.store.delivery_tables import chosen_values
from scimbridge.testing import LiveBridge, start_live
from scimbridge.vendors import record_shape

WINDOW = 2.0
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def person(user_name: str, given: str, family: str, external_id: str) -> dict[str, Any]:
    return {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": user_name,
        "externalId": external_id,
        "name": {"givenName": given, "familyName": family},
        "emails": [{"value": user_name, "type": "work", "primary": True}],
        "active": True,
    }


@pytest.fixture
def chat(tmp_path: Any, database_url: str) -> Iterator[LiveBridge]:
    live, stop = start_live(
        tmp_path,
        "rocketchat",
        database_url,
        options={"rate_limits": {"per_route": {"calls": 10, "seconds": WINDOW}}},
        rate_limit_calls=10,
        rate_limit_seconds=WINDOW,
    )
    yield live
    stop()


def create(live: LiveBridge, body: dict[str, Any]) -> str:
    response = live.scim("POST", "/Users", body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def account_of(live: LiveBridge, email: str) -> dict[str, Any]:
    (account,) = [
        user
        for user in live.emulator.users()
        if email in [entry["address"] for entry in user.get("emails", [])]
    ]
    return account


def username_of(live: LiveBridge, email: str) -> str:
    return str(account_of(live, email)["username"])


def patch(live: LiveBridge, user_id: str, *operations: dict[str, Any]) -> None:
    body = {"schemas": [PATCH], "Operations": list(operations)}
    assert live.scim("PATCH", f"/Users/{user_id}", body).status_code == 200


def forget_the_choices(live: LiveBridge) -> None:
    """The bridge as one older than migration 0008 left it: users delivered, nothing chosen."""
    with live.bridge.database.transaction() as session:
        session.execute(delete(chosen_values))


DEACTIVATE = {"op": "replace", "path": "active", "value": False}
PLAIN_USER_NAMES = """
vendor: rocketchat
record:
  username: {path: userName, transform: [{split: "@"}, first]}
  name: {template: "{name.givenName} {name.familyName}", fallback: displayName}
  emails: {path: emails.value, as: list}
  importIds: {value_of: bridge.stable_id, as: list}
  roles: {from_groups: {"Chat Admins": admin}, as: list}
deprovision:
  on_deactivate: {action: disable, note: deactivated}
  on_reactivate: {action: import, note: re-activated}
  on_delete: {action: disable, note: deactivated}
"""
"""A Rocket.Chat mapping without ``first_available``: the user name as it is."""


def test_two_users_with_the_same_local_part_get_distinct_user_names(chat):
    create(chat, person("john@a.example", "John", "Appleseed", "okta-A"))
    create(chat, person("john@b.example", "John", "Brown", "okta-B"))

    chat.drain_in_real_time()

    assert username_of(chat, "john@a.example") == "john"
    assert username_of(chat, "john@b.example") == "john.b"


def test_a_chosen_user_name_survives_updates_that_would_choose_another(chat):
    create(chat, person("john@a.example", "John", "Appleseed", "okta-A"))
    chat.drain_in_real_time()
    second = create(chat, person("john@b.example", "John", "Brown", "okta-B"))
    chat.drain_in_real_time()
    assert chat.scim("DELETE", f"/Users/{second}").status_code == 204
    chat.drain_in_real_time()
    # "john.b" is still held by the deactivated account; the first john leaves "john"
    rename = {"op": "replace", "path": "name.familyName", "value": "Baker"}
    body = {"schemas": [PATCH], "Operations": [rename]}
    first = chat.scim("GET", '/Users?filter=userName eq "john@a.example"').json()
    user_id = first["Resources"][0]["id"]
    assert chat.scim("PATCH", f"/Users/{user_id}", body).status_code == 200

    chat.drain_in_real_time()

    assert username_of(chat, "john@a.example") == "john"
    names = [user["username"] for user in chat.emulator.users()]
    assert sorted(names) == ["john", "john.b"]


def test_a_re_created_user_gets_back_its_user_name_not_a_new_one(chat):
    create(chat, person("john@a.example", "John", "Appleseed", "okta-A"))
    second = create(chat, person("john@b.example", "John", "Brown", "okta-B"))
    chat.drain_in_real_time()
    assert chat.scim("DELETE", f"/Users/{second}").status_code == 204
    chat.drain_in_real_time()

    create(chat, person("john@b.example", "John", "Brown", "okta-B"))
    chat.drain_in_real_time()

    accounts = [user for user in chat.emulator.users() if user["username"] == "john.b"]
    assert len(accounts) == 1 and accounts[0]["active"] is True
    assert len(chat.emulator.users()) == 2


def test_the_choice_is_remembered_before_the_record_is_sent(chat):
    """A first import whose answer never came (the vendor applied it) is sent again under the
    same user name: chosen again, "john" would look taken by the user's own new account."""
    chat.emulator.fault(after="disconnect", path="import.run")
    create(chat, person("john@a.example", "John", "Appleseed", "okta-A"))

    chat.drain_in_real_time()

    assert [user["username"] for user in chat.emulator.users()] == ["john"]
    with chat.bridge.database.transaction():
        chosen = chat.bridge.database.session.execute(
            select(chosen_values.c.field, chosen_values.c.value)
        ).all()
    assert [tuple(row) for row in chosen] == [("username", "john")]


def test_a_user_delivered_before_choices_were_kept_is_deactivated_at_rocketchat(chat):
    """Issue 22: a bridge older than 0008 kept no choice, and the deactivation was reported
    delivered without reaching Rocket.Chat; it goes out under the name Rocket.Chat was sent."""
    john = create(chat, person("john@a.example", "John", "Appleseed", "okta-A"))
    chat.drain_in_real_time()
    forget_the_choices(chat)

    patch(chat, john, DEACTIVATE)
    chat.drain_in_real_time()

    assert account_of(chat, "john@a.example")["active"] is False


def test_a_user_of_a_mapping_that_gains_first_available_is_deactivated_at_rocketchat(
    chat, tmp_path
):
    """The user was delivered under a mapping without ``first_available``; the target's
    mapping gains it (the shipped default) before the user is deactivated."""
    gains_first_available = chat.bridge.mappings["rocketchat"]
    plain = tmp_path / "plain.yaml"
    plain.write_text(PLAIN_USER_NAMES)
    chat.bridge.mappings["rocketchat"] = load_mapping(str(plain), record_shape)
    john = create(chat, person("john@a.example", "John", "Appleseed", "okta-A"))
    chat.drain_in_real_time()
    chat.bridge.mappings["rocketchat"] = gains_first_available

    patch(chat, john, DEACTIVATE)
    chat.drain_in_real_time()

    assert account_of(chat, "john@a.example")["active"] is False


def test_a_deleted_user_keeps_the_name_it_was_sent_before_choices_were_kept(chat):
    """The deletion of a user delivered before 0008 makes the name it was sent its choice:
    once Rocket.Chat's admin removes the account, a new person with the same userName
    still never gets the former user's name."""
    old = create(chat, person("john@a.example", "John", "Appleseed", "okta-OLD"))
    chat.drain_in_real_time()
    forget_the_choices(chat)
    assert chat.scim("DELETE", f"/Users/{old}").status_code == 204
    chat.drain_in_real_time()
    emulator = chat.emulator.emulator
    with emulator.lock:
        emulator.accounts.clear()

    newcomer = person("john@a.example", "John", "Newcomer", "okta-NEW")
    create(chat, {**newcomer, "emails": [{"value": "newcomer@a.example", "type": "work"}]})
    chat.drain_in_real_time()

    assert username_of(chat, "newcomer@a.example") == "john.a"


def test_a_user_whose_first_import_went_unanswered_before_choices_were_kept_is_deactivated(
    chat,
):
    """Rocket.Chat applied the import but its answer never came: the bridge holds no vendor
    id, only the record sent; the deactivation still reaches Rocket.Chat."""
    chat.emulator.fault(after="disconnect", path="import.run")
    john = create(chat, person("john@a.example", "John", "Appleseed", "okta-A"))
    chat.worker.run_once()
    forget_the_choices(chat)

    patch(chat, john, DEACTIVATE)
    chat.drain_in_real_time()

    assert account_of(chat, "john@a.example")["active"] is False
