"""Fixtures of the store tests: a migrated database, on SQLite and, when available, PostgreSQL.

PostgreSQL runs when ``SCIMBRIDGE_TEST_POSTGRES_URL`` names a server (see
README / .ci); each test then gets a schema of its own, dropped afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from scim2_models import ResourceType, ScimProvider, SearchRequest
from scim2_server.utils import load_default_provider, parametrize
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from scimbridge.store import Database, SqlStorage

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


@pytest.fixture
def empty_database(database_url: str) -> Iterator[Database]:
    """A database without any table."""
    database = Database(database_url)
    yield database
    database.dispose()


@pytest.fixture
def database(empty_database: Database) -> Database:
    empty_database.upgrade()
    return empty_database


@pytest.fixture
def provider() -> ScimProvider:
    return load_default_provider()


@pytest.fixture
def user_type(provider: ScimProvider) -> ResourceType:
    return next(rt for rt in provider.resource_types if rt.id == "User")


@pytest.fixture
def group_type(provider: ScimProvider) -> ResourceType:
    return next(rt for rt in provider.resource_types if rt.id == "Group")


@pytest.fixture
def user_model(provider: ScimProvider, user_type: ResourceType) -> Any:
    return provider.model_for(user_type)


@pytest.fixture
def group_model(provider: ScimProvider, group_type: ResourceType) -> Any:
    return provider.model_for(group_type)


@pytest.fixture
def user_search(user_model: Any) -> Any:
    """Build a search request on Users, as the server does."""

    def build(**parameters: Any) -> SearchRequest[Any]:
        return parametrize(SearchRequest, user_model)(**parameters)

    return build


@pytest.fixture
def make_storage(database: Database, provider: ScimProvider) -> Any:
    """Build the storage of a target, with listeners."""

    def make(target: str = "chat", listeners: tuple[Any, ...] = ()) -> SqlStorage:
        return SqlStorage(database, target, listeners, provider=provider)

    return make


@pytest.fixture
def storage(make_storage: Any) -> SqlStorage:
    return make_storage()
