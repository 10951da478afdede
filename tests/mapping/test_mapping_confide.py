"""mappings/confide.yaml against the PrivilegedUser sample of AvePoint's "Import Confide Sharing Users"
reference (AvePoint Graph API, learn.avepoint.com)."""

from scimbridge.mapping import MappingContext
from scimbridge.vendors.base import Action

SEED_SAMPLE = [
    {"email": "user1@example.com", "isShareCoordinator": True, "canShareLink": True},
    {
        "email": "user2@example.com",
        "isShareCoordinator": False,
        "canShareLink": True,
        "sendInvitationEmail": True,
    },
]
PERMISSIONS = (
    "isShareCoordinator",
    "canConfigureScan",
    "canGenerateAccessCodeLinkInShareCenter",
    "canShareLink",
    "canGenerateUploadLink",
    "canGenerateDownloadLinkInShareCenter",
    "canGenerateUploadLinkInShareCenter",
)
NO_PERMISSION = dict.fromkeys(PERMISSIONS, False)


def test_the_seed_sample_with_every_other_permission_false_comes_from_two_users(
    mappings, entra_user, okta_user, first_import, reimport
):
    coordinator = entra_user("user1@example.com", "User", "One")
    link_sharer = okta_user("user2@example.com", "User", "Two", "user2@example.com")

    records = [
        mappings["confide"].apply(coordinator, ["Confide Coordinators"], reimport).record,
        mappings["confide"].apply(link_sharer, ["Confide Link Sharers"], first_import).record,
    ]

    assert records == [{**NO_PERMISSION, **sample} for sample in SEED_SAMPLE]


def test_confide_states_every_permission_for_a_user_in_no_group(mappings, okta_user, reimport):
    user = okta_user("u@example.com", "U", "Ser", "u@example.com")

    record = mappings["confide"].apply(user, [], reimport).record

    assert record == {"email": "u@example.com", **NO_PERMISSION}


def test_leaving_the_link_sharers_makes_can_share_link_false(mappings, okta_user, reimport):
    user = okta_user("u@example.com", "U", "Ser", "u@example.com")
    confide = mappings["confide"]

    before = confide.apply(user, ["Confide Link Sharers"], reimport).record
    after = confide.apply(user, [], reimport).record

    assert (before["canShareLink"], after["canShareLink"]) == (True, False)


def test_group_names_match_whatever_their_case(mappings, okta_user, reimport):
    user = okta_user("u@example.com", "U", "Ser", "u@example.com")

    record = mappings["confide"].apply(user, ["confide COORDINATORS"], reimport).record

    assert record["isShareCoordinator"] is True


def test_the_invitation_is_sent_on_the_first_import_only(mappings, okta_user, reimport):
    user = okta_user("u@example.com", "U", "Ser", "u@example.com")

    assert "sendInvitationEmail" not in mappings["confide"].apply(user, [], reimport).record


def test_deactivation_updates_the_user_with_every_permission_false(mappings, entra_user, reimport):
    user = entra_user("user1@example.com", "User", "One", active=False)

    mapped = mappings["confide"].apply(user, ["Confide Coordinators"], reimport)

    assert mapped.action is Action.DISABLE
    assert all(mapped.record[flag] is False for flag in PERMISSIONS)


def test_delete_also_revokes_every_permission(mappings, entra_user):
    user = entra_user("user1@example.com", "User", "One")
    deleted = MappingContext(stable_id="link-1", first_import=False, deleted=True)

    mapped = mappings["confide"].apply(user, ["Confide Coordinators"], deleted)

    assert mapped.action is Action.DISABLE
    assert not any(mapped.record[flag] for flag in PERMISSIONS)
