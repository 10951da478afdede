"""The schema comes from the Alembic migrations alone, up from nothing and back down."""

import threading

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import String, Text, inspect, text

from scimbridge.store import Database
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
        if not documentation_only(difference)
        and not alembic_bookkeeping(difference)
        and not same_type_on_sqlite(difference, database.engine.dialect.name)
    ] == []


def test_upgrade_keeps_the_links_their_outbox_entries_refer_to(empty_database):
    """0005 changes column types of ``links``, which ``outbox`` rows reference."""
    empty_database.upgrade("0004_outbox_failures")
    with empty_database.engine.begin() as connection:
        connection.execute(text(LINK), {"user_name": "bjensen@example.com"})
        connection.execute(text(OUTBOX_ENTRY))

    empty_database.upgrade()

    with empty_database.engine.begin() as connection:
        connection.execute(text("UPDATE links SET user_name = :long"), {"long": "x" * 512})
        linked = connection.execute(
            text("SELECT count(*) FROM outbox JOIN links ON links.id = outbox.link_id")
        )
        assert linked.scalar_one() == 1


LINK = (
    "INSERT INTO links (id, target, user_name, delivered_once, status, created_at) "
    "VALUES ('link1', 'chat', :user_name, false, 'pending', '2026-01-01T00:00:00Z')"
)
OUTBOX_ENTRY = (
    "INSERT INTO outbox (target, link_id, event, document, groups, state, attempts, failures, "
    "next_attempt_at, created_at) VALUES ('chat', 'link1', 'upsert', '{}', '[]', 'pending', 0, 0, "
    "'2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')"
)


def documentation_only(difference):
    """Column comments document the tables in code; the migrations do not copy them."""
    return isinstance(difference, list) and all(step[0] == "modify_comment" for step in difference)


def alembic_bookkeeping(difference):
    return difference[0] == "remove_table" and difference[1].name == "alembic_version"


def same_type_on_sqlite(difference, dialect):
    """SQLite enforces no VARCHAR length: VARCHAR(n) and TEXT are one type there, which the
    migrations do not rebuild tables to change (0005)."""
    return (
        dialect == "sqlite"
        and isinstance(difference, list)
        and all(
            step[0] == "modify_type" and isinstance(step[-2], String) and isinstance(step[-1], Text)
            for step in difference
        )
    )


def test_processes_starting_together_migrate_the_schema_once(database_url):
    """Replicas of ``serve`` and ``worker`` started at once on a new database each run the
    migrations at start-up: one migrates, the others wait for it and find the schema current."""
    databases = [Database(database_url) for _ in range(4)]
    start = threading.Barrier(len(databases))
    failures = []

    def upgrade(database):
        start.wait()
        try:
            database.upgrade()
        except Exception as error:
            failures.append(error)

    threads = [threading.Thread(target=upgrade, args=(database,)) for database in databases]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert failures == []
        with databases[0].engine.connect() as connection:
            versions = connection.execute(text("SELECT version_num FROM alembic_version")).all()
        assert len(versions) == 1
        assert table_names(databases[0]) >= STORE_TABLES
    finally:
        for database in databases:
            database.dispose()


RESOURCE = (
    "INSERT INTO resources (target, resource_type, id, document, version, created, "
    "last_modified, user_name, user_name_folded) VALUES ('chat', 'User', 'u1', '{}', 1, "
    "'2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', 'Straße', 'strasse')"
)


def test_upgrade_rekeys_live_links_by_the_filters_comparison_and_drops_unread_columns(
    empty_database,
):
    """0007: a link's userName was ``casefold``-ed ("strasse"), which the SCIM filter does
    not do; a live user's link gets the filter's form, and the unread columns go."""
    empty_database.upgrade("0006_outbox_history")
    with empty_database.engine.begin() as connection:
        connection.execute(text(RESOURCE))
        connection.execute(text(LINK), {"user_name": "strasse"})
        connection.execute(text("UPDATE links SET scim_id = 'u1'"))

    empty_database.upgrade()

    with empty_database.engine.begin() as connection:
        assert connection.execute(text("SELECT user_name FROM links")).scalar_one() == "straße"
    columns = {column["name"] for column in inspect(empty_database.engine).get_columns("resources")}
    assert columns.isdisjoint({"user_name", "user_name_folded", "external_id"})
    assert "display_name" in columns
