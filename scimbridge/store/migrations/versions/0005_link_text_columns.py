"""Links hold any userName, externalId and vendor id the store accepts: Text, not String(255).

The store accepts a userName or externalId of up to 512 characters
(``scimbridge.store.storage.MAX_INDEXED_LENGTH``); PostgreSQL refused to link one
longer than 255, and the whole SCIM request failed with a 500.

SQLite is left as it is: it never enforces a VARCHAR length, and VARCHAR(255) and
TEXT have the same (TEXT) affinity, so only the declared type would change. Changing
it means rebuilding ``links``, and SQLite refuses to drop ``links`` while ``outbox``
rows reference it (``PRAGMA foreign_keys``, which cannot be switched off inside the
upgrade's transaction). A downgrade fails on PostgreSQL while a longer value is linked.

Revision ID: 0005_link_text_columns
Revises: 0004_outbox_failures
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_link_text_columns"
down_revision = "0004_outbox_failures"
branch_labels = None
depends_on = None

COLUMNS = ("external_id", "user_name", "vendor_id")


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    for column in COLUMNS:
        op.alter_column("links", column, type_=sa.Text, existing_type=sa.String(255))


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    for column in COLUMNS:
        op.alter_column("links", column, type_=sa.String(255), existing_type=sa.Text)
