"""A vendor that refuses the bridge's own credentials puts the target in the state
``credentials refused`` (issue 25, item 2).

A wrong password used to be an outage: entries backed off and were parked after
``give_up_after_seconds``. Now, within one delivery round, status, ``/readyz`` and the metrics
say so; entries wait without counting a try and are never parked; a login is tried again
on its own schedule, never once per batch; and as soon as one succeeds the users arrive.
Each vendor's emulator refuses as its documents say: Aria and CloudShell a 401 to the
login, ACC a 401 and Confide a 400 ``invalid_client`` to the token request (RFC 6749
§5.2), Rocket.Chat a 401 to every call with a revoked personal access token.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import select
from test_end_to_end import vendor_users

from scimbridge.delivery.recovery import LOGIN_RETRY_SECONDS
from scimbridge.observability.health import delivery_status
from scimbridge.store.delivery_tables import outbox
from scimbridge.testing.live import LiveBridge, scim_user, start_live
from scimbridge.vendors import client_for

MISTYPED = [
    ("acc", "client_secret"),
    ("acc", "user_id"),
    ("aria", "password"),
    ("cloudshell", "password"),
    ("confide", "client_secret"),
    ("rocketchat", "auth_token"),
]
"""The credentials each vendor checks that an admin may mistype: ACC refuses a wrong
``client_secret`` at the token request (401) and a ``User-Id`` that names no admin on every
write (403, ``ERR_ACCESS_DENIED``)."""
GIVE_UP_AFTER = 600
REFUSED_SECONDS = 240
"""How long the tests leave the secret wrong: four logins a minute apart, as few as keep the
client within Rocket.Chat's 10 calls a minute of real time (which the test clock skips)."""
USERS = ("ada", "grace", "edsger")


def with_wrong_secret(live: LiveBridge, key: str) -> None:
    """Give the worker a client whose ``key`` is wrong, as a mistyped configuration would."""
    target = live.bridge.config.targets[0]
    credentials = {**target.credentials, key: SecretStr("not-the-secret")}
    live.worker.clients[target.name] = client_for(
        target.model_copy(update={"credentials": credentials})
    )


def with_secret_fixed(live: LiveBridge) -> None:
    """The admin fixes the secret: the worker's next client is made from the right one."""
    live.worker.clients.pop(live.bridge.config.targets[0].name).close()


@pytest.fixture(params=MISTYPED, ids=[f"{vendor}-{key}" for vendor, key in MISTYPED])
def refused(
    request: pytest.FixtureRequest, tmp_path: Any, database_url: str
) -> Iterator[LiveBridge]:
    """A live bridge whose vendor refuses its secret, with three users written and one
    delivery round run: of the first user, as batches hold one user each."""
    vendor, key = request.param
    live, stop = start_live(
        tmp_path,
        vendor,
        database_url,
        delivery={"give_up_after_seconds": GIVE_UP_AFTER, "backoff_seconds": 10, "batch_size": 1},
    )
    with_wrong_secret(live, key)
    for name in USERS:
        assert live.scim("POST", "/Users", scim_user(name)).status_code == 201
    live.worker.run_once()
    yield live
    stop()


def arrived(live: LiveBridge) -> set[str]:
    """Which of :data:`USERS` the vendor holds."""
    return {identity.split("@")[0] for identity in vendor_users(live)} & set(USERS)


def entries(live: LiveBridge) -> list[Any]:
    with live.bridge.database.transaction() as session:
        return list(session.execute(select(outbox).order_by(outbox.c.seq)))


def status_of(live: LiveBridge) -> dict[str, Any]:
    (status,) = delivery_status(live.bridge.database, live.bridge.config.targets)
    return status.as_json()


def rounds_over(live: LiveBridge, seconds: float, step: float = LOGIN_RETRY_SECONDS) -> None:
    """Deliver round after round while ``seconds`` pass on the worker's clock."""
    for _ in range(int(seconds // step)):
        live.clock.advance(step)
        live.worker.run_once()


def test_a_refused_secret_is_the_state_credentials_refused_after_one_round(refused):
    assert status_of(refused)["status"] == "credentials refused"
    assert arrived(refused) == set()


def test_entries_refused_their_credentials_count_no_try_and_are_never_parked(refused):
    rounds_over(refused, 2 * GIVE_UP_AFTER, step=GIVE_UP_AFTER / 2)
    assert [(entry.state, entry.attempts, entry.failures) for entry in entries(refused)] == [
        ("pending", 0, 0)
    ] * len(USERS)
    assert status_of(refused)["outbox"]["failed"] == 0
    assert arrived(refused) == set()


def test_a_refused_target_logs_in_once_per_retry_not_once_per_batch(refused):
    """Every user of the backlog would take a login of its own (a batch holds one user);
    a vendor that locks an account after failed logins must see one per retry, the first
    ``delivery.backoff_seconds`` (10 s here) after the refusal."""
    before = len(refused.emulator.requests())
    for _ in range(5):
        refused.worker.run_once()
    assert len(refused.emulator.requests()) == before


def test_the_users_arrive_once_the_secret_is_fixed_after_longer_than_give_up_after(refused):
    rounds_over(refused, GIVE_UP_AFTER + LOGIN_RETRY_SECONDS, step=GIVE_UP_AFTER / 3)
    with_secret_fixed(refused)
    rounds_over(refused, LOGIN_RETRY_SECONDS)
    refused.drain()
    assert arrived(refused) == set(USERS)
    assert status_of(refused)["status"] == "ok"


def test_the_refusal_and_its_end_are_logged_once_each(refused, caplog):
    rounds_over(refused, REFUSED_SECONDS)
    with_secret_fixed(refused)
    rounds_over(refused, LOGIN_RETRY_SECONDS)
    refused.drain()
    lines = [
        record.getMessage()
        for record in caplog.get_records("setup") + caplog.get_records("call")
        if record.name == "scimbridge.delivery" and "credentials" in record.getMessage()
    ]
    assert [line.split(": ")[1] for line in lines] == [
        "credentials refused",
        "the vendor accepts the bridge's credentials again",
    ]


def test_the_status_endpoint_names_the_state_and_since_when(refused):
    status = refused.scim("GET", "/Status").json()
    assert status["status"] == "credentials refused"
    assert status["credentials_refused_since"] is not None


def test_readyz_names_the_target_and_stays_ready(refused):
    response = refused.http.get(f"{refused.url}/readyz", timeout=30)
    assert (response.status_code, response.json()["targets"]) == (
        200,
        {refused.vendor: "credentials refused"},
    )


def test_the_metric_says_the_target_is_refused(refused):
    metrics = refused.http.get(f"{refused.url}/metrics", timeout=30).text
    assert f'scimbridge_target_credentials_refused{{target="{refused.vendor}"}} 1.0' in metrics
