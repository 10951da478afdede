"""What the vendor holds of each user: the record last sent with a success or an unknown outcome.

Revision ID: 0003_link_vendor_record
Revises: 0002_delivery_tables
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_link_vendor_record"
down_revision = "0002_delivery_tables"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("links") as links:
        links.add_column(sa.Column("vendor_record", sa.JSON))
        links.add_column(sa.Column("sent_at", sa.DateTime(timezone=True)))
    op.create_index("ix_links_target_vendor_id", "links", ["target", "vendor_id"])


def downgrade() -> None:
    op.drop_index("ix_links_target_vendor_id", "links")
    with op.batch_alter_table("links") as links:
        links.drop_column("sent_at")
        links.drop_column("vendor_record")
