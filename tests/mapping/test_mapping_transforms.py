"""The transforms named after Entra ID's functions (docs/mapping.md, "Transforms")."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from scimbridge.commands.mapping import mapping
from scimbridge.mapping import MappingContext, MappingFileError, load_mapping
from scimbridge.mapping.expressions import ExpressionCompiler, ExpressionError
from scimbridge.mapping.redaction import Redacted, redacted_view
from scimbridge.mapping.transforms import compile_transform
from scimbridge.vendors import record_shape

CONTEXT = MappingContext(stable_id="link-7")
MAPPING = """\
vendor: aria
record:
  username: userName
  firstName: {path: name.givenName, transform: TRANSFORM}
deprovision:
  on_deactivate: {action: disable, set: {enabled: false}, note: deactivated}
  on_reactivate: {action: import, note: re-activated}
  on_delete: {action: disable, set: {enabled: false}, note: deleted}
"""


def transformed(spec, value):
    return compile_transform(spec)(value)


def refused(write_mapping, transform: str) -> MappingFileError:
    path = write_mapping(MAPPING.replace("TRANSFORM", transform))
    with pytest.raises(MappingFileError) as caught:
        load_mapping(path, record_shape)
    return caught.value


def mapped(write_mapping, transform: str, user: dict) -> dict:
    mapping = load_mapping(write_mapping(MAPPING.replace("TRANSFORM", transform)), record_shape)
    return mapping.apply({"userName": "zoe", **user}, [], CONTEXT).record


# -- map ----------------------------------------------------------------------------

DEPARTMENTS = {"values": {"Engineering": "c-123", "Sales": "c-456"}, "default": "c-000"}


def test_map_replaces_a_value_by_its_entry():
    assert transformed({"map": DEPARTMENTS}, "Sales") == "c-456"


def test_map_gives_the_default_to_a_value_without_an_entry():
    assert transformed({"map": DEPARTMENTS}, "Legal") == "c-000"


def test_map_without_a_default_gives_nothing_for_a_value_without_an_entry():
    assert transformed({"map": {"values": {"Sales": "c-456"}}}, "Legal") is None


def test_map_without_a_default_lets_the_field_default_take_over():
    spec = {
        "path": "title",
        "transform": {"map": {"values": {"Engineer": "eng"}}},
        "default": "staff",
    }
    expression = ExpressionCompiler().expression(spec, ("record", "field"))

    assert expression.evaluate({"title": "Clerk"}, frozenset(), CONTEXT) == "staff"


def test_map_compares_case_exactly_by_default():
    assert transformed({"map": {"values": {"Sales": "c-456"}}}, "sales") is None


def test_map_ignores_case_when_asked():
    spec = {"map": {"values": {"Sales": "c-456"}, "ignore_case": True}}

    assert transformed(spec, "SALES") == "c-456"


def test_map_looks_a_boolean_up_as_true_or_false():
    spec = {"map": {"values": {"true": "enabled", "false": "disabled"}}}

    assert (transformed(spec, True), transformed(spec, False)) == ("enabled", "disabled")


def test_map_looks_up_each_item_of_a_list_leaving_out_those_without_entry():
    spec = {"map": {"values": {"Sales": "c-456", "Engineering": "c-123"}}}

    assert transformed(spec, ["Engineering", "Legal", "Sales"]) == ["c-123", "c-456"]


def test_map_passes_an_object_unchanged():
    assert transformed({"map": DEPARTMENTS}, {"value": "Sales"}) == {"value": "Sales"}


def test_map_with_an_unknown_key_is_refused_at_that_key(write_mapping):
    error = refused(write_mapping, "{map: {valuse: {Sales: c-456}}}")

    assert (error.line, error.key) == (4, "record.firstName.transform.map.valuse")
    assert "allowed here: values, default, ignore_case" in error.message


def test_map_with_a_key_yaml_reads_as_a_boolean_is_refused(write_mapping):
    error = refused(write_mapping, "{map: {values: {yes: c-1}}}")

    assert (error.line, error.key) == (4, "record.firstName.transform.map.values")
    assert "quote it" in error.message


def test_map_with_two_keys_equal_when_case_is_ignored_is_refused(write_mapping):
    error = refused(write_mapping, "{map: {values: {Sales: a, SALES: b}, ignore_case: true}}")

    assert error.key == "record.firstName.transform.map.values.SALES"


def test_map_with_a_list_as_replacement_is_refused(write_mapping):
    error = refused(write_mapping, "{map: {values: {Sales: [a, b]}}}")

    assert error.key == "record.firstName.transform.map.values.Sales"


# -- replace ------------------------------------------------------------------------


def test_replace_replaces_every_match():
    spec = {"replace": {"pattern": "[^A-Za-z0-9._-]+", "with": "-"}}

    assert transformed(spec, "ada lovelace+it@x") == "ada-lovelace-it-x"


def test_replace_writes_a_numbered_group():
    spec = {"replace": {"pattern": "^CN=([^,]+),.*$", "with": r"\1"}}

    assert transformed(spec, "CN=jdoe,OU=Users,DC=contoso,DC=com") == "jdoe"


def test_replace_writes_a_named_group():
    spec = {"replace": {"pattern": "^(?P<local>[^@]+)@.*$", "with": r"\g<local>@fabrikam.com"}}

    assert transformed(spec, "jane@contoso.com") == "jane@fabrikam.com"


def test_replace_applies_to_each_string_of_a_list():
    spec = {"replace": {"pattern": " ", "with": ""}}

    assert transformed(spec, ["a b", 3, "c d"]) == ["ab", 3, "cd"]


def test_replace_with_a_pattern_that_does_not_compile_is_refused(write_mapping):
    error = refused(write_mapping, "{replace: {pattern: '([a-z]', with: x}}")

    assert (error.line, error.key) == (4, "record.firstName.transform.replace.pattern")
    assert "not a valid regular expression" in error.message


def test_replace_naming_a_group_the_pattern_does_not_have_is_refused(write_mapping):
    error = refused(write_mapping, r"{replace: {pattern: '(a)', with: '\2'}}")

    assert (error.line, error.key) == (4, "record.firstName.transform.replace.with")


def test_replace_naming_an_unknown_group_name_is_refused(write_mapping):
    error = refused(write_mapping, r"{replace: {pattern: '(?P<local>a)', with: '\g<domain>'}}")

    assert error.key == "record.firstName.transform.replace.with"
    assert "domain" in error.message


def test_replace_without_its_replacement_is_refused(write_mapping):
    error = refused(write_mapping, "{replace: {pattern: a}}")

    assert error.key == "record.firstName.transform.replace"
    assert "with" in error.message


# -- normalize_diacritics -----------------------------------------------------------


def test_normalize_diacritics_removes_accents():
    assert transformed("normalize_diacritics", "Zoë Ångström") == "Zoe Angstrom"


@pytest.mark.parametrize(
    ("letter", "ascii"),
    [("ß", "ss"), ("æ", "ae"), ("Æ", "AE"), ("ø", "o"), ("ł", "l"), ("Ł", "L"), ("đ", "d"),
     ("ð", "d"), ("þ", "th"), ("œ", "oe"), ("\u0131", "i"), ("ǿ", "o"), ("ŀ", "l")],
)  # fmt: skip
def test_normalize_diacritics_writes_letters_nfkd_does_not_decompose_in_ascii(letter, ascii):
    assert transformed("normalize_diacritics", letter) == ascii


def test_normalize_diacritics_keeps_other_scripts_whole():
    assert transformed("normalize_diacritics", "한국어 がぎ हिन्दी") == "한국어 がぎ हिन्दी"


def test_normalize_diacritics_writes_compatibility_forms_plainly():
    assert transformed("normalize_diacritics", "ﬁle \uff21") == "file A"


def test_normalize_diacritics_applies_to_each_string_of_a_list():
    assert transformed("normalize_diacritics", ["Zoë", 1]) == ["Zoe", 1]


# -- transliterate --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "ascii"),
    [("Иван Петров", "Ivan Petrov"), ("Γιώργος", "Giorgos"), ("محمد", "mhmd"),
     ("やまだたろう", "yamadatarou"), ("李小龙", "LiXiaoLong"), ("김민준", "GimMinJun"),
     ("Zoë Ångström", "Zoe Angstrom"), ("Straße", "Strasse")],
)  # fmt: skip
def test_transliterate_writes_every_script_in_ascii(text, ascii):
    assert transformed("transliterate", text) == ascii


def test_transliterate_reads_han_characters_in_mandarin_whatever_the_language():
    """A readable name, though not the Japanese reading "yamada taro" (docs/mapping.md)."""
    assert transformed("transliterate", "山田太郎") == "ShanTianTaiLang"


def test_transliterate_leaves_ascii_alone():
    assert transformed("transliterate", "john.doe+test@example.com") == "john.doe+test@example.com"


def test_transliterate_applies_to_each_string_of_a_list():
    assert transformed("transliterate", ["Иван", 1]) == ["Ivan", 1]


# -- min_letters ----------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "-", "-.-", "j", "._-"])
def test_min_letters_gives_nothing_for_a_string_with_fewer_letters_or_digits(text):
    assert transformed({"min_letters": 2}, text) is None


@pytest.mark.parametrize("text", ["jo", "-j-1-", "山田", "ив"])
def test_min_letters_keeps_a_string_with_enough_letters_or_digits_of_any_script(text):
    assert transformed({"min_letters": 2}, text) == text


def test_min_letters_leaves_out_the_items_of_a_list_with_too_few():
    assert transformed({"min_letters": 2}, ["-", "jo", "-.-", "ann"]) == ["jo", "ann"]


@pytest.mark.parametrize("argument", ["0", "two", "true"])
def test_min_letters_takes_a_positive_whole_number(write_mapping, argument):
    error = refused(write_mapping, f"{{min_letters: {argument}}}")

    assert error.key.startswith("record.firstName.transform")


# -- title_case ---------------------------------------------------------------------


def test_title_case_capitalises_each_word():
    assert transformed("title_case", "ada LOVELACE") == "Ada Lovelace"


def test_title_case_starts_a_word_after_a_hyphen_and_after_an_apostrophe_behind_one_letter():
    assert transformed("title_case", "o'neil-smith") == "O'Neil-Smith"


def test_title_case_does_not_start_a_word_after_an_apostrophe_in_a_word():
    assert transformed("title_case", "DON'T") == "Don't"


def test_title_case_does_not_capitalise_a_letter_after_a_digit():
    assert transformed("title_case", "3RD floor") == "3rd Floor"


def test_title_case_keeps_a_letter_whose_capital_is_two_letters():
    assert transformed("title_case", "ßen") == "ßen"


# -- truncate, substring, word ------------------------------------------------------


def test_truncate_keeps_the_first_characters():
    assert transformed({"truncate": 3}, "Lovelace") == "Lov"


def test_truncate_keeps_a_shorter_string():
    assert transformed({"truncate": 30}, "Ada") == "Ada"


def test_truncate_counts_code_points_so_never_splits_an_emoji():
    assert transformed({"truncate": 2}, "a😀b") == "a😀"


def test_truncate_refuses_a_negative_size_at_load(write_mapping):
    error = refused(write_mapping, "{truncate: -1}")

    assert (error.line, error.key) == (4, "record.firstName.transform.truncate")


def test_truncate_refuses_a_size_that_is_not_an_integer_at_load(write_mapping):
    error = refused(write_mapping, "{truncate: '20'}")

    assert error.key == "record.firstName.transform.truncate"


def test_substring_counts_from_one():
    assert transformed({"substring": {"start": 2, "length": 3}}, "abcdef") == "bcd"


def test_substring_without_length_keeps_the_rest():
    assert transformed({"substring": {"start": 4}}, "abcdef") == "def"


def test_substring_past_the_end_gives_nothing():
    assert transformed({"substring": {"start": 9}}, "abc") == ""


def test_substring_refuses_start_zero_at_load(write_mapping):
    error = refused(write_mapping, "{substring: {start: 0, length: 5}}")

    assert (error.line, error.key) == (4, "record.firstName.transform.substring.start")


def test_word_counts_from_one():
    assert transformed({"word": {"index": 2}}, "Ada King Lovelace") == "King"


def test_word_minus_one_is_the_last_word():
    assert transformed({"word": {"index": -1}}, "Ada King Lovelace") == "Lovelace"


def test_word_separators_are_characters_and_runs_count_once():
    assert transformed({"word": {"index": 2, "separators": " ,"}}, "Lovelace, Ada") == "Ada"


def test_word_that_is_not_there_gives_nothing():
    assert transformed({"word": {"index": 3}}, "Ada Lovelace") is None


def test_word_refuses_index_zero_at_load(write_mapping):
    error = refused(write_mapping, "{word: {index: 0}}")

    assert (error.line, error.key) == (4, "record.firstName.transform.word.index")
    assert "count from 1" in error.message


# -- date ---------------------------------------------------------------------------


def test_date_writes_a_scim_datetime_in_a_format():
    assert transformed({"date": {"format": "%d/%m/%Y"}}, "2024-05-17T09:30:00Z") == "17/05/2024"


def test_date_adds_days():
    spec = {"date": {"add": {"days": 30}, "format": "%Y-%m-%d"}}

    assert transformed(spec, "2024-05-17T09:30:00Z") == "2024-06-16"


def test_date_adds_calendar_months_to_the_last_day_of_a_shorter_month():
    spec = {"date": {"add": {"months": 1}, "format": "%Y-%m-%d"}}

    assert transformed(spec, "2024-01-31") == "2024-02-29"


def test_date_iso_writes_utc():
    spec = {"date": {"format": "iso"}}

    assert transformed(spec, "2024-05-17T09:30:00+02:00") == "2024-05-17T07:30:00Z"


def test_date_reads_a_date_without_offset_as_utc():
    assert transformed({"date": {"format": "iso"}}, "2024-05-17") == "2024-05-17T00:00:00Z"


def test_date_of_a_string_that_is_no_date_gives_nothing():
    assert transformed({"date": {"format": "iso"}}, "next tuesday") is None


def test_date_moved_out_of_the_calendar_gives_nothing():
    spec = {"date": {"add": {"years": 10}, "format": "iso"}}

    assert transformed(spec, "9995-01-01") is None


def test_date_refuses_an_unknown_directive_at_load(write_mapping):
    error = refused(write_mapping, "{date: {format: '%Y-%Q'}}")

    assert (error.line, error.key) == (4, "record.firstName.transform.date.format")
    assert "%Q" in error.message


def test_date_refuses_an_unknown_unit_at_load(write_mapping):
    error = refused(write_mapping, "{date: {format: iso, add: {fortnights: 1}}}")

    assert error.key == "record.firstName.transform.date.add.fortnights"


def test_date_refuses_an_offset_no_date_can_take_at_load(write_mapping):
    error = refused(write_mapping, "{date: {format: iso, add: {days: 99999999999}}}")

    assert error.key == "record.firstName.transform.date.add"


# -- unique -------------------------------------------------------------------------


def test_unique_keeps_the_first_occurrence_in_order():
    assert transformed("unique", ["b", "a", "b", "c", "a"]) == ["b", "a", "c"]


def test_unique_compares_objects_by_equality():
    roles = [{"roleName": "ReadOnly"}, {"roleName": "Admin"}, {"roleName": "ReadOnly"}]

    assert transformed("unique", roles) == [{"roleName": "ReadOnly"}, {"roleName": "Admin"}]


def test_unique_tells_true_from_one():
    assert transformed("unique", [1, True, 1.0, False, 0]) == [1, True, False, 0]


def test_unique_passes_a_string_unchanged():
    assert transformed("unique", "aab") == "aab"


# -- redact -------------------------------------------------------------------------


def test_redact_keeps_the_value_for_the_vendor():
    value = transformed("redact", "CN=jdoe,DC=contoso")

    assert value == "CN=jdoe,DC=contoso"
    assert json.dumps({"dn": value}) == '{"dn": "CN=jdoe,DC=contoso"}'


def test_redact_hides_the_value_from_repr():
    record = {"dn": transformed("redact", "CN=jdoe,DC=contoso")}

    assert "jdoe" not in repr(record)
    assert "jdoe" not in f"{record}"


def test_redacted_view_shows_redacted_in_place_of_each_marked_string():
    record = {"dn": transformed("redact", "CN=jdoe"), "tags": transformed("redact", ["a", 1])}

    assert redacted_view(record) == {"dn": "<redacted>", "tags": ["<redacted>", 1]}


def test_redact_must_be_the_last_transform(write_mapping):
    error = refused(write_mapping, "[redact, lower]")

    assert (error.line, error.key) == (4, "record.firstName.transform[0]")
    assert "last" in error.message


def test_a_redacted_field_reaches_the_record_marked(write_mapping):
    record = mapped(write_mapping, "redact", {"name": {"givenName": "Zoë"}})

    assert isinstance(record["firstName"], Redacted)
    assert json.loads(json.dumps(record))["firstName"] == "Zoë"


def test_preview_prints_redacted_in_place_of_the_value(tmp_path, write_mapping):
    mapping_path = write_mapping(MAPPING.replace("TRANSFORM", "redact"))
    config = tmp_path / "bridge.yaml"
    config.write_text(
        "targets:\n"
        "  - name: ops\n"
        "    vendor: aria\n"
        f"    mapping: {mapping_path}\n"
        "    base_url: https://aria.example.com\n"
        "    credentials: {username: admin, password: aria-password}\n"
        "    options: {auth_source_id: local}\n"
        '    inbound: {bearer_tokens: ["0123456789abcdef0123"]}\n'
    )
    user = tmp_path / "user.json"
    user.write_text(json.dumps({"userName": "zoe", "name": {"givenName": "Zoë-Secret"}}))

    result = CliRunner().invoke(mapping, ["preview", "ops", str(user), "--config", str(config)])

    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["record"]["firstName"] == "<redacted>"
    assert "Zoë-Secret" not in result.output


# -- Every transform ----------------------------------------------------------------


def test_an_unknown_transform_names_those_there_are():
    with pytest.raises(ExpressionError) as caught:
        ExpressionCompiler().expression(
            {"path": "userName", "transform": "titlecase"}, ("record", "x")
        )

    assert caught.value.location == ("record", "x", "transform")
    assert "title_case" in caught.value.message


def test_a_transform_in_a_list_is_refused_at_its_index(write_mapping):
    error = refused(write_mapping, "[lower, {replace: {pattern: '[', with: x}}]")

    assert (error.line, error.key) == (4, "record.firstName.transform[1].replace.pattern")


def test_a_load_error_names_the_line_of_a_transform_written_over_lines(write_mapping):
    text = MAPPING.replace(
        "  firstName: {path: name.givenName, transform: TRANSFORM}\n",
        "  firstName:\n"
        "    path: name.givenName\n"
        "    transform:\n"
        "      - lower\n"
        "      - replace:\n"
        "          pattern: '(a'\n"
        "          with: x\n",
    )
    with pytest.raises(MappingFileError) as caught:
        load_mapping(write_mapping(text), record_shape)

    assert (caught.value.line, caught.value.key) == (
        9,
        "record.firstName.transform[1].replace.pattern",
    )


def test_new_transforms_apply_in_a_loaded_mapping(write_mapping):
    record = mapped(
        write_mapping,
        "[normalize_diacritics, title_case, {truncate: 3}]",
        {"name": {"givenName": "zOË"}},
    )

    assert record["firstName"] == "Zoe"
