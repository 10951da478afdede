"""Fixtures shared by every test folder: the databases the bridge runs on.

PostgreSQL runs when ``SCIMBRIDGE_TEST_POSTGRES_URL`` names a server
(``scripts/with-postgres.sh``, which ``make test`` and CI use, starts one);
each test then gets a schema of its own, dropped afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from scimbridge.testing.databases import BACKENDS, POSTGRES_URL, postgres_schema


@pytest.fixture
def postgres_schema_url() -> Iterator[str]:
    """A URL whose connections live in a new, empty schema."""
    assert POSTGRES_URL is not None
    with postgres_schema(POSTGRES_URL) as url:
        yield url


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Any) -> str:
    if request.param == "postgres":
        return request.getfixturevalue("postgres_schema_url")
    return f"sqlite:///{tmp_path}/store.db"
