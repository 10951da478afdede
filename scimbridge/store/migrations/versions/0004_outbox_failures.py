"""The outbox under fire: counted failures apart from tries, the kind of the last failure and
since when the entry fails, purged snapshots.

Revision ID: 0004_outbox_failures
Revises: 0003_link_vendor_record
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_outbox_failures"
down_revision = "0003_link_vendor_record"
branch_labels = None
depends_on = None

IN_FLIGHT = sa.text("state = 'pending' AND claimed_by IS NOT NULL")
"""Claimed entries: at most one per user (``store.delivery_tables``)."""


def upgrade() -> None:
    with op.batch_alter_table("outbox") as outbox:
        outbox.add_column(sa.Column("failures", sa.Integer, nullable=False, server_default="0"))
        outbox.add_column(sa.Column("error_kind", sa.String(16)))
        outbox.add_column(sa.Column("failing_since", sa.DateTime(timezone=True)))
        outbox.add_column(sa.Column("purged_at", sa.DateTime(timezone=True)))
    # Entries settled by earlier versions kept the name of their last claimer; only a live
    # claim names one from now on.
    op.execute("UPDATE outbox SET claimed_by = NULL WHERE claimed_until IS NULL")
    op.create_index(
        "uq_outbox_one_claim_per_user",
        "outbox",
        ["link_id"],
        unique=True,
        postgresql_where=IN_FLIGHT,
        sqlite_where=IN_FLIGHT,
    )


def downgrade() -> None:
    op.drop_index("uq_outbox_one_claim_per_user", "outbox")
    with op.batch_alter_table("outbox") as outbox:
        outbox.drop_column("purged_at")
        outbox.drop_column("failing_since")
        outbox.drop_column("error_kind")
        outbox.drop_column("failures")
