"""``outbox list`` says why a delivered entry took its tries (issue 25, item 3).

It used to show ``TRIES 3`` and nothing else once the entry was delivered: the error of
its last failed try was cleared. Now that error stays, and ``--history`` lists each try
under the entry: when, and what it met.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from scimbridge.cli import main
from scimbridge.testing.live import LiveBridge, live_config, scim_user, start_live

OUTAGE_ANSWERS = 2


@pytest.fixture
def delivered_after_an_outage(
    tmp_path: Path, database_url: str
) -> Iterator[tuple[LiveBridge, Path]]:
    """Ada, delivered to Aria at the third try: the first two met a 503; and the bridge's
    configuration file."""
    live, stop = start_live(tmp_path, "aria", database_url)
    config = tmp_path / "scimbridge.yaml"
    config.write_text(yaml.safe_dump(live_config(tmp_path, live.emulator, "aria", database_url)))
    live.emulator.fault(status=503, times=OUTAGE_ANSWERS)
    assert live.scim("POST", "/Users", scim_user("ada")).status_code == 201
    live.drain()
    assert [user["username"] for user in live.emulator.users()] == ["ada@example.com"]
    yield live, config
    stop()


def listed(runner: Any, config: Path, *options: str) -> Any:
    result = runner.invoke(
        main, ["outbox", "list", "--config", str(config), "--state", "delivered", *options]
    )
    assert result.exit_code == 0, result.output
    return result.output


def test_a_delivered_entry_keeps_the_error_of_its_last_failed_try(
    runner, delivered_after_an_outage
):
    _, config = delivered_after_an_outage
    (entry,) = [json.loads(line) for line in listed(runner, config, "--json").splitlines()]
    assert (entry["state"], entry["attempts"], entry["error_kind"]) == (
        "delivered",
        OUTAGE_ANSWERS + 1,
        "unavailable",
    )
    assert "HTTP 503" in entry["last_error"]


def test_history_lists_each_try_with_what_it_met(runner, delivered_after_an_outage):
    _, config = delivered_after_an_outage
    (entry,) = [
        json.loads(line) for line in listed(runner, config, "--json", "--history").splitlines()
    ]
    assert [tried["outcome"] for tried in entry["history"]] == [
        "unavailable",
        "unavailable",
        "delivered",
    ]
    assert all("HTTP 503" in tried["error"] for tried in entry["history"][:2])


def test_history_in_text_shows_the_tries_under_their_entry(runner, delivered_after_an_outage):
    _, config = delivered_after_an_outage
    heading, row, *tries = listed(runner, config, "--history", "--wide").splitlines()
    assert heading.startswith("#") and "ada@example.com" in row
    assert [line.split()[2] for line in tries] == ["unavailable", "unavailable", "delivered"]
    assert "HTTP 503" in tries[0]
