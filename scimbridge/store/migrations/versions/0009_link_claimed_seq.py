"""The newest outbox entry ever claimed for each user: one user's changes reach the vendor in order.

A claim raises ``links.claimed_seq`` to the entry it takes, and never claims an
entry older than it (``scimbridge.delivery.ordering``): an older snapshot of a
user, re-queued by ``outbox retry`` or left pending by a lost race, can no longer
reach the vendor after a newer one did.

Back-filled from the outbox: the newest entry of the user that was ever claimed,
which is every entry delivered, in flight (``claimed_by``), or tried once
(``attempts``, or ``last_attempt_at``, which a retry does not reset). An entry that
was only ever pending or held, or superseded without being tried, was never sent,
so it raises nothing; a user none of whose entries was claimed has none.

Revision ID: 0009_link_claimed_seq
Revises: 0008_chosen_values
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_link_claimed_seq"
down_revision = "0008_chosen_values"
branch_labels = None
depends_on = None

BACK_FILL = """
UPDATE links SET claimed_seq = (
    SELECT max(outbox.seq) FROM outbox
    WHERE outbox.link_id = links.id
      AND (outbox.state = 'delivered'
           OR outbox.claimed_by IS NOT NULL
           OR outbox.attempts > 0
           OR outbox.last_attempt_at IS NOT NULL)
)
"""


def upgrade() -> None:
    with op.batch_alter_table("links") as links:
        links.add_column(sa.Column("claimed_seq", sa.Integer))
    op.execute(BACK_FILL)


def downgrade() -> None:
    with op.batch_alter_table("links") as links:
        links.drop_column("claimed_seq")
