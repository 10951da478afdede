"""mappings/rocketchat.yaml against the john.doe/jane.doe sample of Rocket.Chat's "Add Users" reference
(https://developer.rocket.chat/apidocs/add-users).

The sample's optional ``password`` is left out on purpose: the bridge keeps and
forwards no password, so Rocket.Chat generates one. ``roles`` is always
stated (``[]`` for a user in no mapped group), so that leaving "Chat Admins"
revokes ``admin``.
"""

import re

import pytest

from scimbridge.mapping import MappingContext
from scimbridge.testing import start_live
from scimbridge.vendors.base import Action

SEED_USERS = [
    {
        "username": "john.doe",
        "emails": ["john.doe@example.com"],
        "importIds": ["1523"],
        "name": "John Doe",
        "roles": [],
    },
    {
        "username": "jane.doe",
        "emails": ["jane.doe@example.com"],
        "importIds": ["1524"],
        "name": "Jane Doe",
        "roles": [],
    },
]


def test_the_seed_users_come_from_an_okta_user_whose_password_is_dropped_and_an_entra_user(
    mappings, okta_user, entra_user
):
    john = okta_user("john.doe", "John", "Doe", "john.doe@example.com", password="P@ssw0rd")
    jane = entra_user("jane.doe", "Jane", "Doe", "jane.doe@example.com", enterprise=False)

    records = [
        mappings["rocketchat"].apply(john, [], MappingContext(stable_id="1523")).record,
        mappings["rocketchat"].apply(jane, [], MappingContext(stable_id="1524")).record,
    ]

    assert records == SEED_USERS


def test_every_email_is_imported_primary_first(mappings, okta_user, first_import):
    user = okta_user(
        "ada",
        "Ada",
        "Lovelace",
        "ada@work.example",
        emails=[
            {"value": "ada@home.example", "type": "home"},
            {"value": "ada@work.example", "type": "work", "primary": True},
        ],
    )

    record = mappings["rocketchat"].apply(user, [], first_import).record

    assert record["emails"] == ["ada@work.example", "ada@home.example"]


def test_the_name_falls_back_to_the_display_name(mappings, okta_user, first_import):
    user = okta_user("ada", "Ada", "Lovelace", "ada@example.com", name={"givenName": "Ada"})

    record = mappings["rocketchat"].apply(user, [], first_import).record

    assert record["name"] == "Ada Lovelace"


def test_chat_admins_get_the_admin_role(mappings, okta_user, first_import):
    user = okta_user("ada", "Ada", "Lovelace", "ada@example.com")

    record = mappings["rocketchat"].apply(user, ["Chat Admins"], first_import).record

    assert record["roles"] == ["admin"]


def test_leaving_chat_admins_gives_no_role_and_admin_stays_managed(mappings, okta_user, reimport):
    user = okta_user("ada", "Ada", "Lovelace", "ada@example.com")

    mapped = mappings["rocketchat"].apply(user, ["Staff"], reimport)

    assert mapped.record["roles"] == []
    assert mapped.managed == {"roles": ("admin",)}


def test_deactivation_disables_the_user_it_names_by_import_id(mappings, okta_user, reimport):
    user = okta_user("ada", "Ada", "Lovelace", "ada@example.com", active=False)

    mapped = mappings["rocketchat"].apply(user, [], reimport)

    assert mapped.action is Action.DISABLE
    assert mapped.record["importIds"] == [reimport.stable_id]


def test_delete_disables_the_user_so_that_it_can_come_back(mappings, okta_user):
    user = okta_user("ada", "Ada", "Lovelace", "ada@example.com")

    mapped = mappings["rocketchat"].apply(user, [], MappingContext("link-1", deleted=True))

    assert mapped.action is Action.DISABLE


# -- names in other scripts (docs/vendors/rocketchat.md, "User names") -------------------

IN_OTHER_SCRIPTS = [
    ("山田太郎@例え.jp", "太郎", "山田", "shantiantailang"),
    ("やまだたろう@例え.jp", "たろう", "やまだ", "yamadatarou"),
    ("иван.петров@пример.рф", "Иван", "Петров", "ivan.petrov"),
    ("محمد@مثال.مصر", "محمد", "علي", "mhmd"),
    ("γιώργος@παράδειγμα.ελ", "Γιώργος", "Παπαδόπουλος", "giorgos"),
]


def candidates_for(mappings, okta_user, user_name: str) -> list[str]:
    user = okta_user(user_name, "Given", "Family", user_name)
    context = MappingContext(stable_id="3fa9c2d4e5f60718293a4b5c6d7e8f90")
    return mappings["rocketchat"].apply(user, [], context).choices["username"].all()


@pytest.mark.parametrize(("user_name", "given", "family", "username"), IN_OTHER_SCRIPTS)
def test_a_name_in_another_script_is_transliterated_into_the_user_name(
    mappings, okta_user, first_import, user_name, given, family, username
):
    user = okta_user(user_name, given, family, user_name)

    record = mappings["rocketchat"].apply(user, [], first_import).record

    assert record["username"] == username


def test_a_second_user_of_the_same_name_gets_the_transliterated_domain(mappings, okta_user):
    assert candidates_for(mappings, okta_user, "佐藤@例え.jp")[:2] == ["zuoteng", "zuoteng.lie"]


@pytest.mark.parametrize(
    ("user_name", "username"),
    [("j@acme.example", "j.acme"), ("--@acme.example", "--.acme"), ("★@例え.jp", "-.lie")],
)
def test_a_candidate_left_with_fewer_than_two_letters_passes_to_the_next(
    mappings, okta_user, user_name, username
):
    assert candidates_for(mappings, okta_user, user_name)[0] == username


def test_a_user_name_of_punctuation_alone_falls_through_to_the_bridge_id(mappings, okta_user):
    assert candidates_for(mappings, okta_user, "-@-.example") == ["-.3fa9c2"]


def test_users_named_in_other_scripts_reach_rocketchat_with_readable_user_names(
    tmp_path, database_url
):
    chat, stop = start_live(tmp_path, "rocketchat", database_url)
    try:
        for user_name, given, family, _ in IN_OTHER_SCRIPTS:
            body = {
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                "userName": user_name,
                "name": {"givenName": given, "familyName": family},
                "emails": [{"value": user_name, "type": "work", "primary": True}],
            }
            assert chat.scim("POST", "/Users", body).status_code == 201

        chat.drain_in_real_time()

        held = {
            user["emails"][0]["address"]: user["username"]
            for user in chat.emulator.users()
            if user.get("emails")
        }
    finally:
        stop()
    assert {held[user_name] for user_name, *_ in IN_OTHER_SCRIPTS} == {
        username for *_, username in IN_OTHER_SCRIPTS
    }
    assert all(re.fullmatch("[a-z0-9._-]+", name) for name in held.values())
