"""``scimbridge outbox``: the operator reads what happened to whom and when, and is told why
a retry did nothing; a misspelt target is an error, never an empty answer."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from cli_config import AUTH, user, write_config
from flask import Flask
from sqlalchemy import update

from scimbridge.app import Bridge
from scimbridge.cli import main
from scimbridge.config import load_config
from scimbridge.store.delivery_tables import outbox

PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ")


def with_bridge(config: Path, write) -> None:
    bridge = Bridge(load_config(config))
    app = Flask("cli")
    bridge.init_app(app)
    write(app.test_client(), bridge)
    bridge.database.dispose()


def create(client, name: str, **attributes) -> dict:
    response = client.post("/scim/v2/chat/Users", json=user(name, **attributes), headers=AUTH)
    assert response.status_code == 201, response.json
    return response.json


@pytest.fixture
def parked(tmp_path) -> Path:
    """A bridge holding ada, whose delivery was parked as failed, and grace, still pending."""
    config = write_config(tmp_path)

    def write(client, bridge):
        create(client, "ada", externalId="00u-ada")
        with bridge.database.transaction():
            bridge.database.session.execute(
                update(outbox).values(
                    state="failed",
                    attempts=5,
                    failures=5,
                    last_error="duplicate username",
                    error_kind="failed",
                    last_attempt_at=bridge.database.now(),
                )
            )
        create(client, "grace")

    with_bridge(config, write)
    return config


def listing(runner, config: Path, *options: str) -> list[dict]:
    result = runner.invoke(main, ["outbox", "list", "--config", str(config), "--json", *options])
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.output.splitlines()]


def test_list_in_json_shows_each_entry_with_its_change_and_error(runner, parked):
    ada, grace = listing(runner, parked)
    assert (ada["state"], ada["change"], ada["user_name"], ada["last_error"]) == (
        "failed",
        "create",
        "ada",
        "duplicate username",
    )
    assert (grace["state"], grace["change"]) == ("pending", "create")


def test_list_in_text_has_a_heading_and_the_times_of_each_entry(runner, parked):
    result = runner.invoke(main, ["outbox", "list", "--config", str(parked)])
    heading, ada, grace = result.output.splitlines()
    assert heading.split()[:6] == ["#", "TARGET", "STATE", "CHANGE", "USER", "CREATED"]
    assert len(TIMESTAMP.findall(ada)) == 2  # created, last try; a parked entry has no next try
    assert "5 (5 failed)" in ada
    assert ada.endswith("failed: duplicate username")
    assert len(TIMESTAMP.findall(grace)) == 2  # created, next try; never tried yet


def test_list_finds_a_user_by_external_id(runner, parked):
    assert [entry["user_name"] for entry in listing(runner, parked, "--user", "00u-ada")] == ["ada"]


def test_list_of_an_unknown_target_is_an_error_naming_the_targets(runner, parked):
    result = runner.invoke(main, ["outbox", "list", "--config", str(parked), "--target", "caht"])
    assert result.exit_code == 1
    assert "no target 'caht' in the configuration; targets: chat" in result.output


def test_retry_queues_the_parked_entry_again_naming_it(runner, parked):
    [ada, _] = listing(runner, parked)
    result = runner.invoke(main, ["outbox", "retry", "--config", str(parked)])
    assert result.exit_code == 0, result.output
    assert f"1 entry queued again: #{ada['seq']}" in result.output
    [requeued] = listing(runner, parked, "--user", "ada")
    assert (requeued["state"], requeued["attempts"], requeued["failures"]) == ("pending", 0, 0)


def test_retry_of_an_entry_that_is_not_failed_says_why_and_fails(runner, parked):
    [_, grace] = listing(runner, parked)
    result = runner.invoke(
        main, ["outbox", "retry", "--config", str(parked), str(grace["seq"]), "999"]
    )
    assert result.exit_code == 1
    assert f"#{grace['seq']} not queued again: it is pending: queued already" in result.output
    assert "#999 not queued again: no such entry" in result.output


def test_retry_of_an_entry_whose_user_changed_since_names_the_newer_change(runner, parked):
    """The vendor must never get a user's older change after a newer one: the parked entry
    is superseded, not queued, and the operator is told by which entry."""

    def rename_ada(client, bridge):
        [ada] = client.get('/scim/v2/chat/Users?filter=userName eq "ada"', headers=AUTH).json[
            "Resources"
        ]
        operation = {"op": "replace", "path": "name.givenName", "value": "Augusta"}
        response = client.patch(
            f"/scim/v2/chat/Users/{ada['id']}",
            json={"schemas": [PATCH], "Operations": [operation]},
            headers=AUTH,
        )
        assert response.status_code == 200, response.json

    with_bridge(parked, rename_ada)
    parked_entry, renamed = listing(runner, parked, "--user", "ada")
    result = runner.invoke(
        main, ["outbox", "retry", "--config", str(parked), str(parked_entry["seq"])]
    )
    assert result.exit_code == 1
    assert (
        f"#{parked_entry['seq']} not queued again: superseded by #{renamed['seq']}, "
        "a newer change of the same user"
    ) in result.output
    assert [entry["state"] for entry in listing(runner, parked, "--user", "ada")] == ["pending"]


def test_retry_of_another_targets_entry_names_its_target(runner, parked):
    document = yaml.safe_load(parked.read_text())
    document["targets"].append({**document["targets"][0], "name": "other"})
    parked.write_text(yaml.safe_dump(document))
    [ada, _] = listing(runner, parked)
    result = runner.invoke(
        main, ["outbox", "retry", "--config", str(parked), "--target", "other", str(ada["seq"])]
    )
    assert result.exit_code == 1
    assert f"#{ada['seq']} not queued again: it belongs to target chat, not other" in result.output


def test_retry_of_an_unknown_target_is_an_error(runner, parked):
    result = runner.invoke(main, ["outbox", "retry", "--config", str(parked), "--target", "nope"])
    assert result.exit_code == 1
    assert "no target 'nope' in the configuration; targets: chat" in result.output


def test_purge_of_an_unknown_target_is_an_error(runner, parked):
    result = runner.invoke(main, ["outbox", "purge", "--config", str(parked), "--target", "nope"])
    assert result.exit_code == 1
    assert "no target 'nope' in the configuration; targets: chat" in result.output
