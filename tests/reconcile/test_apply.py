"""``--apply`` beside the identity provider's own writes: the newest state always wins."""

from __future__ import annotations

from sqlalchemy import select

from scimbridge.reconcile.apply import apply_plan
from scimbridge.store.delivery_tables import outbox
from scimbridge.testing import LiveBridge
from scimbridge.testing.contract import create_user, patch
from scimbridge.testing.reconcile_contract import plan


def changes(live: LiveBridge) -> list[str]:
    with live.bridge.database.transaction(writing=False) as session:
        return list(session.execute(select(outbox.c.change).order_by(outbox.c.seq)).scalars())


def test_a_user_written_between_the_plan_and_apply_is_left_to_its_own_delivery(
    live: LiveBridge,
) -> None:
    ann = create_user(live, "ann")
    live.drain()
    live.emulator.admin_change("ann@example.com", firstName="Mallory")
    found = plan(live)
    patch(live, f"/Users/{ann['id']}", {"op": "replace", "path": "name.givenName", "value": "Anna"})
    target = live.bridge.config.targets[0]
    applied = apply_plan(live.bridge.database, target, found, live.bridge.directories["aria"])
    assert applied.already_queued == 1 and not applied.queued
    assert "reconcile" not in changes(live)
    live.drain()
    assert live.emulator.users()[0]["firstName"] == "Anna"


def test_a_correction_carries_the_user_as_it_is_when_applied_not_as_planned(
    live: LiveBridge,
) -> None:
    ann = create_user(live, "ann")
    live.drain()
    live.emulator.admin_change("ann@example.com", firstName="Mallory")
    found = plan(live)
    patch(live, f"/Users/{ann['id']}", {"op": "replace", "path": "name.givenName", "value": "Anna"})
    live.drain()
    target = live.bridge.config.targets[0]
    apply_plan(live.bridge.database, target, found, live.bridge.directories["aria"])
    live.drain()
    assert changes(live)[-1] == "reconcile"
    assert live.emulator.users()[0]["firstName"] == "Anna"
