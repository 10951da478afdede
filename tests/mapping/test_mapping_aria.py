"""mappings/aria.yaml against the users array of Broadcom's "Import Users Using POST" reference
(https://developer.broadcom.com/xapis/vmware-vrealize-operations-api/latest/api/auth/sources/id/users/post)."""

from scimbridge.mapping import MappingContext
from scimbridge.vendors.base import Action

SEED_USER_FIELDS = {
    "Last login time", "distinguishedName", "emailAddress", "enabled", "firstName", "groupIds",
    "id", "lastName", "links", "password", "role-permissions", "roleNames", "username",
}  # fmt: skip
NEVER_SENT = {"Last login time", "links", "password"}
"""Read-only fields, and the password imported directory users do not have (records/aria.json)."""

RESEARCH_EXAMPLE = {
    "username": "alexr",
    "firstName": "alex",
    "lastName": "richard",
    "emailAddress": "user1@broadcom.com",
    "distinguishedName": "CN=alexr,OU=Users,DC=broadcom,DC=com",
    "enabled": True,
    "role-permissions": [{"roleName": "ReadOnly", "allowAllObjects": True}],
    "roleNames": ["ReadOnly"],
    "groupIds": [],
}
"""The import example of the VCF Operations OpenAPI (``importUsers``, vmware/vcf-api-specs),
shortened (one ReadOnly role, a short DN, enabled) and without its null password, plus the
deprecated roleNames and the user groups the bridge manages (none for this user)."""


def alex(build, **more):
    return build(
        "alexr",
        "alex",
        "richard",
        "user1@broadcom.com",
        externalId="CN=alexr,OU=Users,DC=broadcom,DC=com",
        **more,
    )


def test_a_first_import_gives_the_documented_example_without_id(mappings, okta_user, first_import):
    record = mappings["aria"].apply(alex(okta_user), ["Aria Read Only"], first_import).record

    assert record == RESEARCH_EXAMPLE


def test_a_reimport_carries_the_stored_aria_id(mappings, okta_user, reimport):
    record = mappings["aria"].apply(alex(okta_user), ["Aria Read Only"], reimport).record

    assert record == {**RESEARCH_EXAMPLE, "id": "vendor-1"}


def test_a_fully_mapped_user_fills_every_writable_field_of_the_seed(mappings, entra_user, reimport):
    user = entra_user("jdoe", "Jane", "Doe", "jane@example.com", externalId="CN=jdoe,DC=example")
    groups = ["Aria Operators", "Aria Administrators"]

    record = mappings["aria"].apply(user, groups, reimport).record

    assert set(record) == SEED_USER_FIELDS - NEVER_SENT


def test_every_managed_list_is_empty_for_a_user_in_no_aria_group(mappings, okta_user, reimport):
    record = mappings["aria"].apply(alex(okta_user), [], reimport).record

    assert (record["groupIds"], record["roleNames"], record["role-permissions"]) == ([], [], [])


def test_the_managed_values_are_every_value_aria_groups_can_grant(mappings, okta_user, reimport):
    managed = mappings["aria"].apply(alex(okta_user), [], reimport).managed

    assert managed == {
        "groupIds": ("0f6a1c3e-5d9b-4b8e-9a47-2f1d3c5e7a90",),
        "roleNames": ("Administrator", "ReadOnly"),
        "role-permissions": (
            {"roleName": "Administrator", "allowAllObjects": True},
            {"roleName": "ReadOnly", "allowAllObjects": True},
        ),
    }


def test_deactivation_disables_the_user(mappings, okta_user, reimport):
    mapped = mappings["aria"].apply(alex(okta_user, active=False), [], reimport)

    assert mapped.action is Action.DISABLE
    assert mapped.record["enabled"] is False


def test_delete_disables_the_user_so_that_it_can_come_back(mappings, okta_user):
    deleted = MappingContext(stable_id="link-1", vendor_id="vendor-1", deleted=True)

    mapped = mappings["aria"].apply(alex(okta_user), [], deleted)

    assert mapped.action is Action.DISABLE
    assert mapped.record["enabled"] is False
    assert mapped.record["id"] == "vendor-1"
