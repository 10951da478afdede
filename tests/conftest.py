"""Fixtures shared by every test folder: the databases the bridge runs on.

PostgreSQL runs when ``SCIMBRIDGE_TEST_POSTGRES_URL`` names a server
(``scripts/with-postgres.sh``, which ``make test`` and CI use, starts one);
each test then gets a schema of its own, dropped afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

POSTGRES_URL = os.environ.get("SCIMBRIDGE_TEST_POSTGRES_URL")

BACKENDS = [
    "sqlite",
    pytest.param(
        "postgres",
        marks=[
            pytest.mark.postgres,
            pytest.mark.skipif(not POSTGRES_URL, reason="SCIMBRIDGE_TEST_POSTGRES_URL is not set"),
        ],
    ),
]


@pytest.fixture
def postgres_schema_url() -> Iterator[str]:
    """A URL whose connections live in a new, empty schema."""
    assert POSTGRES_URL is not None
    schema = f"test_{uuid.uuid4().hex}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield (
            make_url(POSTGRES_URL)
            .update_query_dict({"options": f"-csearch_path={schema}"})
            .render_as_string(hide_password=False)
        )
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Any) -> str:
    if request.param == "postgres":
        return request.getfixturevalue("postgres_schema_url")
    return f"sqlite:///{tmp_path}/store.db"
