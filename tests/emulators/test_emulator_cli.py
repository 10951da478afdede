"""``scimbridge emulate``: the options it passes to an emulator."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from scimbridge.commands.emulate import emulate, emulator_options


def test_rate_limit_sets_rocketchat_calls_and_window() -> None:
    assert emulator_options("rocketchat", (10, 2.0)) == {
        "rate_limit_calls": 10,
        "rate_limit_seconds": 2.0,
    }


def test_rate_limit_sets_acc_write_limit_and_window() -> None:
    assert emulator_options("acc", (100, 60.0)) == {"write_limit": 100, "limit_seconds": 60.0}


def test_rate_limit_is_refused_for_a_vendor_without_one() -> None:
    with pytest.raises(click.UsageError):
        emulator_options("confide", (10, 60.0))


@pytest.mark.parametrize("value", ["10", "ten/60", "0/60", "10/0"])
def test_rate_limit_must_be_calls_per_positive_seconds(value: str) -> None:
    result = CliRunner().invoke(emulate, ["rocketchat", "--rate-limit", value])
    assert result.exit_code == 2
    assert "--rate-limit" in result.output
