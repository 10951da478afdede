"""``scimbridge reconcile``: the plan read-only, its exit codes and output, and --apply."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select

from scimbridge.store.delivery_tables import links, outbox
from scimbridge.testing import LiveBridge
from scimbridge.testing.contract import create_user

DRIFT = 3


def provisioned(live: LiveBridge, *names: str) -> None:
    for name in names:
        create_user(live, name)
    live.drain()


def rows(live: LiveBridge) -> tuple[int, list[Any]]:
    """The outbox's size and the links as they are: what a read-only plan must not change."""
    with live.bridge.database.transaction(writing=False) as session:
        entries = session.execute(select(func.count()).select_from(outbox)).scalar_one()
        held = [tuple(row) for row in session.execute(select(links).order_by(links.c.id))]
    return entries, held


def test_a_target_in_step_exits_0_and_counts_its_users(live: LiveBridge, run: Any) -> None:
    provisioned(live, "ann", "bob")
    result = run("reconcile", "--target", "aria")
    assert result.exit_code == 0, result.output
    assert "in_step                         2" in result.output
    assert result.output.rstrip().endswith("in step")


def test_drift_exits_3_and_shows_the_vendors_value_beside_the_mappings(
    live: LiveBridge, run: Any
) -> None:
    provisioned(live, "ann")
    live.emulator.admin_change("ann@example.com", firstName="Mallory")
    result = run("reconcile", "--target", "aria")
    assert result.exit_code == DRIFT, result.output
    assert 'firstName: vendor "Mallory" -> mapping "Ann"' in result.output
    assert result.output.rstrip().endswith("drift found")


def test_the_plan_writes_nothing(live: LiveBridge, run: Any) -> None:
    provisioned(live, "ann")
    live.emulator.admin_change("ann@example.com", firstName="Mallory")
    before = rows(live)
    assert run("reconcile", "--target", "aria").exit_code == DRIFT
    assert rows(live) == before
    assert live.emulator.users()[0]["firstName"] == "Mallory"


def test_json_gives_one_object_per_finding(live: LiveBridge, run: Any) -> None:
    provisioned(live, "ann", "bob")
    live.emulator.admin_change("ann@example.com", firstName="Mallory")
    live.emulator.admin_create(username="hand.made", firstName="Hand", lastName="Made")
    result = run("reconcile", "--target", "aria", "--json")
    found = [json.loads(line) for line in result.output.splitlines()]
    assert sorted(finding["kind"] for finding in found) == ["differs", "orphan"]
    (differs,) = [finding for finding in found if finding["kind"] == "differs"]
    assert differs["differences"] == [{"field": "firstName", "vendor": "Mallory", "mapping": "Ann"}]
    assert differs["user"].startswith("ann@example.com (externalId 00u-ann")


def test_apply_queues_corrections_labelled_reconcile_that_restore_the_vendor(
    live: LiveBridge, run: Any
) -> None:
    provisioned(live, "ann")
    live.emulator.admin_change("ann@example.com", firstName="Mallory")
    applied = run("reconcile", "--target", "aria", "--apply")
    assert applied.exit_code == DRIFT
    assert "queued 1 correction(s) in the outbox (change: reconcile): differs 1" in applied.output
    listed = run("outbox", "list", "--target", "aria")
    assert "reconcile" in listed.output
    live.drain()
    assert live.emulator.users()[0]["firstName"] == "Ann"
    assert run("reconcile", "--target", "aria").exit_code == 0


def test_apply_leaves_an_orphan_alone_without_disable_orphans(live: LiveBridge, run: Any) -> None:
    made = live.emulator.admin_create(username="hand.made", firstName="Hand", lastName="Made")
    result = run("reconcile", "--target", "aria", "--apply")
    assert "1 active orphan(s) left as they are" in result.output
    live.drain()
    assert live.emulator.users() == [made]


def test_disabling_orphans_asks_first_and_a_no_touches_nothing(live: LiveBridge, run: Any) -> None:
    made = live.emulator.admin_create(username="hand.made", firstName="Hand", lastName="Made")
    result = run("reconcile", "--target", "aria", "--disable-orphans", input="n\n")
    assert "Disable 1 account(s) at aria that no user of the bridge holds?" in result.output
    assert result.exit_code == 1
    live.drain()
    assert live.emulator.users() == [made]


def test_disabling_orphans_with_yes_disables_them_and_deletes_none(
    live: LiveBridge, run: Any
) -> None:
    live.emulator.admin_create(username="hand.made", firstName="Hand", lastName="Made")
    result = run("reconcile", "--target", "aria", "--disable-orphans", "--yes")
    assert "queued 1 orphan(s) to be disabled (never deleted)" in result.output
    live.drain()
    (account,) = live.emulator.users()
    assert account["username"] == "hand.made" and account["enabled"] is False
    assert run("reconcile", "--target", "aria").exit_code == 0


def test_an_unknown_target_is_named_and_refused(run: Any) -> None:
    result = run("reconcile", "--target", "nope")
    assert result.exit_code == 1
    assert "no target 'nope' in the configuration; targets: aria" in result.output


def test_a_vendor_refusing_the_listing_is_a_one_line_error_and_no_plan(
    live: LiveBridge, run: Any
) -> None:
    provisioned(live, "ann")
    live.emulator.fault(status=403, times=10, path="/api/auth/users")
    result = run("reconcile", "--target", "aria")
    assert result.exit_code == 1
    assert "Error: target aria: reading aria:" in result.output
    assert "Traceback" not in result.output and "in_step" not in result.output


def test_a_listing_the_vendor_cannot_serve_for_now_is_asked_again_and_completes(
    live: LiveBridge, run: Any
) -> None:
    provisioned(live, "ann")
    live.emulator.fault(status=503, times=2, path="/api/auth/users")
    result = run("reconcile", "--target", "aria")
    assert result.exit_code == 0, result.output
    assert "in_step                         1" in result.output
    assert [entry["status"] for entry in live.emulator.requests("/api/auth/users")][-3:] == [
        503,
        503,
        200,
    ]
