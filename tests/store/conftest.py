"""Fixtures of the store tests: a migrated database, on SQLite and, when available, PostgreSQL.

The ``database_url`` fixture (SQLite, and PostgreSQL when available) is in
``tests/conftest.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from scim2_models import ResourceType, ScimProvider, SearchRequest
from scim2_server.utils import load_default_provider, parametrize

from scimbridge.store import Database, SqlStorage


@pytest.fixture
def sqlite_database(tmp_path: Any) -> Iterator[Database]:
    """A migrated SQLite database, for the tests about SQLite itself (threads, query plans)."""
    database = Database(f"sqlite:///{tmp_path}/sqlite.db")
    database.upgrade()
    yield database
    database.dispose()


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
