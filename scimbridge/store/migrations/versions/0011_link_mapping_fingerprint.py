"""The fingerprint of the mapping that made each link's record: a changed mapping is noticed.

The worker sets ``links.mapping_fingerprint`` to the fingerprint of its mapping
(``Mapping.fingerprint``) when it records a delivery that sent a record. After the
mapping file changes, ``scimbridge status`` counts the delivered users whose record
the new mapping would change, and ``delivery.redeliver_on_mapping_change`` queues
them again (``scimbridge.delivery.redelivery``).

Nothing is back-filled: which mapping made a record delivered before this revision
is not known, so those links keep NULL, "made by an unknown mapping", and each is
compared with the mapping of the day once.

Revision ID: 0011_link_mapping_fingerprint
Revises: 0010_account_keys
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_link_mapping_fingerprint"
down_revision = "0010_account_keys"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("links") as links:
        links.add_column(sa.Column("mapping_fingerprint", sa.String(64)))


def downgrade() -> None:
    with op.batch_alter_table("links") as links:
        links.drop_column("mapping_fingerprint")
