"""mappings/cloudshell.yaml against the UserName and GroupName samples of seed cloudshell-import-external-users.md."""

from scimbridge.mapping import MappingContext
from scimbridge.vendors.base import Action

GROUP = {
    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
    "id": "e9e30dba-f08f-4109-8486-d5c6a331660a",
    "displayName": "Azure_DevOps_Cloud_Admins",
    "members": [{"value": "2819c223-7f76-453a-919d-413861904646", "display": "James Porter"}],
}


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


def test_a_scim_group_is_imported_by_its_name(mappings):
    mapped = mappings["cloudshell"].apply_group(GROUP)

    assert mapped.record == {"GroupName": "Azure_DevOps_Cloud_Admins"}
    assert mapped.action is Action.IMPORT


def test_deactivation_disables_the_user(mappings, okta_user, reimport):
    user = {**james(okta_user), "active": False}

    assert mappings["cloudshell"].apply(user, [], reimport).action is Action.DISABLE


def test_delete_disables_the_user_so_that_it_can_come_back(mappings, okta_user):
    context = MappingContext(stable_id="link-1", deleted=True)

    assert mappings["cloudshell"].apply(james(okta_user), [], context).action is Action.DISABLE
