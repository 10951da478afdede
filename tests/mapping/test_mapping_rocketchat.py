"""mappings/rocketchat.yaml against the john.doe/jane.doe sample of Rocket.Chat's "Add Users" reference
(https://developer.rocket.chat/apidocs/add-users).

The sample's optional ``password`` is left out on purpose: the bridge keeps and
forwards no password, so Rocket.Chat generates one. ``roles`` is always
stated (``[]`` for a user in no mapped group), so that leaving "Chat Admins"
revokes ``admin``.
"""

from scimbridge.mapping import MappingContext
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
