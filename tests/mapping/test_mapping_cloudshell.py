"""mappings/cloudshell.yaml against the UserName sample of Quali's "Import external users" reference
(http://help.quali.com/api-guide/cs-admin-rest-api/import-external-users).

The reference's GroupName sample is not mapped: a group import brings in directory
users the identity provider never assigned (docs/mapping.md).
"""

import pytest

from scimbridge.mapping import MappingContext, MappingFileError, load_mapping
from scimbridge.vendors import record_shape
from scimbridge.vendors.base import Action


def james(build):
    """Okta with the application username format set to the directory account name."""
    return build("James Porter", "James", "Porter", "james.porter@example.com")


def test_a_first_import_names_the_user_only(mappings, okta_user, first_import):
    record = mappings["cloudshell"].apply(james(okta_user), [], first_import).record

    assert record == {"UserName": "James Porter"}


def test_a_reimport_allows_the_update(mappings, okta_user, reimport):
    record = mappings["cloudshell"].apply(james(okta_user), [], reimport).record

    assert record == {"UserName": "James Porter", "AllowUpdate": True}


def test_an_entra_upn_is_imported_by_its_account_name(mappings, entra_user, first_import):
    user = entra_user("jporter@contoso.onmicrosoft.com", "James", "Porter")

    assert mappings["cloudshell"].apply(user, [], first_import).record == {"UserName": "jporter"}


def test_a_group_name_cannot_be_mapped(mappings_dir, write_mapping):
    text = (mappings_dir / "cloudshell.yaml").read_text()
    path = write_mapping(text.replace("record:\n", "record:\n  GroupName: displayName\n"))

    with pytest.raises(MappingFileError) as caught:
        load_mapping(path, record_shape)

    assert caught.value.key == "record.GroupName"
    assert "not a field of the cloudshell record" in caught.value.message


def test_group_memberships_change_nothing_in_the_record(mappings, okta_user, reimport):
    groups = ["Azure_DevOps_Cloud_Admins", "Chat Admins"]

    mapped = mappings["cloudshell"].apply(james(okta_user), groups, reimport)

    assert mapped.record == {"UserName": "James Porter", "AllowUpdate": True}
    assert mapped.managed == {}


def test_deactivation_disables_the_user(mappings, okta_user, reimport):
    user = {**james(okta_user), "active": False}

    assert mappings["cloudshell"].apply(user, [], reimport).action is Action.DISABLE


def test_delete_disables_the_user_so_that_it_can_come_back(mappings, okta_user):
    context = MappingContext(stable_id="link-1", deleted=True)

    assert mappings["cloudshell"].apply(james(okta_user), [], context).action is Action.DISABLE
