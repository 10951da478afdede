"""Any valid SCIM user through any mapping: a record of the vendor's shape, or a 400 naming the attribute."""

from __future__ import annotations

import json
from importlib import resources

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from scimbridge.mapping import MappingContext, UnmappableUser
from scimbridge.vendors.base import Action

ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
MAPPED_GROUPS = [
    "Confide Coordinators", "Confide Link Sharers", "ACC Administrators", "ACC Members",
    "Contoso Staff", "ACC Engineers", "Aria Read Only", "Aria Administrators", "Aria Operators",
    "Chat Admins",
]  # fmt: skip

text = st.text(max_size=40)
emails = st.lists(
    st.fixed_dictionaries(
        {"value": st.one_of(st.emails(), text)},
        optional={"type": st.sampled_from(["work", "home", "other"]), "primary": st.booleans()},
    ),
    max_size=3,
)
names = st.fixed_dictionaries(
    {}, optional={"givenName": text, "familyName": text, "formatted": text, "middleName": text}
)
enterprise = st.fixed_dictionaries(
    {},
    optional={
        "department": text,
        "employeeNumber": text,
        "manager": st.fixed_dictionaries({"value": text}),
    },
)
users = st.fixed_dictionaries(
    {"userName": st.text(min_size=1, max_size=60)},
    optional={
        "externalId": text,
        "displayName": text,
        "name": names,
        "emails": emails,
        "active": st.booleans(),
        "password": text,
        "title": text,
        ENTERPRISE: enterprise,
    },
)
groups = st.lists(st.one_of(st.sampled_from(MAPPED_GROUPS), text), max_size=4)
contexts = st.builds(
    MappingContext,
    stable_id=st.text(min_size=1, max_size=36),
    vendor_id=st.one_of(st.none(), st.uuids().map(str)),
    first_import=st.booleans(),
    deleted=st.booleans(),
)


def record_schema(vendor: str) -> Draft202012Validator:
    path = resources.files("scimbridge.vendors").joinpath("records", f"{vendor}.json")
    return Draft202012Validator(json.loads(path.read_text()))


@pytest.mark.parametrize("vendor", ["confide", "acc", "aria", "rocketchat", "cloudshell"])
@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(user=users, memberships=groups, context=contexts)
def test_a_user_becomes_a_valid_record_or_a_refusal_naming_the_attribute(
    mappings, vendor, user, memberships, context
):
    try:
        mapped = mappings[vendor].apply(user, memberships, context)
    except UnmappableUser as refusal:
        assert refusal.attribute
        assert refusal.attribute.split(",")[0] in refusal.detail
    else:
        assert isinstance(mapped.action, Action)
        assert record_schema(vendor).is_valid(mapped.record)


@pytest.mark.parametrize("vendor", ["confide", "acc", "aria", "rocketchat", "cloudshell"])
@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(user=users, memberships=groups, context=contexts)
def test_every_managed_field_is_stated_and_grants_only_managed_values(
    mappings, vendor, user, memberships, context
):
    try:
        mapped = mappings[vendor].apply(user, memberships, context)
    except UnmappableUser:
        return
    for name, values in mapped.managed.items():
        assert isinstance(mapped.record[name], list)
        assert all(value in values for value in mapped.record[name])
