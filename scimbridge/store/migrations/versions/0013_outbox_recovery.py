"""What an operator and the recovery after an outage read in the outbox.

``outage`` marks an entry postponed because the vendor was out (no wait named), so that
the vendor's first answer after the outage makes it due at once (delivery.recovery).
``history`` keeps an entry's last tries, with what each met, after it is delivered too
(``scimbridge outbox list --history``). Entries written before this revision have no
history and are not marked: they come due by their own backoff, as before.

Revision ID: 0013_outbox_recovery
Revises: 0012_drift_checks
Create Date: 2026-12-08
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_outbox_recovery"
down_revision = "0012_drift_checks"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as outbox:
        outbox.add_column(
            sa.Column("outage", sa.Boolean, nullable=False, server_default=sa.false())
        )
        outbox.add_column(sa.Column("history", sa.JSON))


def downgrade() -> None:
    with op.batch_alter_table("outbox") as outbox:
        outbox.drop_column("history")
        outbox.drop_column("outage")
