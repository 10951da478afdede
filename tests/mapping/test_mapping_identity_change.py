"""``on_identity_change``: what a changed account key does at the vendor (docs/mapping.md)."""

import pytest

from scimbridge.mapping import IdentityChange, MappingFileError, load_mapping
from scimbridge.vendors import record_shape

ACC = """\
vendor: acc
record:
  email: {path: emails.value}
  firstName: name.givenName
  lastName: name.familyName
deprovision:
  on_deactivate: {action: remove, note: removed from the project}
  on_reactivate: {action: import, note: imported again}
  on_delete: {action: remove, note: removed from the project}
"""


def with_rule(action: str) -> str:
    return ACC + f"  on_identity_change: {{action: {action}, note: why}}\n"


def test_a_mapping_without_the_rule_replaces_the_old_account(write_mapping):
    mapping = load_mapping(write_mapping(ACC), record_shape)

    assert mapping.on_identity_change is IdentityChange.REPLACE


@pytest.mark.parametrize("action", ["replace", "refuse"])
def test_the_rule_is_read_from_the_file(write_mapping, action):
    mapping = load_mapping(write_mapping(with_rule(action)), record_shape)

    assert mapping.on_identity_change is IdentityChange(action)


def test_move_is_refused_for_a_vendor_that_cannot_rename_an_account(write_mapping):
    with pytest.raises(MappingFileError) as caught:
        load_mapping(write_mapping(with_rule("move")), record_shape)

    assert caught.value.key == "deprovision.on_identity_change.action"
    assert "acc cannot rename an account" in caught.value.message


def test_move_is_taken_where_the_vendor_renames_accounts(mappings):
    assert mappings["aria"].on_identity_change is IdentityChange.MOVE
    assert mappings["rocketchat"].on_identity_change is IdentityChange.MOVE


@pytest.mark.parametrize("vendor", ["confide", "acc", "cloudshell"])
def test_the_shipped_mappings_replace_where_the_vendor_cannot_rename(mappings, vendor):
    assert mappings[vendor].on_identity_change is IdentityChange.REPLACE


def test_an_unknown_rule_is_refused_with_its_key(write_mapping):
    with pytest.raises(MappingFileError) as caught:
        load_mapping(write_mapping(with_rule("rename")), record_shape)

    assert caught.value.key == "deprovision.on_identity_change.action"
