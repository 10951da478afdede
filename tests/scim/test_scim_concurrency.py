"""Requests at the same time, as a threaded WSGI server runs them: on SQLite and PostgreSQL.

Okta and Entra ID push group memberships in parallel and send no ``If-Match``;
an admin's dashboard reads while an IdP's first cycle writes thousands of users.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from flask import Flask
from scim_client import (
    BULK_REQUEST_SCHEMA,
    ENTRA_TOKEN,
    OKTA_PASSWORD,
    OKTA_USER,
    USER_SCHEMA,
    ScimClient,
    basic,
    bearer,
    patch_op,
)
from sqlalchemy.orm import Session

from scimbridge.store import StoreEvent

WRITERS = 8


@pytest.fixture
def database(database_url: str) -> str:
    return database_url


def entra_client(app: Flask) -> ScimClient:
    """A client of its own: one per thread, as each IdP connection is."""
    return ScimClient(app.test_client(), "entra", bearer(ENTRA_TOKEN))


class TestConcurrentWritesOfOneResource:
    def test_member_additions_without_if_match_all_apply(
        self, app: Flask, entra: ScimClient
    ) -> None:
        group = entra.create_group("Engineering")
        users = [entra.create_user(f"user{number}@example.com") for number in range(WRITERS)]

        def add(user: dict[str, Any]) -> int:
            body = patch_op({"op": "add", "path": "members", "value": [{"value": user["id"]}]})
            return entra_client(app).patch(f"/Groups/{group['id']}", body).status_code

        with ThreadPoolExecutor(WRITERS) as pool:
            statuses = list(pool.map(add, users))

        assert statuses == [200] * WRITERS
        members = entra.fetch(f"/Groups/{group['id']}")["members"]
        assert sorted(member["value"] for member in members) == sorted(u["id"] for u in users)

    def test_replacements_without_if_match_all_apply_in_turn(
        self, app: Flask, entra: ScimClient
    ) -> None:
        user = entra.create_user("bjensen@example.com")

        def replace(number: int) -> int:
            body = {
                "schemas": [USER_SCHEMA],
                "userName": "bjensen@example.com",
                "title": str(number),
            }
            return entra_client(app).put(f"/Users/{user['id']}", body).status_code

        with ThreadPoolExecutor(WRITERS) as pool:
            statuses = list(pool.map(replace, range(WRITERS)))

        assert statuses == [200] * WRITERS
        assert entra.fetch(f"/Users/{user['id']}")["meta"]["version"] == f'W/"{WRITERS + 1}"'


class TestReadsDuringALongWrite:
    """A read runs in a reading transaction: on SQLite it never waits for the write lock."""

    @pytest.fixture
    def bulk_in_progress(self, app: Flask) -> Any:
        """A Bulk request on ``entra`` stopped after its first write, holding its transaction
        open (and, on SQLite, the write lock) until the test lets it go on."""
        bridge = app.extensions["scimbridge"]
        storage = bridge.storages["entra"]
        written, release = threading.Event(), threading.Event()

        def hold(_session: Session, _event: StoreEvent) -> None:
            written.set()
            release.wait(timeout=60)

        storage.listeners = (*storage.listeners, hold)
        body = {
            "schemas": [BULK_REQUEST_SCHEMA],
            "Operations": [
                {
                    "method": "POST",
                    "path": "/Users",
                    "bulkId": f"u{number}",
                    "data": {"schemas": [USER_SCHEMA], "userName": f"bulk{number}@example.com"},
                }
                for number in range(3)
            ],
        }
        outcome: dict[str, Any] = {}
        writer = threading.Thread(
            target=lambda: outcome.update(response=entra_client(app).post("/Bulk", body))
        )
        writer.start()
        assert written.wait(timeout=30), "the Bulk request never wrote"
        yield
        release.set()
        writer.join(timeout=60)
        assert outcome["response"].status_code == 200
        statuses = [
            operation["status"] for operation in outcome["response"].get_json()["Operations"]
        ]
        assert statuses == ["201"] * 3

    def test_a_read_on_another_target_answers(self, app: Flask, bulk_in_progress: None) -> None:
        okta = ScimClient(app.test_client(), "okta", basic(OKTA_USER, OKTA_PASSWORD))

        response = okta.get("/Users")

        assert response.status_code == 200

    def test_a_read_on_the_same_target_answers_without_the_uncommitted_users(
        self, app: Flask, entra: ScimClient, bulk_in_progress: None
    ) -> None:
        response = entra.get("/Users")

        assert response.status_code == 200
        assert response.get_json()["totalResults"] == 0

    def test_health_answers(self, app: Flask, bulk_in_progress: None) -> None:
        response = app.test_client().get("/healthz")

        assert response.status_code == 200

    def test_readiness_reads_the_database_without_waiting(
        self, app: Flask, bulk_in_progress: None
    ) -> None:
        response = app.test_client().get("/readyz")

        assert response.status_code == 200
        assert response.get_json()["checks"]["database"] == "ok"
