"""The field expression forms of a mapping file (docs/mapping.md, "Field expressions")."""

import pytest

from scimbridge.mapping import MappingContext
from scimbridge.mapping.expressions import ExpressionCompiler, ExpressionError

USER = {
    "userName": "Ada.Lovelace@Example.com",
    "displayName": "Ada Lovelace",
    "name": {"givenName": "Ada", "familyName": "Lovelace"},
    "emails": [{"value": "ada@example.com", "type": "work", "primary": True}],
    "nickName": "true",
}
CONTEXT = MappingContext(stable_id="link-7", vendor_id=None, first_import=True)


def value(spec, groups=(), context=CONTEXT, user=USER):
    expression = ExpressionCompiler().expression(spec, ("record", "field"))
    return expression.evaluate(user, frozenset(name.casefold() for name in groups), context)


def test_a_bare_string_is_a_scim_path():
    assert value("displayName") == "Ada Lovelace"


def test_a_boolean_or_number_is_a_constant():
    assert (value(True), value(3)) == (True, 3)


def test_const_gives_a_string_constant():
    assert value({"const": "docs"}) == "docs"


def test_a_multi_valued_path_gives_its_first_value_unless_asked_for_a_list():
    assert (value("emails.value"), value({"path": "emails.value", "as": "list"})) == (
        "ada@example.com",
        ["ada@example.com"],
    )


def test_as_list_wraps_a_single_value():
    assert value({"value_of": "bridge.stable_id", "as": "list"}) == ["link-7"]


def test_a_template_composes_attributes():
    assert value({"template": "{name.familyName}, {name.givenName}"}) == "Lovelace, Ada"


def test_a_template_with_a_missing_attribute_gives_nothing_so_the_fallback_applies():
    assert value({"template": "{name.givenName} {name.middleName}", "fallback": "displayName"}) == (
        "Ada Lovelace"
    )


def test_a_template_keeps_escaped_braces():
    assert (
        value({"template": "{{{userName}}}", "transform": "lower"}) == "{ada.lovelace@example.com}"
    )


def test_a_fallback_applies_when_the_path_gives_nothing():
    assert value({"path": "title", "fallback": "displayName"}) == "Ada Lovelace"


def test_a_default_applies_when_nothing_else_gives_a_value():
    assert value({"path": "title", "default": "none"}) == "none"


def test_transforms_apply_in_order():
    assert value({"path": "userName", "transform": [{"split": "@"}, "first", "lower"]}) == (
        "ada.lovelace"
    )


def test_join_makes_one_string_of_a_multi_valued_attribute():
    user = {"emails": [{"value": "a@x"}, {"value": "b@x"}]}
    assert value({"path": "emails.value", "transform": {"join": ";"}}, user=user) == "a@x;b@x"


def test_bool_reads_the_words_okta_sends_for_booleans():
    assert value({"path": "nickName", "transform": "bool"}) is True


def test_not_negates():
    assert value({"value_of": "bridge.first_import", "transform": "not"}) is False


def test_from_groups_gives_the_value_of_the_first_listed_group_the_user_is_in():
    spec = {"from_groups": {"Admins": "administrator", "Staff": "member"}, "default": "none"}
    assert value(spec, groups=["staff", "admins"]) == "administrator"


def test_from_groups_gives_the_default_to_a_user_in_no_listed_group():
    spec = {"from_groups": {"Admins": "administrator"}, "default": "none"}
    assert value(spec, groups=["Others"]) == "none"


def test_from_groups_as_list_collects_every_match_once():
    spec = {"from_groups": {"A": ["x", "y"], "B": "y", "C": "z"}, "as": "list"}
    assert value(spec, groups=["A", "B"]) == ["x", "y"]


def test_from_groups_values_are_fresh_copies_for_each_record():
    spec = {"from_groups": {"A": {"roleName": "ReadOnly"}}, "as": "list"}
    first = value(spec, groups=["A"])
    first[0]["roleName"] = "changed"
    assert value(spec, groups=["A"]) == [{"roleName": "ReadOnly"}]


def test_from_groups_as_list_gives_an_empty_list_to_a_user_in_no_listed_group():
    assert value({"from_groups": {"A": "x"}, "as": "list"}, groups=["Others"]) == []


def test_an_empty_group_list_is_kept_inside_an_object():
    spec = {"object": {"roles": {"from_groups": {"A": "x"}, "as": "list"}}}
    assert value(spec) == {"roles": []}


def test_when_keeps_the_field_only_if_the_condition_holds():
    spec = {"const": True, "when": "bridge.first_import"}
    reimport = MappingContext(stable_id="s", first_import=False)
    assert (value(spec), value(spec, context=reimport)) == (True, None)


def test_unless_drops_the_field_if_the_condition_holds():
    spec = {"const": True, "unless": "bridge.first_import"}
    assert value(spec) is None


def test_value_of_reads_a_bridge_fact():
    assert value({"value_of": "bridge.stable_id"}) == "link-7"


def test_an_absent_vendor_id_gives_nothing():
    assert value({"value_of": "bridge.vendor_id"}) is None


def test_object_builds_a_nested_object():
    spec = {"object": {"key": {"const": "docs"}, "access": {"const": "member"}}}
    assert value(spec) == {"key": "docs", "access": "member"}


def test_a_list_leaves_out_items_that_give_nothing():
    assert value(["displayName", "title"]) == ["Ada Lovelace"]


@pytest.mark.parametrize(
    "spec",
    [
        {"path": "displayName", "const": "x"},
        {"default": "x"},
        {"path": "bridge.stable_id"},
        {"template": "no placeholder"},
        {"template": "{}"},
        {"from_groups": {"Admins": "administrator"}},
        {"from_groups": {"Admins": "admin"}, "as": "list", "transform": "upper"},
        {"from_groups": {"Admins": "admin"}, "as": "list", "fallback": "title"},
        "bridge.tenant",
        "notAnAttribute",
    ],
)
def test_an_expression_that_cannot_work_is_refused_when_compiled(spec):
    with pytest.raises(ExpressionError):
        value(spec)
