"""One rule decides "the same string" everywhere: the SCIM filter, the mapping and the identity lookup.

RFC 7643 §2.2 (case-insensitive unless caseExact) as scim2-models implements it:
NFC, then lower-case. "Straße" and "STRASSE" differ under it (``casefold`` would
make them equal), so each part of the bridge must find them different — above
all the lookup that decides whether a new user is a former user's same person.
"""

from __future__ import annotations

from typing import Any

import pytest
from outbox_doubles import AUTH, create_group
from sqlalchemy import select

from scimbridge.comparison import group_name_key, user_name_key
from scimbridge.mapping import MappingContext, load_mapping
from scimbridge.store.delivery_tables import links
from scimbridge.vendors import record_shape

PAIRS = [
    ("straße", "STRASSE", False),
    ("straße", "STRAßE", True),
    ("e\u0301va", "\u00c9VA", True),  # NFD and NFC of the same letter
    ("ﬁona", "FIONA", False),  # the ligature folds to "fi" under casefold only
]


def found(client: Any, user_name: str) -> int:
    response = client.get(f'/scim/v2/chat/Users?filter=userName eq "{user_name}"', headers=AUTH)
    assert response.status_code == 200, response.json
    return response.json["totalResults"]


@pytest.mark.parametrize(("stored", "asked", "same"), PAIRS)
def test_the_filter_and_the_user_name_key_agree(client, create, stored, asked, same):
    create(stored)

    assert (found(client, asked) == 1) is same
    assert (user_name_key(stored) == user_name_key(asked)) is same


@pytest.mark.parametrize(("stored", "asked", "same"), PAIRS)
def test_the_mapping_matches_groups_and_value_filters_as_the_filter_does(
    tmp_path, stored, asked, same
):
    path = tmp_path / "chat.yaml"
    path.write_text(
        "vendor: rocketchat\n"
        "record:\n"
        "  username: userName\n"
        "  emails: {path: emails.value, as: list}\n"
        f'  statusText: emails[type eq "{asked}"].value\n'
        "  importIds: {value_of: bridge.stable_id, as: list}\n"
        "  roles:\n"
        f'    from_groups: {{"{asked} team": admin}}\n'
        "    as: list\n"
        "deprovision:\n"
        "  on_deactivate: {action: disable, set: {deleted: true}, note: kept}\n"
        "  on_reactivate: {action: import, note: again}\n"
        "  on_delete: {action: disable, set: {deleted: true}, note: kept}\n"
    )
    mapping = load_mapping(str(path), record_shape)
    user = {"userName": "ada", "emails": [{"value": "ada@example.com", "type": stored}]}

    record = mapping.apply(user, [f"{stored} team"], MappingContext(stable_id="s1")).record

    assert (record.get("roles") == ["admin"]) is same
    assert ("statusText" in record) is same
    assert (group_name_key(f"{stored} team") == group_name_key(f"{asked} team")) is same


def test_a_new_user_whose_name_only_casefolds_alike_is_not_the_former_user(
    client, create, drain, vendor, bridge
):
    former = create("straße")
    drain()
    assert client.delete(f"/scim/v2/chat/Users/{former['id']}", headers=AUTH).status_code == 204
    drain()

    create("STRASSE")
    drain()

    keys = {item.key for item in vendor.delivered()}
    assert len(keys) == 2, "the new user was taken for the former one"
    with bridge.database.transaction():
        names = bridge.database.session.execute(select(links.c.user_name)).scalars().all()
    assert sorted(names) == ["strasse", "straße"]


def test_a_new_user_with_the_former_users_name_in_other_letters_case_is_the_same_person(
    client, create, drain, vendor
):
    former = create("straße")
    drain()
    assert client.delete(f"/scim/v2/chat/Users/{former['id']}", headers=AUTH).status_code == 204
    drain()

    create("STRAßE")
    drain()

    assert len({item.key for item in vendor.delivered()}) == 1


def test_group_membership_is_matched_by_the_same_rule(client, create, drain, vendor):
    ada = create("ada")
    create_group(client, "Chat Admins", ada["id"])
    drain()

    assert "admin" in vendor.delivered()[-1].record.get("roles", [])
