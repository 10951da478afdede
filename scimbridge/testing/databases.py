"""The databases a test runs the bridge on: SQLite always, PostgreSQL when a server is named.

``SCIMBRIDGE_TEST_POSTGRES_URL`` names the server (``scripts/with-postgres.sh``,
which ``make test`` and CI use, starts one); each test then works in a schema of
its own, dropped afterwards, so tests never see each other's rows.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

POSTGRES_URL = os.environ.get("SCIMBRIDGE_TEST_POSTGRES_URL")
"""The PostgreSQL server tests may use, or None."""

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
"""The parameters of a fixture that runs a test on each database (``database_url``)."""


@contextmanager
def postgres_schema(server_url: str) -> Iterator[str]:
    """A URL whose connections live in a new, empty schema of ``server_url``, dropped on exit."""
    schema = f"test_{uuid.uuid4().hex}"
    admin = create_engine(server_url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield (
            make_url(server_url)
            .update_query_dict({"options": f"-csearch_path={schema}"})
            .render_as_string(hide_password=False)
        )
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
