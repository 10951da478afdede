"""mappings/acc.yaml against the curl sample of Autodesk's "POST projects/:projectId/users:import"
reference (https://aps.autodesk.com/en/docs/acc/v1/reference/http/admin-v2-projects-project-Id-users-import-POST)."""

from scimbridge.config import default_mapping
from scimbridge.mapping import MappingContext, load_mapping
from scimbridge.vendors import record_shape
from scimbridge.vendors.base import Action

SEED_USER = {
    "firstName": "Jane",
    "lastName": "Doe",
    "email": "sampleUser1@autodesk.com",
    "userId": "6cc15635-2fbd-4f73-afbe-abd833408a1d",
    "companyId": "c32ffb13-83f8-43fb-bddf-3e5c0c2dda24",
    "roleIds": [
        "287d5cc2-9008-462c-96e5-c9491db85d97",
        "cda845af-05f0-4c46-9108-71b993946c35",
        "b8e84a73-7506-4d3f-b221-93691df2a359",
    ],
    "products": [
        {"key": key, "access": "administrator"}
        for key in (
            "projectAdministration",
            "designCollaboration",
            "build",
            "cost",
            "modelCoordination",
            "docs",
            "insight",
            "takeoff",
        )
    ],
}
DEFAULT_COMPANY = "0d3fa017-c0de-4a11-8000-00000000ac0c"
"""The placeholder company of mappings/acc.yaml for a user outside every company group."""
JANE_GROUPS = [
    "ACC Administrators",
    "Contoso Staff",
    "ACC Project Managers",
    "ACC Architects",
    "ACC Engineers",
]


def test_the_seed_user_comes_from_an_entra_administrator_known_to_acc(mappings, entra_user):
    jane = entra_user("jane.doe@contoso.com", "Jane", "Doe", "sampleUser1@autodesk.com")
    known = MappingContext(
        stable_id="link-1", vendor_id="6cc15635-2fbd-4f73-afbe-abd833408a1d", first_import=False
    )

    mapped = mappings["acc"].apply(jane, JANE_GROUPS, known)

    assert mapped.record == SEED_USER
    assert mapped.action is Action.IMPORT


def test_a_new_okta_member_gets_member_access_to_every_product_and_no_user_id(
    mappings, okta_user, first_import
):
    user = okta_user("ann@example.com", "Ann", "Lee", "ann@example.com")

    record = mappings["acc"].apply(user, ["ACC Members"], first_import).record

    assert "userId" not in record
    assert {product["access"] for product in record["products"]} == {"member"}


def test_a_user_in_no_group_is_imported_without_product_access(mappings, okta_user, first_import):
    user = okta_user("ann@example.com", "Ann", "Lee", "ann@example.com")

    record = mappings["acc"].apply(user, [], first_import).record

    assert {product["access"] for product in record["products"]} == {"none"}


def test_acc_user_in_no_company_group_gets_the_default_company(mappings, okta_user, reimport):
    user = okta_user("ann@example.com", "Ann", "Lee", "ann@example.com")

    record = mappings["acc"].apply(user, ["ACC Members"], reimport).record

    assert record["companyId"] == DEFAULT_COMPANY


def test_acc_user_in_no_role_group_gets_an_empty_role_list(mappings, okta_user, reimport):
    user = okta_user("ann@example.com", "Ann", "Lee", "ann@example.com")

    mapped = mappings["acc"].apply(user, ["ACC Members"], reimport)

    assert mapped.record["roleIds"] == []
    assert mapped.managed == {"roleIds": tuple(SEED_USER["roleIds"])}


def test_deactivation_removes_the_user_from_the_project(mappings, okta_user, reimport):
    user = okta_user("ann@example.com", "Ann", "Lee", "ann@example.com", active=False)

    mapped = mappings["acc"].apply(user, [], reimport)

    assert mapped.action is Action.REMOVE
    assert mapped.record["email"] == "ann@example.com"


def test_delete_removes_the_user_from_the_project(mappings, okta_user):
    user = okta_user("ann@example.com", "Ann", "Lee", "ann@example.com")
    deleted = MappingContext(stable_id="link-1", deleted=True)

    assert mappings["acc"].apply(user, [], deleted).action is Action.REMOVE


def test_the_commented_company_by_department_of_the_default_file_maps_as_documented(tmp_path):
    """The default acc.yaml shows, commented out, ``companyId`` by department (``map``):
    uncommented in place of the group table, it gives the department's company."""
    text = default_mapping("acc").read_text()
    start = text.index("  companyId:\n    from_groups")
    end = text.index("  # Or the company by the user's department")
    alternative = text[end:].split("\n  # [] for a user", 1)[0]
    uncommented = "\n".join(line.replace("  # ", "  ", 1) for line in alternative.splitlines()[1:])
    path = tmp_path / "acc.yaml"
    path.write_text(text[:start] + uncommented + "\n" + text[text.index("  # [] for a user") :])
    mapping = load_mapping(str(path), record_shape)
    user = {
        "userName": "ada@example.com",
        "name": {"givenName": "Ada", "familyName": "L"},
        "emails": [{"value": "ada@example.com", "type": "work"}],
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "ENGINEERING"},
    }

    record = mapping.apply(user, [], MappingContext(stable_id="s1")).record

    assert record["companyId"] == "c32ffb13-83f8-43fb-bddf-3e5c0c2dda24"
