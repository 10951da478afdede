"""The schema comes from the Alembic migrations alone, up from nothing and back down."""

from alembic import command
from sqlalchemy import inspect

from scimbridge.store.database import alembic_config

STORE_TABLES = {"resources", "group_members", "unique_values", "search_index"}


def table_names(database):
    return set(inspect(database.engine).get_table_names())


def test_upgrade_creates_the_schema_from_an_empty_database(empty_database):
    empty_database.upgrade()

    assert table_names(empty_database) >= STORE_TABLES


def test_upgrade_of_a_current_schema_changes_nothing(database, storage, user_type, user_model):
    user = storage.create(user_type, user_model(user_name="bjensen"))

    database.upgrade()

    assert storage.get(user_type, user.id).user_name == "bjensen"


def test_downgrade_to_base_removes_the_schema(database):
    with database.engine.begin() as connection:
        command.downgrade(alembic_config(connection), "base")

    assert table_names(database) & STORE_TABLES == set()
