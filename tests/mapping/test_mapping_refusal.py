"""A user the mapping cannot turn into a valid record is refused with a sentence naming the SCIM attribute."""

import pytest

from scimbridge.mapping import UnmappableUser, load_mapping
from scimbridge.vendors import record_shape


def refusal(mapping, user, groups=()) -> UnmappableUser:
    with pytest.raises(UnmappableUser) as caught:
        mapping.check(user, list(groups))
    return caught.value


def test_a_confide_user_without_email_is_refused_naming_the_work_email(mappings, okta_user):
    user = okta_user("ada", "Ada", "Lovelace", "ada@example.com", emails=[])

    error = refusal(mappings["confide"], user)

    assert error.attribute == 'emails[type eq "work"].value'
    assert error.detail == (
        'emails[type eq "work"].value is required by '
        f"{mappings['confide'].label} (email) but the user has none"
    )


def test_a_refusal_names_the_mapping_by_its_label_never_its_path(mappings_dir, okta_user):
    path = str(mappings_dir / "confide.yaml")
    user = okta_user("ada", "Ada", "Lovelace", "ada@example.com", emails=[])

    error = refusal(load_mapping(path, record_shape, label="confide.yaml"), user)

    assert "required by confide.yaml (email)" in error.detail
    assert str(mappings_dir) not in error.detail


def test_a_rocketchat_user_without_email_is_refused(mappings, okta_user):
    user = okta_user("ada", "Ada", "Lovelace", "ada@example.com", emails=[])

    assert refusal(mappings["rocketchat"], user).attribute == "emails.value"


def test_an_aria_username_aria_refuses_is_named(mappings, okta_user):
    user = okta_user("ada lovelace", "Ada", "Lovelace", "ada@example.com")

    error = refusal(mappings["aria"], user)

    assert error.attribute == "userName"
    assert "username" in error.detail


def test_a_refusal_never_quotes_the_value(mappings, okta_user):
    given_name = "Secretive" * 40
    user = okta_user("ada@example.com", given_name, "Lovelace", "ada@example.com")

    error = refusal(mappings["acc"], user)

    assert error.attribute == "name.givenName"
    assert given_name not in error.detail


def test_an_acc_name_longer_than_acc_accepts_is_refused(mappings, okta_user):
    user = okta_user("ada@example.com", "A" * 256, "Lovelace", "ada@example.com")

    assert refusal(mappings["acc"], user).attribute == "name.givenName"
