"""``/healthz`` (liveness), ``/readyz`` (readiness) and a target's delivery status, on the
endpoint its inbound credentials open and on ``scimbridge status``."""

from __future__ import annotations

import json

from alembic import command
from click.testing import CliRunner
from offline import CHAT_TOKEN, WIKI_TOKEN, Offline, two_targets
from pending_age import backdate_pending, is_age
from test_end_to_end import scim_user

from scimbridge.cli import main
from scimbridge.store.database import alembic_config
from scimbridge.testing.live import LiveBridge


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_healthz_says_only_that_the_process_answers(offline: Offline) -> None:
    response = offline.client.get("/healthz")

    assert (response.status_code, response.json) == (200, {"status": "ok"})


def test_healthz_answers_without_the_database(offline: Offline) -> None:
    offline.lose_database()

    response = offline.client.get("/healthz")

    assert (response.status_code, response.json) == (200, {"status": "ok"})


def test_readyz_is_ready_when_the_database_is_at_head_and_the_mappings_are_loaded(
    offline: Offline,
) -> None:
    response = offline.client.get("/readyz")

    assert (response.status_code, response.json) == (
        200,
        {"status": "ready", "checks": {"database": "ok", "migrations": "ok", "mappings": "ok"}},
    )


def test_readyz_answers_503_when_the_migrations_are_behind(offline: Offline) -> None:
    with offline.bridge.database.engine.begin() as connection:
        command.downgrade(alembic_config(connection), "-1")

    response = offline.client.get("/readyz")

    assert response.status_code == 503
    assert response.json["status"] == "not ready"
    assert response.json["checks"]["database"] == "ok"
    assert response.json["checks"]["migrations"].startswith("not at head: the database is at 00")


def test_readyz_answers_503_naming_the_database_when_it_is_gone(offline: Offline) -> None:
    offline.lose_database()

    response = offline.client.get("/readyz")

    assert response.status_code == 503
    assert response.json["checks"]["database"] == "does not answer (OperationalError)"
    assert str(offline.folder) not in response.get_data(as_text=True)


def test_readyz_answers_503_when_a_mapping_is_not_loaded(offline: Offline) -> None:
    del offline.bridge.mappings["wiki"]

    response = offline.client.get("/readyz")

    assert response.status_code == 503
    assert response.json["checks"]["mappings"] == "not loaded for wiki"


def test_the_status_endpoint_refuses_a_request_without_credentials(offline: Offline) -> None:
    response = offline.client.get("/scim/v2/chat/Status")

    assert response.status_code == 401
    assert "outbox" not in response.get_data(as_text=True)


def test_the_status_endpoint_refuses_another_targets_credentials(offline: Offline) -> None:
    response = offline.client.get("/scim/v2/chat/Status", headers=bearer(WIKI_TOKEN))

    assert response.status_code == 401


def test_the_status_endpoint_shows_only_its_target(offline: Offline) -> None:
    created = offline.client.post(
        "/scim/v2/chat/Users", json=scim_user("ada"), headers=bearer(CHAT_TOKEN)
    )
    assert created.status_code == 201

    response = offline.client.get("/scim/v2/chat/Status", headers=bearer(CHAT_TOKEN))

    assert response.status_code == 200
    assert response.json["target"] == "chat"
    assert response.json["outbox"] == {"pending": 1, "held": 0, "failed": 0}
    assert response.json["status"] == "ok"
    assert "wiki" not in response.get_data(as_text=True)


def test_the_status_endpoint_answers_404_for_an_unknown_target(offline: Offline) -> None:
    response = offline.client.get("/scim/v2/nosuch/Status", headers=bearer(CHAT_TOKEN))

    assert response.status_code == 404


def test_the_status_endpoint_shows_a_target_degraded_by_its_vendor(aria: LiveBridge) -> None:
    aria.scim("POST", "/Users", scim_user("ada"))
    aria.scim("POST", "/Users", scim_user("bob"))
    aria.emulator.fault(status=503, times=1000)
    aria.worker.run_once()
    oldest = backdate_pending(aria.bridge.database, 7200, 3600)

    status = aria.scim("GET", "/Status").json()

    assert (status["status"], status["outbox"]["pending"]) == ("degraded", 2)
    assert is_age(status["oldest_pending_seconds"], oldest), status


def test_the_status_command_prints_every_target(offline: Offline, tmp_path) -> None:
    config = tmp_path / "bridge.yaml"
    config.write_text(json.dumps(two_targets(str(offline.bridge.config.database))))

    result = CliRunner().invoke(main, ["status", "--config", str(config), "--json"])

    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert [(line["target"], line["status"], line["outbox"]) for line in lines] == [
        ("chat", "ok", {"pending": 0, "held": 0, "failed": 0}),
        ("wiki", "ok", {"pending": 0, "held": 0, "failed": 0}),
    ]


def test_the_status_command_reads_as_a_table(offline: Offline, tmp_path) -> None:
    config = tmp_path / "bridge.yaml"
    config.write_text(json.dumps(two_targets(str(offline.bridge.config.database))))

    result = CliRunner().invoke(main, ["status", "--config", str(config)])

    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0].split() == [
        "chat",
        "rocketchat",
        "ok",
        "pending=0",
        "held=0",
        "failed=0",
        "oldest",
        "pending",
        "0",
        "s",
    ]
