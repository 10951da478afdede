"""The controls every emulator shares: faults, the request log, token expiry, reset, and their HTTP form."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from emulator_harness import ACC, ACC_PROJECT, Emulated, basic
from scimbridge_emulators import UnknownVendor, create_emulator, demo_credentials
from scimbridge_emulators.server import RunningEmulator

IMPORT = f"/construction/admin/v2/projects/{ACC_PROJECT}/users:import"
BUILT_IN = ("confide", "acc", "aria", "rocketchat", "cloudshell")

ONE_USER = {
    "users": [{"email": "ann@example.com", "products": [{"key": "docs", "access": "member"}]}]
}


def test_every_vendor_has_demo_credentials_with_the_documented_keys() -> None:
    assert {vendor: sorted(demo_credentials(vendor)) for vendor in BUILT_IN} == {
        "confide": ["client_id", "client_secret", "scope", "token_url"],
        "acc": ["client_id", "client_secret", "region", "token_url", "user_id"],
        "aria": ["auth_source", "password", "token_scheme", "username"],
        "rocketchat": ["auth_token", "user_id"],
        "cloudshell": ["domain", "password", "username"],
    }


def test_an_unknown_vendor_is_refused_with_the_installed_ones() -> None:
    with pytest.raises(UnknownVendor, match=r"no installed vendor plugin .*'salesforce'.*confide"):
        create_emulator("salesforce")


@pytest.mark.parametrize("vendor", BUILT_IN)
def test_an_unknown_path_is_404_in_the_vendor_shape_not_html(vendor: str) -> None:
    response = create_emulator(vendor).test_client().get("/no/such/path")
    assert response.status_code == 404
    assert response.is_json


def test_a_fault_plays_once_then_the_vendor_answers(acc: Emulated) -> None:
    acc.emulator.fault(status=500)
    assert acc.call("POST", IMPORT, json=ONE_USER).status_code == 500
    assert acc.call("POST", IMPORT, json=ONE_USER).status_code == 202


def test_a_fault_plays_the_number_of_times_asked(acc: Emulated) -> None:
    acc.emulator.fault(status=503, times=2)
    statuses = [acc.call("POST", IMPORT, json=ONE_USER).status_code for _ in range(3)]
    assert statuses == [503, 503, 202]


def test_a_fault_with_a_path_spares_other_paths(acc: Emulated) -> None:
    acc.emulator.fault(status=503, path="users:import")
    assert (
        acc.call("GET", f"/construction/admin/v1/projects/{ACC_PROJECT}/users").status_code == 200
    )
    assert acc.call("POST", IMPORT, json=ONE_USER).status_code == 503


def test_a_faulted_request_changes_nothing(acc: Emulated) -> None:
    acc.emulator.fault(status=500)
    acc.call("POST", IMPORT, json=ONE_USER)
    assert acc.emulator.users() == []


def test_a_fault_needs_a_status_or_a_delay(acc: Emulated) -> None:
    with pytest.raises(ValueError):
        acc.emulator.fault(times=1)


def test_the_request_log_keeps_method_path_status_and_body(acc: Emulated) -> None:
    acc.call("POST", IMPORT, json=ONE_USER)
    [entry] = acc.emulator.requests(path_contains="users:import")
    assert (entry["method"], entry["path"], entry["status"]) == ("POST", IMPORT, 202)
    assert entry["json"] == ONE_USER


def test_the_request_log_never_keeps_a_password() -> None:
    app = create_emulator("aria")
    app.test_client().post(
        "/suite-api/api/auth/token/acquire",
        json={"username": "u", "password": "s3cret"},
        headers={"Accept": "application/json"},
    )
    [entry] = app.extensions["scimbridge_emulator"].requests()
    assert entry["json"]["password"] == "***"


def test_tokens_issued_after_expiry_work(acc: Emulated) -> None:
    acc.emulator.expire_tokens()
    token = acc.client.post(
        "/authentication/v2/token",
        data={"grant_type": "client_credentials", "scope": "account:write"},
        headers={"Authorization": basic(ACC["client_id"], ACC["client_secret"])},
    ).get_json()["access_token"]
    response = acc.call("POST", IMPORT, json=ONE_USER, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 202


def test_reset_forgets_users_log_and_tokens(acc: Emulated) -> None:
    acc.call("POST", IMPORT, json=ONE_USER)
    acc.emulator.reset()
    assert acc.emulator.users() == [] and acc.emulator.requests() == []
    assert acc.call("POST", IMPORT, json=ONE_USER).status_code == 401


def test_served_emulator_url_and_credentials_point_at_itself(served_acc: RunningEmulator) -> None:
    token_url = served_acc.credentials["token_url"]
    assert token_url == f"{served_acc.url}/authentication/v2/token"
    response = requests.post(
        token_url,
        data={"grant_type": "client_credentials", "scope": "account:write"},
        auth=(ACC["client_id"], ACC["client_secret"]),
        timeout=5,
    )
    assert response.status_code == 200


def test_a_delay_fault_makes_the_client_time_out(served_acc: RunningEmulator) -> None:
    served_acc.fault(delay=1.0, path="/authentication")
    with pytest.raises(requests.Timeout):
        requests.post(f"{served_acc.url}/authentication/v2/token", timeout=0.2)


def test_http_controls_queue_a_fault(served_acc: RunningEmulator) -> None:
    control = f"{served_acc.url}/_emulator"
    queued = requests.post(f"{control}/faults", json={"status": 503, "times": 1}, timeout=5)
    assert queued.status_code == 201
    assert requests.post(f"{served_acc.url}/authentication/v2/token", timeout=5).status_code == 503


def test_http_controls_refuse_an_unknown_fault_field(served_acc: RunningEmulator) -> None:
    response = requests.post(
        f"{served_acc.url}/_emulator/faults", json={"colour": "red"}, timeout=5
    )
    assert response.status_code == 400


def test_http_controls_show_state_and_reset(served_acc: RunningEmulator) -> None:
    control = f"{served_acc.url}/_emulator"
    requests.post(f"{control}/reject-users", json={"users": ["bad@example.com"]}, timeout=5)
    requests.post(f"{served_acc.url}/authentication/v2/token", timeout=5)
    state = requests.get(f"{control}/state", timeout=5).json()
    assert state["vendor"] == "acc" and state["users"] == []
    assert state["counts"] == {"POST /authentication/v2/token": 1}
    assert len(requests.get(f"{control}/requests", timeout=5).json()) == 1
    requests.post(f"{control}/reset", timeout=5)
    assert requests.get(f"{control}/requests", timeout=5).json() == []


def test_http_controls_expire_tokens(served_acc: RunningEmulator) -> None:
    token = requests.post(
        f"{served_acc.url}/authentication/v2/token",
        data={"grant_type": "client_credentials", "scope": "account:write"},
        auth=(ACC["client_id"], ACC["client_secret"]),
        timeout=5,
    ).json()["access_token"]
    requests.post(f"{served_acc.url}/_emulator/expire-tokens", timeout=5)
    response = requests.post(
        f"{served_acc.url}{IMPORT}",
        json=ONE_USER,
        headers={"Authorization": f"Bearer {token}", "User-Id": ACC["user_id"]},
        timeout=5,
    )
    assert response.status_code == 401


def served_import(running: RunningEmulator, timeout: float) -> requests.Response:
    """The import of ONE_USER against a served ACC emulator, as a client with ``timeout``."""
    token = requests.post(
        f"{running.url}/authentication/v2/token",
        data={"grant_type": "client_credentials", "scope": "account:write"},
        auth=(ACC["client_id"], ACC["client_secret"]),
        timeout=5,
    ).json()["access_token"]
    return requests.post(
        f"{running.url}{IMPORT}",
        json=ONE_USER,
        headers={"Authorization": f"Bearer {token}", "User-Id": ACC["user_id"]},
        timeout=timeout,
    )


def test_an_after_timeout_fault_applies_the_write_the_client_timed_out_on(
    served_acc_immediate: RunningEmulator,
) -> None:
    served_acc_immediate.fault(after="timeout", delay=1.0, path="users:import")
    with pytest.raises(requests.exceptions.ReadTimeout):
        served_import(served_acc_immediate, timeout=0.3)
    assert [user["email"] for user in served_acc_immediate.users()] == ["ann@example.com"]


def test_an_after_timeout_fault_answers_a_patient_client(
    served_acc_immediate: RunningEmulator,
) -> None:
    served_acc_immediate.fault(after="timeout", delay=0.2, path="users:import")
    assert served_import(served_acc_immediate, timeout=5).status_code == 202


def test_an_after_disconnect_fault_applies_the_write_and_drops_the_answer(
    served_acc_immediate: RunningEmulator,
) -> None:
    served_acc_immediate.fault(after="disconnect", path="users:import")
    with pytest.raises(requests.exceptions.ConnectionError):
        served_import(served_acc_immediate, timeout=5)
    assert [user["email"] for user in served_acc_immediate.users()] == ["ann@example.com"]


def test_an_after_disconnect_fault_plays_once_then_the_vendor_answers(
    served_acc_immediate: RunningEmulator,
) -> None:
    served_acc_immediate.fault(after="disconnect", path="users:import")
    with pytest.raises(requests.exceptions.ConnectionError):
        served_import(served_acc_immediate, timeout=5)
    assert served_import(served_acc_immediate, timeout=5).status_code == 202


def test_an_after_disconnect_fault_raises_under_the_test_client(acc: Emulated) -> None:
    acc.emulator.fault(after="disconnect")
    with pytest.raises(ConnectionAbortedError):
        acc.call("POST", IMPORT, json=ONE_USER)
    assert len(acc.emulator.users()) == 1


@pytest.mark.parametrize(
    "fault",
    [
        {"after": "later", "delay": 1.0},
        {"after": "timeout"},
        {"after": "timeout", "delay": 1.0, "status": 500},
        {"after": "disconnect", "status": 503},
    ],
    ids=["unknown-mode", "timeout-without-delay", "timeout-with-status", "disconnect-with-status"],
)
def test_an_after_fault_is_refused_when_it_cannot_be_played(
    acc: Emulated, fault: dict[str, Any]
) -> None:
    with pytest.raises(ValueError):
        acc.emulator.fault(**fault)


def test_http_controls_queue_an_after_fault(served_acc_immediate: RunningEmulator) -> None:
    queued = requests.post(
        f"{served_acc_immediate.origin}/_emulator/faults",
        json={"after": "disconnect", "path": "users:import"},
        timeout=5,
    )
    assert queued.status_code == 201
    with pytest.raises(requests.exceptions.ConnectionError):
        served_import(served_acc_immediate, timeout=5)


def test_http_controls_refuse_an_after_timeout_without_delay(
    served_acc_immediate: RunningEmulator,
) -> None:
    response = requests.post(
        f"{served_acc_immediate.origin}/_emulator/faults", json={"after": "timeout"}, timeout=5
    )
    assert response.status_code == 400
