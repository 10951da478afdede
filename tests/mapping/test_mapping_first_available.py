"""``first_available`` in the mapping (docs/mapping.md, "Unique values"): the record carries
the first candidate the vendor's record shape takes; the later ones are worked out in order,
only when the delivery asks for them (the vendor holds the one before)."""

from __future__ import annotations

import pytest

from scimbridge.mapping import MappingContext, UnmappableUser, load_mapping
from scimbridge.mapping.shapes import RecordShape

SHAPE = RecordShape(
    "chat",
    {
        "type": "object",
        "required": ["username"],
        "properties": {"username": {"type": "string", "minLength": 1, "maxLength": 8}},
    },
    unique_fields=frozenset({"username"}),
)
"""A vendor whose user names are at most eight characters long."""
MAPPING = """\
vendor: chat
record:
  username:
    first_available:
      - {path: userName, transform: [{split: "@"}, first]}
      - {path: userName, transform: {replace: {pattern: "^(.)[^@]*@(.).*$", with: "\\\\1.\\\\2"}}}
      - const: fallback
deprovision:
  on_deactivate: {action: disable, note: deactivated}
  on_reactivate: {action: import, note: re-activated}
  on_delete: {action: remove, note: deleted}
"""
FIRST_DELIVERY = MappingContext(stable_id="link-1")


@pytest.fixture
def mapping(write_mapping):
    return load_mapping(write_mapping(MAPPING), lambda vendor: SHAPE)


def user(user_name: str) -> dict:
    return {"userName": user_name, "active": True}


def test_the_record_carries_the_first_candidate_and_works_out_no_other(mapping):
    mapped = mapping.apply(user("john@b.example"), [], FIRST_DELIVERY)

    assert mapped.record["username"] == "john"
    assert mapped.choices["username"].values == ["john"]


def test_a_later_candidate_is_worked_out_when_the_delivery_asks_for_it(mapping):
    candidates = mapping.apply(user("john@b.example"), [], FIRST_DELIVERY).choices["username"]

    assert [candidates.at(1), candidates.at(2), candidates.at(3)] == ["j.b", "fallback", None]
    assert candidates.all() == ["john", "j.b", "fallback"]


def test_a_first_candidate_the_shape_refuses_is_passed_over(mapping):
    mapped = mapping.apply(user("christopher@b.example"), [], FIRST_DELIVERY)

    assert mapped.record["username"] == "c.b"
    assert mapped.choices["username"].refused == ["christopher"]


def test_a_later_candidate_the_shape_refuses_never_refuses_the_user(write_mapping):
    """Only a candidate the user may get decides: the SCIM write is not refused for a
    fallback that is too long, and the delivery passes it over if it comes to it."""
    text = MAPPING.replace("const: fallback", "const: much-too-long-for-chat")
    mapping = load_mapping(write_mapping(text), lambda vendor: SHAPE)

    candidates = mapping.apply(user("john@b.example"), [], FIRST_DELIVERY).choices["username"]

    assert candidates.all() == ["john", "j.b"]
    assert candidates.refused == ["much-too-long-for-chat"]


def test_a_user_whose_every_candidate_the_shape_refuses_is_refused(write_mapping):
    text = MAPPING.replace("      - const: fallback\n", "")
    mapping = load_mapping(write_mapping(text), lambda vendor: SHAPE)

    with pytest.raises(UnmappableUser, match="userName") as refusal:
        mapping.check(user("christopherrobin"), [])

    assert "must be at most 8 characters" in refusal.value.detail


def test_a_value_chosen_before_is_the_value_without_any_candidate(mapping):
    chosen = MappingContext(stable_id="link-1", chosen={"username": "j.b"})

    mapped = mapping.apply(user("john@b.example"), [], chosen)

    assert mapped.record["username"] == "j.b" and mapped.choices == {}
