"""The scheduled drift check: where each target's check stands, and what it has read so far.

``drift_checks`` holds one row per target: the check under way (when it began, the
cursor of the listing page it resumes at, the worker reading) and the findings of the
last complete one. ``drift_accounts`` holds the accounts the check under way has read,
so that a check interrupted by an outage or a restart resumes at its page instead of
reading the vendor again from the start. Both start empty: the first check fills them.

Revision ID: 0012_drift_checks
Revises: 0011_link_mapping_fingerprint
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0012_drift_checks"
down_revision = "0011_link_mapping_fingerprint"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "drift_checks",
        sa.Column("target", sa.String(64), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True)),
        sa.Column("cursor", sa.Text),
        sa.Column("claimed_by", sa.String(64)),
        sa.Column("claimed_until", sa.DateTime(timezone=True)),
        sa.Column("completed_at", sa.DateTime(timezone=True)),
        sa.Column("counts", sa.JSON),
        sa.Column("findings", sa.JSON),
        sa.Column("last_error", sa.Text),
        sa.PrimaryKeyConstraint("target", name="pk_drift_checks"),
        comment="the scheduled drift check of each target (docs/operations-reconcile.md)",
    )
    op.create_table(
        "drift_accounts",
        sa.Column("target", sa.String(64), nullable=False),
        sa.Column("vendor_id", sa.Text, nullable=False),
        sa.Column("record", sa.JSON, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.PrimaryKeyConstraint("target", "vendor_id", name="pk_drift_accounts"),
        comment="the accounts the drift check under way has read so far: it resumes, not restarts",
    )


def downgrade() -> None:
    op.drop_table("drift_accounts")
    op.drop_table("drift_checks")
