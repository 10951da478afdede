"""The schema comes from the Alembic migrations alone, up from nothing and back down."""

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
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


def test_the_migrations_build_exactly_the_tables_the_code_declares(database):
    """A column or index added to ``store/*_tables.py`` without a migration (or the other
    way round) would work in tests on a fresh schema and break every existing database."""
    import scimbridge.store.delivery_tables  # noqa: F401 - declares the delivery tables
    from scimbridge.store.tables import metadata

    with database.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), metadata)
    assert [
        difference
        for difference in differences
        if not documentation_only(difference) and not alembic_bookkeeping(difference)
    ] == []


def documentation_only(difference):
    """Column comments document the tables in code; the migrations do not copy them."""
    return isinstance(difference, list) and all(step[0] == "modify_comment" for step in difference)


def alembic_bookkeeping(difference):
    return difference[0] == "remove_table" and difference[1].name == "alembic_version"
