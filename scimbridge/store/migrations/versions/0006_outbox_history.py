"""What an operator reads in the outbox: what each change was, the request that caused it,
and the vendor id a delivery reached.

``change`` names what happened to the user (create, update, deactivate, reactivate,
delete, group), where ``event`` only says what the worker must do (upsert or delete).
``request_id`` joins an entry to the log lines of the SCIM request that wrote it.
``delivered_vendor_id`` keeps the vendor's id as a delivery found it: the link holds only today's.
``last_attempt_at`` says when the entry was last tried, whatever came of it.
Entries written before this revision have none of these; ``outbox list`` shows them
by their ``event``.

Revision ID: 0006_outbox_history
Revises: 0005_link_text_columns
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_outbox_history"
down_revision = "0005_link_text_columns"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as outbox:
        outbox.add_column(sa.Column("change", sa.String(16)))
        outbox.add_column(sa.Column("request_id", sa.String(64)))
        outbox.add_column(sa.Column("delivered_vendor_id", sa.Text))
        outbox.add_column(sa.Column("last_attempt_at", sa.DateTime(timezone=True)))


def downgrade() -> None:
    with op.batch_alter_table("outbox") as outbox:
        outbox.drop_column("last_attempt_at")
        outbox.drop_column("delivered_vendor_id")
        outbox.drop_column("request_id")
        outbox.drop_column("change")
