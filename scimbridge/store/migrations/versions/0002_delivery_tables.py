"""The delivery tables of scimbridge/store/delivery_tables.py: external-ID links and the outbox.

Revision ID: 0002_delivery_tables
Revises: 0001_scim_resources
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_delivery_tables"
down_revision = "0001_scim_resources"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "links",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("target", sa.String(64), nullable=False),
        sa.Column("scim_id", sa.String(64)),
        sa.Column("external_id", sa.String(255)),
        sa.Column("user_name", sa.String(255), nullable=False),
        sa.Column("vendor_id", sa.String(255)),
        sa.Column("delivered_once", sa.Boolean, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("last_attempt", sa.DateTime(timezone=True)),
        sa.Column("last_error", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True)),
        sa.UniqueConstraint("target", "scim_id", name="uq_links_target_scim_id"),
    )
    op.create_index("ix_links_target_external_id", "links", ["target", "external_id"])
    op.create_index("ix_links_target_user_name", "links", ["target", "user_name"])

    op.create_table(
        "outbox",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("target", sa.String(64), nullable=False),
        sa.Column("link_id", sa.String(32), sa.ForeignKey("links.id"), nullable=False),
        sa.Column("event", sa.String(16), nullable=False),
        sa.Column("document", sa.JSON, nullable=False),
        sa.Column("groups", sa.JSON, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_by", sa.String(64)),
        sa.Column("claimed_until", sa.DateTime(timezone=True)),
        sa.Column("last_error", sa.Text),
        sa.Column("vendor_ref", sa.String(255)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_outbox_due", "outbox", ["target", "state", "next_attempt_at"])
    op.create_index("ix_outbox_link_state", "outbox", ["link_id", "state"])


def downgrade() -> None:
    op.drop_table("outbox")
    op.drop_table("links")
