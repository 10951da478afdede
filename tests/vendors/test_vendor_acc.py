"""Autodesk Construction Cloud: import, confirmation by email, PATCH and DELETE of project users."""

from __future__ import annotations

import pytest

from scimbridge.emulators import DEMO_OPTIONS
from scimbridge.vendors.base import Action

VENDOR = "acc"
PROJECT = DEMO_OPTIONS["acc"]["project_id"]


def test_the_vendor_id_is_the_acc_user_id_found_by_email(harness):
    [outcome] = harness.client().deliver([harness.item(1)])

    assert outcome.vendor_id == harness.user(1)["id"]


def test_a_project_id_with_the_data_management_prefix_is_used_without_it(harness):
    client = harness.client(options={"project_id": f"b.{PROJECT}"})

    [outcome] = client.deliver([harness.item(1)])

    assert outcome.ok
    assert harness.calls(f"/projects/{PROJECT}/users:import") == 1


def test_a_known_member_is_patched_not_imported_again(harness):
    client = harness.client()
    [known] = harness.imported(client, 1)

    [outcome] = client.deliver(
        [harness.item(1, vendor_id=known.vendor_id, first_import=False, roleIds=["role-7"])]
    )

    assert outcome.ok
    assert harness.calls("users:import") == 1
    assert harness.calls(f"/users/{known.vendor_id}", method="PATCH") == 1
    assert harness.user(1)["roleIds"] == ["role-7"]


def test_a_member_who_left_the_project_is_imported_again(harness):
    client = harness.client()
    [known] = harness.imported(client, 1)
    client.deliver([harness.item(1, Action.REMOVE, known.vendor_id, first_import=False)])

    [outcome] = client.deliver([known])

    assert outcome.ok
    assert outcome.vendor_id == harness.user(1)["id"] != known.vendor_id


def test_removing_a_member_without_a_vendor_id_finds_it_by_email(harness):
    client = harness.client()
    harness.imported(client, 1)

    [outcome] = client.deliver([harness.item(1, Action.REMOVE)])

    assert outcome.ok
    assert harness.user(1) is None


def test_a_target_without_a_project_is_refused_at_construction(harness):
    with pytest.raises(ValueError, match="project_id"):
        harness.client(options={"project_id": ""})
