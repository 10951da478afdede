"""``outbox list`` in text, as an admin reads it in a terminal: names as the identity
provider sent them, control and bidirectional characters escaped so that no name can
reverse or break a row, free-text columns cut to the terminal's width (``--wide``: whole),
and the id an admin searches for in the vendor's console.

Users are delivered to Rocket.Chat's emulator, on each database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from scimbridge.cli import main
from scimbridge.commands.columns import width_of
from scimbridge.testing.live import LiveBridge, live_config, scim_user, start_live

VENDOR = "rocketchat"
LONG = "ada.augusta.byron.king.countess.of.lovelace.and.first.programmer@example.com"


@pytest.fixture
def live(tmp_path: Path, database_url: str) -> Iterator[LiveBridge]:
    running, stop = start_live(tmp_path, VENDOR, database_url)
    yield running
    stop()


@pytest.fixture
def config(live: LiveBridge, tmp_path: Path, database_url: str) -> Path:
    path = tmp_path / "bridge.yaml"
    path.write_text(yaml.safe_dump(live_config(tmp_path, live.emulator, VENDOR, database_url)))
    return path


def add(live: LiveBridge, user_name: str, handle: str) -> None:
    """A user whose userName is ``user_name``; its email, and so its Rocket.Chat username,
    is ``<handle>@example.com``."""
    user = {**scim_user(handle), "userName": user_name}
    assert live.scim("POST", "/Users", user).status_code == 201


def listed(config: Path, *options: str, columns: int | None = None) -> str:
    result = CliRunner().invoke(
        main,
        ["outbox", "list", "--config", str(config), "--state", "all", *options],
        env={"COLUMNS": None if columns is None else str(columns)},
    )
    assert result.exit_code == 0, result.output
    return result.output


def test_a_right_to_left_override_in_a_user_name_is_shown_escaped(live, config):
    add(live, "mallory\u202egro.elpmaxe@example.com", "mallory")

    shown = listed(config)

    assert "mallory\\u202egro.elpmaxe@example.com" in shown
    assert "\u202e" not in shown


def test_control_characters_in_a_user_name_are_shown_escaped(live, config):
    add(live, "eve\x1b[2J\u2066x\u0085@example.com", "eve")

    shown = listed(config)

    assert "eve\\u001b[2J\\u2066x\\u0085@example.com" in shown
    assert "\x1b" not in shown


def test_a_user_name_is_shown_as_the_identity_provider_sent_it(live, config):
    add(live, "Ada.Lovelace@Example.COM", "ada")

    [_, row] = listed(config).splitlines()

    assert " Ada.Lovelace@Example.COM " in row


def test_a_long_name_is_cut_with_an_ellipsis_to_the_terminal_width(live, config):
    add(live, LONG, "ada")
    add(live, "grace@example.com", "grace")

    lines = listed(config, columns=150).splitlines()

    assert max(width_of(line) for line in lines) <= 150
    assert LONG not in lines[1]
    assert f" {LONG[:10]}" in lines[1] and "… " in lines[1]
    assert " grace@example.com " in lines[2]


def test_wide_shows_every_name_whole_whatever_the_terminal_width(live, config):
    add(live, LONG, "ada")

    [_, row] = listed(config, "--wide", columns=150).splitlines()

    assert f" {LONG} " in row


def test_a_table_piped_to_another_command_is_not_cut(live, config):
    add(live, LONG, "ada")

    [_, row] = listed(config).splitlines()

    assert f" {LONG} " in row


def test_the_vendor_id_is_the_rocketchat_id_an_admin_searches_for_never_cut(live, config):
    add(live, LONG, "ada")
    live.drain()
    account = live.emulator.emulator.stored_account("ada@example.com")
    assert account is not None

    [heading, row] = listed(config, columns=150).splitlines()

    vendor_id = row[heading.index("VENDOR ID") :].split()[0]
    assert vendor_id == account["_id"]
    assert [import_id for import_id in account["importIds"] if import_id in row] == []


def test_a_name_in_wide_characters_keeps_the_columns_aligned(live, config):
    add(live, "山田太郎@例え.jp", "taro")
    add(live, "ada@example.com", "ada")

    lines = listed(config, "--wide").splitlines()

    starts = {width_of(line[: line.index(" 20")]) for line in lines[1:]}
    assert starts == {width_of(lines[0][: lines[0].index(" CREATED")])}
