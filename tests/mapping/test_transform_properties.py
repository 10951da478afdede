"""Properties of the transforms on any input: total, stable where they promise it, within their bounds."""

from __future__ import annotations

import json
import re
import unicodedata
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from scimbridge.mapping.redaction import REDACTED, Redacted, redacted_view
from scimbridge.mapping.transforms import SIMPLE, compile_transform

SPECS: list[Any] = [
    *SIMPLE,
    {"split": "@"},
    {"join": ", "},
    {"map": {"values": {"Engineering": "c-123", "true": 1, "3": False}, "default": "c-000"}},
    {"map": {"values": {"Sales": "c-456", "ß": "ss"}, "ignore_case": True}},
    {"replace": {"pattern": "[^A-Za-z0-9._-]+", "with": "-"}},
    {"replace": {"pattern": r"^(?P<local>[^@]*)@?(.*)$", "with": r"\2:\g<local>"}},
    {"replace": {"pattern": "(x)|y", "with": r"[\1]"}},
    {"truncate": 3},
    {"min_letters": 2},
    {"substring": {"start": 2, "length": 4}},
    {"substring": {"start": 1}},
    {"word": {"index": 2, "separators": " ,"}},
    {"word": {"index": -1}},
    {"date": {"format": "iso"}},
    {"date": {"format": "%Y-%m-%d %H:%M:%S %z %Z %j %a %B", "add": {"months": -13, "days": 400}}},
    {"date": {"format": "%G-W%V-%u", "add": {"years": 9000}}},
]
TRANSFORMS = {json.dumps(spec): compile_transform(spec) for spec in SPECS}

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text()
    | st.sampled_from(
        ["Engineering", "true", "3", "2024-05-17T09:30:00Z", "9999-12-31", "0001-01-01"]
    )
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(), children, max_size=5)
    ),
    max_leaves=20,
)
comparable_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=3), children, max_size=3)
    ),
    max_leaves=12,
)
DIACRITIC_BLOCKS = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
latin_letters = (
    st.characters(categories=("Lu", "Ll", "Lt"), min_codepoint=0x41, max_codepoint=0x17F)
    | st.characters(categories=("Lu", "Ll"), min_codepoint=0x1EA0, max_codepoint=0x1EF9)
).filter(lambda letter: unicodedata.name(letter, "").startswith("LATIN"))
"""The letters of Latin-1 Supplement and Latin Extended-A, and Vietnamese's (µ is Greek)."""


@pytest.mark.parametrize("name", TRANSFORMS)
@settings(max_examples=150, deadline=None)
@given(value=json_values)
@example(value="x" * 100_000)
@example(value=["a😀b", "\ud800", "e\u0301", "ǅ", "İ", "ŉ", 10**5000])
def test_every_transform_takes_any_json_value_without_raising(name, value):
    TRANSFORMS[name](value)


@given(text=st.text())
def test_normalize_diacritics_twice_is_once(text):
    normalize = SIMPLE["normalize_diacritics"]

    assert normalize(normalize(text)) == normalize(text)


@given(text=st.text())
def test_normalize_diacritics_leaves_no_combining_diacritical_mark(text):
    assert not DIACRITIC_BLOCKS.search(SIMPLE["normalize_diacritics"](text))


@given(text=st.text(alphabet=latin_letters | st.sampled_from(" -'.")))
def test_normalize_diacritics_writes_latin_letters_in_ascii(text):
    assert SIMPLE["normalize_diacritics"](text).isascii()


@given(text=st.text(alphabet=st.characters(max_codepoint=0x7F)))
def test_normalize_diacritics_leaves_ascii_alone(text):
    assert SIMPLE["normalize_diacritics"](text) == text


@given(text=st.text())
@example(text="\ud800")
def test_transliterate_writes_any_text_in_ascii(text):
    assert SIMPLE["transliterate"](text).isascii()


@given(text=st.text(max_size=8))
def test_min_letters_gives_the_text_itself_or_nothing(text):
    kept = compile_transform({"min_letters": 2})(text)

    assert kept == (text if sum(char.isalnum() for char in text) >= 2 else None)


REPLACE_PATTERNS = [r"^([^@]*)@([^.]*).*$", r"(?P<word>\w+)(?:-(\d))?", "(a)|(b)", "x*", "(?i)(É)"]
templates = st.lists(
    st.sampled_from([r"\1", r"\2", r"\g<1>", r"\g<word>", r"\g<0>", r"\n", r"\\", "{", "}", "{0}"])
    | st.text(max_size=3),
    max_size=6,
).map("".join)


@given(
    pattern=st.sampled_from(REPLACE_PATTERNS),
    template=templates,
    text=st.text(alphabet="ab@.-1xÉé{} \ue000", max_size=12),
)
@example(pattern=REPLACE_PATTERNS[0], template=r"\1.\2", text="jdoe@contoso.com")
def test_replace_gives_what_python_re_sub_gives(pattern, template, text):
    """The replacement is compiled once (a format string, not Python's template expanded
    at each match), with Python's meaning: escapes, names, unmatched groups as ""."""
    compiled = re.compile(pattern)
    try:
        expected = compiled.sub(template, text)
    except (re.error, IndexError):
        return  # the mapping file is refused at load (tests/mapping/test_mapping_file_errors.py)
    replace = compile_transform({"replace": {"pattern": pattern, "with": template}})
    assert replace(text) == expected


@given(text=st.text())
def test_title_case_twice_is_once(text):
    title_case = SIMPLE["title_case"]

    assert title_case(title_case(text)) == title_case(text)


@given(text=st.text())
def test_title_case_keeps_the_length(text):
    assert len(SIMPLE["title_case"](text)) == len(text)


@given(text=st.text())
def test_title_case_changes_nothing_but_case(text):
    assert SIMPLE["title_case"](text).upper() == text.upper()  # dotless i → "I" is a change of case


@given(values=st.lists(comparable_values, max_size=8))
def test_unique_twice_is_once(values):
    unique = SIMPLE["unique"]

    assert unique(unique(values)) == unique(values)


@given(values=st.lists(st.text(max_size=2), max_size=10))
def test_unique_keeps_each_first_occurrence_in_order(values):
    assert SIMPLE["unique"](values) == list(dict.fromkeys(values))


@given(values=st.lists(comparable_values, max_size=8))
def test_unique_keeps_a_subsequence_of_the_list(values):
    kept = iter(values)

    assert all(any(item is candidate for candidate in kept) for item in SIMPLE["unique"](values))


@given(size=st.integers(min_value=1, max_value=50), text=st.text())
def test_truncate_holds_its_length_limit(size, text):
    truncated = compile_transform({"truncate": size})(text)

    assert len(truncated) <= size
    assert text.startswith(truncated)


@given(
    start=st.integers(min_value=1, max_value=20),
    length=st.integers(min_value=1, max_value=20),
    text=st.text(),
)
def test_substring_is_a_slice_counted_from_one(start, length, text):
    spec = {"substring": {"start": start, "length": length}}

    assert compile_transform(spec)(text) == text[start - 1 : start - 1 + length]


@given(index=st.integers(-5, 5).filter(bool), text=st.text(alphabet="ab ,", max_size=20))
def test_word_gives_a_word_without_separators_or_nothing(index, text):
    word = compile_transform({"word": {"index": index, "separators": " ,"}})(text)

    assert word is None or (word and not set(word) & set(" ,") and word in text)


@given(value=st.text() | st.booleans() | st.integers())
def test_map_gives_a_replacement_the_default_or_nothing(value):
    spec = {"map": {"values": {"a": "x", "B": "y"}, "default": "z", "ignore_case": True}}

    assert compile_transform(spec)(value) in {"x", "y", "z"}


@given(
    moment=st.datetimes(
        min_value=datetime(1900, 1, 1),
        max_value=datetime(2999, 12, 31),
        timezones=st.sampled_from([UTC, None]),
    )
)
def test_date_iso_reads_back_the_moment_in_utc_to_the_second(moment):
    written = compile_transform({"date": {"format": "iso"}})(moment.isoformat())

    expected = moment.replace(tzinfo=UTC, microsecond=0)
    assert datetime.fromisoformat(written) == expected


@given(moment=st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2999, 1, 1)))
def test_date_adds_its_days(moment):
    spec = {"date": {"add": {"days": 45}, "format": "iso"}}

    written = compile_transform(spec)(moment.isoformat())

    later = moment.replace(tzinfo=UTC, microsecond=0) + timedelta(days=45)
    assert datetime.fromisoformat(written) == later


@given(text=st.text())
def test_date_of_any_string_is_a_string_or_nothing(text):
    assert isinstance(compile_transform({"date": {"format": "iso"}})(text), str | None)


def _every_string_redacted(value: Any) -> Any:
    if isinstance(value, str):
        return REDACTED
    if isinstance(value, list):
        return [_every_string_redacted(item) for item in value]
    if isinstance(value, dict):
        return {key: _every_string_redacted(item) for key, item in value.items()}
    return value


@given(value=comparable_values)
def test_redact_sends_the_vendor_the_value_unchanged(value):
    assert json.dumps(SIMPLE["redact"](value)) == json.dumps(value)


@given(value=comparable_values)
def test_redacted_view_shows_no_string_of_a_redacted_value(value):
    assert redacted_view(SIMPLE["redact"](value)) == _every_string_redacted(value)


@given(text=st.text(min_size=1))
def test_a_redacted_string_never_shows_in_its_repr(text):
    redacted = SIMPLE["redact"](text)

    assert isinstance(redacted, Redacted)
    assert repr(redacted) == REDACTED
    assert repr([redacted]) == f"[{REDACTED}]"
