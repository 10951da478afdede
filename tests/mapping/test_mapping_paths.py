"""SCIM attribute paths (RFC 7644 §3.5.2), compiled once and read from a stored user dict."""

import pytest

from scimbridge.mapping.paths import InvalidSourcePath, SourcePath

ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
USER = {
    "userName": "bjensen",
    "name": {"givenName": "Barbara", "familyName": "Jensen"},
    "emails": [
        {"value": "babs@home.example", "type": "home"},
        {"value": "bjensen@work.example", "type": "work", "primary": True},
        {"value": "", "type": "other"},
    ],
    "addresses": [{"type": "work", "locality": "Hollywood"}],
    ENTERPRISE: {"department": "Tour Operations", "manager": {"value": "26118915"}},
}


def read(text: str):
    return SourcePath(text).read(USER)


def test_a_simple_attribute_is_read():
    assert read("userName") == "bjensen"


def test_a_sub_attribute_is_read():
    assert read("name.familyName") == "Jensen"


def test_attribute_names_are_case_insensitive():
    assert read("NAME.GivenName") == "Barbara"


def test_a_multi_valued_attribute_gives_every_value_primary_first_without_empty_ones():
    assert read("emails.value") == ["bjensen@work.example", "babs@home.example"]


def test_a_value_filter_selects_entries_with_case_insensitive_strings():
    assert read('emails[type eq "WORK"].value') == ["bjensen@work.example"]


def test_a_value_filter_with_logic_and_presence():
    assert read('emails[not (primary pr) and value ew "example"].value') == ["babs@home.example"]


def test_a_value_filter_can_select_another_sub_attribute():
    assert read('addresses[type eq "work"].locality') == ["Hollywood"]


def test_a_filter_matching_nothing_gives_none():
    assert read('emails[type eq "pager"].value') is None


def test_an_enterprise_extension_attribute_is_read_under_its_urn():
    assert read(f"{ENTERPRISE}:department") == "Tour Operations"


def test_an_enterprise_extension_sub_attribute_is_read():
    assert read(f"{ENTERPRISE}:manager.value") == "26118915"


def test_a_fully_qualified_core_attribute_is_read():
    assert read("urn:ietf:params:scim:schemas:core:2.0:User:userName") == "bjensen"


def test_a_missing_attribute_gives_none():
    assert read("nickName") is None


def test_a_missing_extension_gives_none():
    assert SourcePath(f"{ENTERPRISE}:department").read({"userName": "x"}) is None


def test_a_value_of_the_wrong_json_type_gives_none_not_an_error():
    assert SourcePath("name.givenName").read({"name": "Barbara"}) is None


@pytest.mark.parametrize(
    "text",
    ["nickname.value", "mail", 'emails[kind eq "work"].value', "emails[type eq", "urn:x:y:foo"],
)
def test_a_path_the_user_schema_does_not_have_is_refused(text):
    with pytest.raises(InvalidSourcePath):
        SourcePath(text)
