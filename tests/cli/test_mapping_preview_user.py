"""``scimbridge mapping preview --user``: a stored user, mapped with the configured mapping,
and with ``--diff`` compared with what the vendor was last sent; ``scimbridge status``
counts the users a mapping change would change.

Ada (nickName "Addie") and ken are delivered to Aria's emulator under the default
mapping; the configuration then names an edited mapping that takes ``firstName`` from
``nickName``, and ``distinguishedName`` from it too, redacted.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from scimbridge.cli import main
from scimbridge.config import default_mapping
from scimbridge.testing.live import LiveBridge, live_config, scim_user, start_live

VENDOR = "aria"
EDITS = {
    "  firstName: name.givenName\n": "  firstName: {path: nickName, fallback: name.givenName}\n",
    "  distinguishedName: externalId\n": "  distinguishedName: {path: nickName, "
    "transform: redact}\n",
}


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveBridge]:
    running, stop = start_live(tmp_path, VENDOR)
    for name, extra in (("ada", {"nickName": "Addie"}), ("ken", {})):
        assert running.scim("POST", "/Users", {**scim_user(name), **extra}).status_code == 201
    running.drain()
    yield running
    stop()


@pytest.fixture
def config(live: LiveBridge, tmp_path: Path) -> Path:
    """The configuration of the bridge, its mapping edited since the users were delivered."""
    text = default_mapping(VENDOR).read_text("utf-8")
    for line, edited in EDITS.items():
        assert line in text
        text = text.replace(line, edited)
    mapping = tmp_path / "aria-edited.yaml"
    mapping.write_text(text, "utf-8")
    document = live_config(tmp_path, live.emulator, VENDOR, target={"mapping": str(mapping)})
    path = tmp_path / "bridge.yaml"
    path.write_text(yaml.safe_dump(document), "utf-8")
    return path


def run(config: Path, *arguments: str) -> str:
    result = CliRunner().invoke(main, [*arguments, "--config", str(config)])
    assert result.exit_code == 0, result.output
    return result.output


def scim_id(live: LiveBridge, name: str) -> str:
    found = live.scim("GET", f'/Users?filter=userName eq "{name}@example.com"').json()
    return str(found["Resources"][0]["id"])


def test_preview_of_a_stored_user_maps_it_with_the_configured_mapping(config: Path) -> None:
    shown = json.loads(run(config, "mapping", "preview", VENDOR, "--user", "ada@example.com"))

    assert (shown["action"], shown["record"]["firstName"]) == ("import", "Addie")


def test_preview_finds_a_stored_user_by_its_scim_id(config: Path, live: LiveBridge) -> None:
    shown = json.loads(run(config, "mapping", "preview", VENDOR, "--user", scim_id(live, "ada")))

    assert shown["record"]["username"] == "ada@example.com"


def test_preview_of_a_stored_user_hides_what_the_mapping_redacts(config: Path) -> None:
    shown = json.loads(run(config, "mapping", "preview", VENDOR, "--user", "ada@example.com"))

    assert shown["record"]["distinguishedName"] == "<redacted>"


def test_diff_shows_a_changed_field_as_last_sent_and_as_made_now(config: Path) -> None:
    output = run(config, "mapping", "preview", VENDOR, "--user", "ada@example.com", "--diff")

    assert "2 fields differ from what aria was last sent" in output
    assert '  firstName:\n    last sent: "Ada"\n    now:       "Addie"\n' in output


def test_diff_never_shows_a_redacted_value_even_as_last_sent(config: Path) -> None:
    output = run(config, "mapping", "preview", VENDOR, "--user", "ada@example.com", "--diff")

    assert '  distinguishedName:\n    last sent: "<redacted>"\n    now:       "<redacted>"\n' in (
        output
    )


def test_diff_of_a_user_the_mapping_leaves_as_sent_says_no_change(config: Path) -> None:
    output = run(config, "mapping", "preview", VENDOR, "--user", "ken@example.com", "--diff")

    assert output.strip().endswith(": no change")


def test_preview_of_an_unknown_user_names_it(config: Path) -> None:
    result = CliRunner().invoke(
        main, ["mapping", "preview", VENDOR, "--user", "nobody", "--config", str(config)]
    )

    assert result.exit_code == 1
    assert "no stored user of target aria has the id or userName 'nobody'" in result.output


def test_diff_without_a_stored_user_is_a_usage_error(config: Path, tmp_path: Path) -> None:
    user = tmp_path / "user.json"
    user.write_text(json.dumps(scim_user("ada")), "utf-8")

    result = CliRunner().invoke(
        main, ["mapping", "preview", VENDOR, str(user), "--diff", "--config", str(config)]
    )

    assert result.exit_code == 2
    assert "--diff compares a stored user: give --user" in result.output


def test_status_says_how_many_delivered_users_the_mapping_would_change(config: Path) -> None:
    output = run(config, "status")

    assert "1 delivered user would change under the current mapping" in output


def test_status_in_json_counts_the_mapping_changes(config: Path) -> None:
    (line,) = run(config, "status", "--json").splitlines()

    assert json.loads(line)["mapping_changes"] == 1
