"""Alembic migrations of the store; :func:`scimbridge.store.database.alembic_config` runs them."""
