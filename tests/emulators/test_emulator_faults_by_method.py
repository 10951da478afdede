"""A fault aimed at one method of a path: a vendor's create and its listing may share a
path (``POST /users`` and ``GET /users``), and a test of a write applied although its
answer came late must delay the create, not the listing before it."""

from __future__ import annotations

import requests
from emulator_harness import ACC_PROJECT, Emulated
from scimbridge_emulators import RunningEmulator

IMPORT = f"/construction/admin/v2/projects/{ACC_PROJECT}/users:import"
LISTING = f"/construction/admin/v1/projects/{ACC_PROJECT}/users"
ONE_USER = {
    "users": [{"email": "ann@example.com", "products": [{"key": "docs", "access": "member"}]}]
}


def test_a_fault_aimed_at_post_spares_a_get_whose_path_matches_too(acc: Emulated) -> None:
    acc.emulator.fault(status=503, method="POST", path="/users")

    assert acc.call("GET", LISTING).status_code == 200
    assert acc.call("POST", IMPORT, json=ONE_USER).status_code == 503
    assert acc.call("POST", IMPORT, json=ONE_USER).status_code == 202


def test_the_method_of_a_fault_is_read_in_any_case(acc: Emulated) -> None:
    acc.emulator.fault(status=503, method="post", path="users:import")

    assert acc.call("POST", IMPORT, json=ONE_USER).status_code == 503


def test_http_controls_queue_a_fault_aimed_at_a_method(served_acc: RunningEmulator) -> None:
    control = f"{served_acc.url}/_emulator"
    document = {"status": 503, "method": "GET", "path": "/authentication"}

    assert requests.post(f"{control}/faults", json=document, timeout=5).status_code == 201
    token = f"{served_acc.url}/authentication/v2/token"
    assert requests.post(token, timeout=5).status_code != 503
    assert requests.get(token, timeout=5).status_code == 503
