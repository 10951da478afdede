"""A broken mapping file is refused at load with its file, line and key."""

import json
from importlib import resources

import pytest

from scimbridge.mapping import MappingFileError, load_mapping
from scimbridge.mapping.transforms import SIMPLE, WITH_ARGUMENT
from scimbridge.vendors import record_shape

VALID = """\
vendor: rocketchat
record:
  username: userName
  emails: {path: emails.value, as: list}
  importIds: {value_of: bridge.stable_id, as: list}
deprovision:
  on_deactivate: {action: disable, set: {deleted: true}, note: deactivated}
  on_reactivate: {action: import, note: re-activated}
  on_delete: {action: remove, note: deleted}
"""


def broken(write_mapping, old: str, new: str) -> MappingFileError:
    assert old in VALID
    path = write_mapping(VALID.replace(old, new))
    with pytest.raises(MappingFileError) as caught:
        load_mapping(path, record_shape)
    return caught.value


def test_the_valid_example_loads(write_mapping):
    assert load_mapping(write_mapping(VALID), record_shape).vendor == "rocketchat"


def test_an_unknown_key_in_a_form_is_named_with_its_line(write_mapping):
    error = broken(write_mapping, "{path: emails.value,", "{pth: emails.value,")

    assert (error.line, error.key) == (4, "record.emails.pth")
    assert "unknown key 'pth'" in error.message


def test_the_message_names_file_line_and_key(write_mapping):
    error = broken(write_mapping, "{path: emails.value,", "{pth: emails.value,")

    assert str(error).startswith(f"{error.label}, line 4, key record.emails.pth: ")


def test_the_message_names_the_file_by_its_label_never_its_path(write_mapping):
    path = write_mapping(VALID.replace("{path: emails.value,", "{pth: emails.value,"))

    with pytest.raises(MappingFileError) as caught:
        load_mapping(path, record_shape, label="mappings/chat.yaml")

    assert str(caught.value).startswith("mappings/chat.yaml, line 4, key record.emails.pth: ")
    assert path not in str(caught.value)


def test_an_unreadable_file_is_named_by_its_label(tmp_path):
    with pytest.raises(MappingFileError) as caught:
        load_mapping(str(tmp_path / "absent.yaml"), record_shape, label="absent.yaml")

    assert (
        str(caught.value)
        == "absent.yaml, key (file): cannot read the file: No such file or directory"
    )


def test_a_path_the_user_schema_does_not_have_is_refused(write_mapping):
    error = broken(write_mapping, "username: userName", "username: user_name")

    assert (error.line, error.key) == (3, "record.username")
    assert "user_name" in error.message


def test_a_bad_value_filter_is_refused(write_mapping):
    error = broken(
        write_mapping, "{path: emails.value,", '{path: "emails[kind eq \\"work\\"].value",'
    )

    assert (error.line, error.key) == (4, "record.emails.path")


def test_an_unknown_transform_is_refused(write_mapping):
    error = broken(
        write_mapping, "username: userName", "username: {path: userName, transform: lowercase}"
    )

    assert (error.line, error.key) == (3, "record.username.transform")
    assert "lowercase" in error.message


def test_an_unknown_bridge_fact_is_refused(write_mapping):
    error = broken(write_mapping, "bridge.stable_id", "bridge.tenant_id")

    assert (error.line, error.key) == (5, "record.importIds.value_of")


def test_a_field_the_vendor_record_does_not_have_is_refused(write_mapping):
    error = broken(write_mapping, "username: userName", "login: userName")

    assert (error.line, error.key) == (3, "record.login")
    assert "not a field of the rocketchat record" in error.message


def test_a_deprovision_value_the_vendor_refuses_is_refused(write_mapping):
    error = broken(write_mapping, "set: {deleted: true}", "set: {deleted: yes please}")

    assert (error.line, error.key) == (7, "deprovision.on_deactivate.set.deleted")


def test_an_unknown_action_is_refused(write_mapping):
    error = broken(write_mapping, "{action: disable,", "{action: suspend,")

    assert (error.line, error.key) == (7, "deprovision.on_deactivate.action")


def test_a_missing_deprovision_rule_is_refused(write_mapping):
    error = broken(write_mapping, "  on_delete: {action: remove, note: deleted}\n", "")

    assert error.key == "deprovision"
    assert "on_delete" in error.message


def test_an_unknown_vendor_is_refused(write_mapping):
    error = broken(write_mapping, "vendor: rocketchat", "vendor: slack")

    assert (error.line, error.key) == (1, "vendor")


def test_a_key_given_twice_is_refused(write_mapping):
    error = broken(
        write_mapping, "username: userName", "username: userName\n  username: displayName"
    )

    assert (error.line, error.key) == (4, "record.username")


def test_invalid_yaml_is_refused_with_its_line(write_mapping):
    error = broken(write_mapping, "username: userName", "username: [userName")

    assert error.line is not None
    assert error.key == "(syntax)"


def test_a_file_that_is_not_a_mapping_is_refused(write_mapping):
    with pytest.raises(MappingFileError, match="vendor, record and deprovision"):
        load_mapping(write_mapping("- just\n- a list\n"), record_shape)


def test_a_missing_file_is_refused(tmp_path):
    with pytest.raises(MappingFileError, match="cannot read the file"):
        load_mapping(str(tmp_path / "absent.yaml"), record_shape)


def test_the_file_schema_names_exactly_the_transforms_the_engine_has():
    schema = json.loads(
        resources.files("scimbridge.mapping").joinpath("mapping-file.schema.json").read_text()
    )
    transform = schema["$defs"]["transform"]

    assert set(transform["then"]["enum"]) == set(SIMPLE)
    assert set(transform["else"]["properties"]) == set(WITH_ARGUMENT)
