"""The values a mapping's ``first_available`` chose with the vendor, one user's each, for good.

A user name chosen at the first delivery (Rocket.Chat's, say "john.b" because
"john" was taken) must stay the user's: chosen again later, it could differ, and
a retry after a timeout would find its own account holding "john" and make a
second one. It must also be nobody else's, even before the vendor has it: a
user whose delivery waits (an outage) keeps "john" from the next user who asks
the vendor. The primary key makes a value one user's across workers; the value
is compared in lower case, since vendors keep user names unique that way.

Revision ID: 0008_chosen_values
Revises: 0007_drop_unread_columns
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_chosen_values"
down_revision = "0007_drop_unread_columns"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "chosen_values",
        sa.Column("target", sa.String(64), nullable=False),
        sa.Column("field", sa.String(255), nullable=False),
        sa.Column("value_key", sa.Text, nullable=False),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("link_id", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("target", "field", "value_key", name="pk_chosen_values"),
        sa.ForeignKeyConstraint(["link_id"], ["links.id"], name="fk_chosen_values_link_id_links"),
        comment="the values first_available chose, each held by one user for good",
    )
    op.create_index("ix_chosen_values_link_id", "chosen_values", ["link_id"])


def downgrade() -> None:
    op.drop_index("ix_chosen_values_link_id", table_name="chosen_values")
    op.drop_table("chosen_values")
