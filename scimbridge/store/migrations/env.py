"""Alembic environment: runs on the connection :func:`~scimbridge.store.database.alembic_config` hands over."""

from alembic import context

from scimbridge.store.tables import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata)
with context.begin_transaction():
    context.run_migrations()
