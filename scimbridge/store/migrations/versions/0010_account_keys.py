"""The account keys each user of the bridge holds at a vendor: one person per vendor account.

A vendor finds its accounts by a few record fields it keeps unique (an email at
Confide and ACC, a user name at Aria, Rocket.Chat and CloudShell). Before the
worker sends a record it reserves each of those values for the user, so that two
users — in one batch, in two loops, in two workers — can never be given one
account: the primary key makes a value one user's. A deleted user's values stay
reserved until its account is removed at the vendor, so that a new person never
inherits it. Rows are written by the worker as users are delivered; nothing is
back-filled here, since which fields are keys is a fact of the vendor plugin a
target names, which a migration cannot read (the worker reserves a user's values
at its next delivery).

Revision ID: 0010_account_keys
Revises: 0009_link_claimed_seq
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_account_keys"
down_revision = "0009_link_claimed_seq"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "account_keys",
        sa.Column("target", sa.String(64), nullable=False),
        sa.Column("field", sa.String(255), nullable=False),
        sa.Column("value_key", sa.Text, nullable=False),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("link_id", sa.String(32), nullable=False),
        sa.Column("retired", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.PrimaryKeyConstraint("target", "field", "value_key", name="pk_account_keys"),
        sa.ForeignKeyConstraint(["link_id"], ["links.id"], name="fk_account_keys_link_id_links"),
        comment="which user of the bridge each vendor account key value belongs to "
        '(docs/architecture.md, "One account, one person")',
    )
    op.create_index("ix_account_keys_link_id", "account_keys", ["link_id"])


def downgrade() -> None:
    op.drop_index("ix_account_keys_link_id", table_name="account_keys")
    op.drop_table("account_keys")
