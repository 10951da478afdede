"""A mapping change is noticed (issue 23): the bridge counts the delivered users whose
record the new mapping changes, and with ``delivery.redeliver_on_mapping_change`` sends
exactly those again, a batch at a time, behind the IdP's own writes.

Aria's emulator stands for the vendor: what it holds, and the import calls it got, are
what the tests assert. The edited mapping takes ``firstName`` from ``nickName`` where the
user has one, so it changes ada's, grace's and linus's record and not ken's nor bob's.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from scimbridge.app import Bridge
from scimbridge.config import default_mapping, parse_config
from scimbridge.delivery.redelivery import stale_links
from scimbridge.delivery.worker import Worker
from scimbridge.mapping import load_mapping
from scimbridge.store.delivery_tables import links, outbox
from scimbridge.testing.live import TOKEN, LiveBridge, live_config, scim_user, start_live
from scimbridge.vendors import record_shape

VENDOR = "aria"
IMPORTS = "/api/auth/sources/"
ORIGINAL = "  firstName: name.givenName\n"
NICKNAMES = "  firstName: {path: nickName, fallback: name.givenName}\n"
CHANGED = {"ada": "Addie", "grace": "Amazing", "linus": "Lin"}
UNCHANGED = ("ken", "bob")
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def write_mapping(path: Path, first_name: str) -> Path:
    text = default_mapping(VENDOR).read_text("utf-8")
    assert ORIGINAL in text
    path.write_text(text.replace(ORIGINAL, first_name), "utf-8")
    return path


@dataclass
class Restarted:
    """The bridge started again over the same database with an edited mapping file."""

    bridge: Bridge
    worker: Worker
    client: FlaskClient

    def drain(self, live: LiveBridge, rounds: int = 50) -> None:
        for _ in range(rounds):
            if not self.worker.run_once() and not live.pending():
                return
        raise AssertionError("the outbox never drained")


@pytest.fixture
def mapping_file(tmp_path: Path) -> Path:
    return write_mapping(tmp_path / "aria.yaml", ORIGINAL)


@pytest.fixture
def live(tmp_path: Path, mapping_file: Path) -> Iterator[LiveBridge]:
    """Five users delivered under the default mapping; ada, grace and linus have a nickName."""
    running, stop = start_live(tmp_path, VENDOR, target={"mapping": str(mapping_file)})
    for name in (*CHANGED, *UNCHANGED):
        user = {**scim_user(name), **({"nickName": CHANGED[name]} if name in CHANGED else {})}
        assert running.scim("POST", "/Users", user).status_code == 201
    running.drain()
    yield running
    stop()


@pytest.fixture
def restart(
    live: LiveBridge, tmp_path: Path, mapping_file: Path
) -> Iterator[Callable[..., Restarted]]:
    """Edit the mapping file (its ``firstName`` line) and start a second bridge and worker
    over the same database and emulator, as a restart with the edited file would."""
    started: list[Bridge] = []

    def restart(first_name: str, **delivery: Any) -> Restarted:
        write_mapping(mapping_file, first_name)
        document = live_config(
            tmp_path, live.emulator, VENDOR, target={"mapping": str(mapping_file)}, **delivery
        )
        bridge = Bridge(parse_config(yaml.safe_dump(document)))
        started.append(bridge)
        app = Flask("restarted")
        bridge.init_app(app)
        worker = Worker(
            bridge.config,
            bridge.database,
            bridge.mappings,
            clock=live.clock,
            directories=bridge.directories,
        )
        return Restarted(bridge, worker, app.test_client())

    yield restart
    for bridge in started:
        bridge.database.dispose()


def imported(live: LiveBridge, since: int = 0) -> list[list[str]]:
    """The usernames of each import call the emulator got, from call ``since`` on."""
    calls = [call for call in live.emulator.requests(IMPORTS) if call["method"] == "POST"]
    return [[user["username"] for user in call["json"]["users"]] for call in calls[since:]]


def imports_so_far(live: LiveBridge) -> int:
    return len(imported(live))


def held_first_names(live: LiveBridge) -> dict[str, str]:
    return {
        account["username"].split("@")[0]: account["firstName"] for account in live.emulator.users()
    }


def status_of(restarted: Restarted) -> dict[str, Any]:
    response = restarted.client.get(
        f"/scim/v2/{VENDOR}/Status", headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert response.status_code == 200, response.json
    body: dict[str, Any] = response.json
    return body


def test_status_counts_only_the_users_whose_record_the_edited_mapping_changes(
    live: LiveBridge, restart: Callable[..., Restarted]
) -> None:
    restarted = restart(NICKNAMES)

    assert status_of(restarted)["mapping_changes"] == len(CHANGED)


def test_counting_the_changes_sends_and_queues_nothing(
    live: LiveBridge, restart: Callable[..., Restarted]
) -> None:
    before = imports_so_far(live)
    restarted = restart(NICKNAMES)

    status_of(restarted)
    restarted.drain(live)

    assert imported(live, before) == []
    target, mapping = restarted.bridge.config.targets[0], restarted.bridge.mappings[VENDOR]
    assert stale_links(restarted.bridge.database, target, mapping.fingerprint) == 5


def test_start_up_names_the_count_and_the_remedy(
    restart: Callable[..., Restarted], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="scimbridge.config"):
        restart(NICKNAMES)

    (line,) = [record.getMessage() for record in caplog.records if "mapping" in record.getMessage()]
    assert "3 delivered users would change under the current mapping" in line
    assert "delivery.redeliver_on_mapping_change" in line
    assert f"scimbridge reconcile --target {VENDOR}" in line


def test_redelivery_sends_exactly_the_changed_users(
    live: LiveBridge, restart: Callable[..., Restarted]
) -> None:
    before = imports_so_far(live)
    restarted = restart(NICKNAMES, redeliver_on_mapping_change=True)

    restarted.drain(live)

    sent = sorted(name.split("@")[0] for call in imported(live, before) for name in call)
    assert sent == sorted(CHANGED)
    assert held_first_names(live) == {**CHANGED, "ken": "Ken", "bob": "Bob"}


def test_redelivered_entries_show_as_a_mapping_change(
    live: LiveBridge, restart: Callable[..., Restarted]
) -> None:
    restarted = restart(NICKNAMES, redeliver_on_mapping_change=True)

    restarted.drain(live)

    with restarted.bridge.database.transaction(writing=False) as session:
        changes = session.execute(
            select(outbox.c.change).where(outbox.c.change == "mapping")
        ).scalars()
        assert len(list(changes)) == len(CHANGED)


def test_redelivery_goes_out_a_batch_at_a_time(
    live: LiveBridge, restart: Callable[..., Restarted]
) -> None:
    before = imports_so_far(live)
    restarted = restart(NICKNAMES, redeliver_on_mapping_change=True, batch_size=2)

    restarted.drain(live)

    assert [len(call) for call in imported(live, before)] == [2, 1]


def test_an_idp_write_during_redelivery_goes_before_the_remaining_redeliveries(
    live: LiveBridge, restart: Callable[..., Restarted]
) -> None:
    before = imports_so_far(live)
    restarted = restart(NICKNAMES, redeliver_on_mapping_change=True, batch_size=2)
    assert restarted.worker.run_once() == 0  # nothing due: the first slice is queued
    assert restarted.worker.run_once() == 2  # the first slice is delivered
    bob = next(user for user in live.emulator.users() if user["username"].startswith("bob"))
    found = restarted.client.get(
        "/scim/v2/aria/Users",
        query_string={"filter": 'userName eq "bob@example.com"'},
        headers={"Authorization": f"Bearer {TOKEN}"},
    ).json["Resources"][0]
    patch = {
        "schemas": [PATCH],
        "Operations": [{"op": "replace", "path": "name.familyName", "value": "Builder"}],
    }
    assert (
        restarted.client.patch(
            f"/scim/v2/aria/Users/{found['id']}",
            json=patch,
            headers={"Authorization": f"Bearer {TOKEN}"},
        ).status_code
        == 200
    )

    restarted.drain(live)

    calls = imported(live, before)
    assert [len(call) for call in calls] == [2, 1, 1]
    assert calls[1] == [bob["username"]]


def test_a_link_delivered_before_fingerprints_were_kept_is_checked_and_stamped_without_a_call(
    live: LiveBridge, restart: Callable[..., Restarted]
) -> None:
    with live.bridge.database.transaction() as session:
        session.execute(update(links).values(mapping_fingerprint=None))
    before = imports_so_far(live)
    restarted = restart(ORIGINAL, redeliver_on_mapping_change=True)
    target = restarted.bridge.config.targets[0]
    fingerprint = restarted.bridge.mappings[VENDOR].fingerprint

    assert status_of(restarted)["mapping_changes"] == 0
    restarted.drain(live)

    assert imported(live, before) == []
    assert stale_links(restarted.bridge.database, target, fingerprint) == 0


def test_a_comment_only_edit_leaves_the_fingerprint_as_it_was(tmp_path: Path) -> None:
    text = default_mapping(VENDOR).read_text("utf-8")
    edited = tmp_path / "commented.yaml"
    edited.write_text("# reviewed by the IAM team\n" + text.replace("\n\n", "\n# -\n\n"), "utf-8")

    original = load_mapping(str(default_mapping(VENDOR)), record_shape)

    assert load_mapping(str(edited), record_shape).fingerprint == original.fingerprint


def test_a_changed_value_changes_the_fingerprint(tmp_path: Path) -> None:
    edited = write_mapping(tmp_path / "edited.yaml", NICKNAMES)

    original = load_mapping(str(default_mapping(VENDOR)), record_shape)

    assert load_mapping(str(edited), record_shape).fingerprint != original.fingerprint
