"""Managed values and revocation (docs/mapping.md): leaving a group revokes what it granted."""

import pytest

from scimbridge.mapping import MappingContext, MappingFileError, load_mapping
from scimbridge.vendors import record_shape

ROCKETCHAT = """\
vendor: rocketchat
record:
  username: userName
  emails: {path: emails.value, as: list}
  importIds: {value_of: bridge.stable_id, as: list}
  roles: ROLES
deprovision:
  on_deactivate: {action: disable, set: {deleted: true}, note: deactivated}
  on_reactivate: {action: import, note: re-activated}
  on_delete: {action: remove, note: deleted}
"""
CONFIDE = """\
vendor: confide
record:
  email: emails.value
  canShareLink: PERMISSION
deprovision:
  on_deactivate: {action: import, note: deactivated}
  on_reactivate: {action: import, note: re-activated}
  on_delete: {action: import, note: deleted}
"""
ACC = """\
vendor: acc
record:
  email: emails.value
  products:
    - object:
        key: {const: docs}
        access: {from_groups: {"ACC Members": member}}
deprovision:
  on_deactivate: {action: remove, note: deactivated}
  on_reactivate: {action: import, note: re-activated}
  on_delete: {action: remove, note: deleted}
"""
ADA = {"userName": "ada", "emails": [{"value": "ada@example.com", "primary": True}]}
REIMPORT = MappingContext(stable_id="link-1", vendor_id="vendor-1", first_import=False)


@pytest.fixture
def rocketchat(write_mapping):
    """A Rocket.Chat mapping whose ``roles`` expression is the YAML given."""
    return lambda roles: load_mapping(
        write_mapping(ROCKETCHAT.replace("ROLES", roles)), record_shape
    )


def refused(write_mapping, text: str) -> MappingFileError:
    with pytest.raises(MappingFileError) as caught:
        load_mapping(write_mapping(text), record_shape)
    return caught.value


def test_leaving_every_listed_group_gives_an_empty_list(rocketchat):
    mapping = rocketchat('{from_groups: {"Chat Admins": admin}, as: list}')

    assert mapping.apply(ADA, ["Staff"], REIMPORT).record["roles"] == []


def test_a_default_replaces_the_empty_list(rocketchat):
    mapping = rocketchat('{from_groups: {"Chat Admins": admin}, as: list, default: [user]}')

    assert mapping.apply(ADA, [], REIMPORT).record["roles"] == ["user"]


def test_managed_values_list_every_value_of_the_table(rocketchat):
    mapping = rocketchat(
        '{from_groups: {"Chat Admins": [admin, moderator], "Moderators": moderator,'
        ' "Bots": bot}, as: list}'
    )

    assert mapping.apply(ADA, [], REIMPORT).managed == {"roles": ("admin", "moderator", "bot")}


def test_the_values_of_a_default_are_not_managed(rocketchat):
    mapping = rocketchat('{from_groups: {"Chat Admins": admin}, as: list, default: [user]}')

    assert mapping.apply(ADA, ["Chat Admins"], REIMPORT).managed == {"roles": ("admin",)}


def test_a_list_left_out_by_when_manages_nothing(rocketchat):
    mapping = rocketchat(
        '{from_groups: {"Chat Admins": admin}, as: list, when: bridge.first_import}'
    )

    mapped = mapping.apply(ADA, ["Chat Admins"], REIMPORT)

    assert "roles" not in mapped.record
    assert mapped.managed == {}


def test_a_field_not_driven_by_a_group_list_manages_nothing(rocketchat):
    mapping = rocketchat("{const: [user], as: list}")

    assert mapping.apply(ADA, [], REIMPORT).managed == {}


def test_a_scalar_from_groups_without_default_is_refused_at_load(write_mapping):
    error = refused(
        write_mapping, CONFIDE.replace("PERMISSION", '{from_groups: {"Sharers": true}}')
    )

    assert (error.line, error.key) == (4, "record.canShareLink")
    assert error.message.startswith(
        "from_groups needs a default: the value a user in none of these groups gets, "
        "so that leaving a group revokes what it granted"
    )


def test_a_scalar_from_groups_inside_an_object_in_a_list_needs_a_default_too(write_mapping):
    error = refused(write_mapping, ACC)

    assert (error.line, error.key) == (7, "record.products[0].object.access")


def test_a_scalar_from_groups_with_its_default_gives_it_to_a_user_outside_the_groups(
    write_mapping,
):
    text = CONFIDE.replace("PERMISSION", '{from_groups: {"Sharers": true}, default: false}')

    record = load_mapping(write_mapping(text), record_shape).apply(ADA, [], REIMPORT).record

    assert record["canShareLink"] is False


@pytest.mark.parametrize("key", ["transform", "fallback"])
def test_a_group_list_with_a_transform_or_fallback_is_refused_at_load(write_mapping, key):
    modifier = {"transform": "upper", "fallback": "title"}[key]
    roles = f'{{from_groups: {{"Chat Admins": admin}}, as: list, {key}: {modifier}}}'

    error = refused(write_mapping, ROCKETCHAT.replace("ROLES", roles))

    assert (error.line, error.key) == (6, f"record.roles.{key}")
    assert "revokes them when the user leaves the group" in error.message
