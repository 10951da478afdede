"""The SCIM resources, their Group members, unique values and search index.

Revision ID: 0001_scim_resources
Revises:
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0001_scim_resources"
down_revision = None
branch_labels = None
depends_on = None

CODE_POINT_TEXT = sa.Text().with_variant(sa.Text(collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table(
        "resources",
        sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("target", sa.String(64), nullable=False),
        sa.Column("resource_type", sa.String(64), nullable=False),
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("document", sa.JSON, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_modified", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_name", sa.Text),
        sa.Column("user_name_folded", sa.Text),
        sa.Column("external_id", sa.Text),
        sa.Column("display_name", sa.Text),
        sa.PrimaryKeyConstraint("pk", name="pk_resources"),
        sa.UniqueConstraint(
            "target", "resource_type", "id", name="uq_resources_target_resource_type_id"
        ),
    )
    op.create_index(
        "ix_resources_target_user_name_folded", "resources", ["target", "user_name_folded"]
    )
    op.create_index("ix_resources_target_external_id", "resources", ["target", "external_id"])
    op.create_index("ix_resources_target_display_name", "resources", ["target", "display_name"])

    op.create_table(
        "group_members",
        sa.Column("group_pk", sa.Integer, nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("target", sa.String(64), nullable=False),
        sa.Column("value", sa.Text),
        sa.Column("type", sa.Text),
        sa.Column("display", sa.Text),
        sa.Column("ref", sa.Text),
        sa.PrimaryKeyConstraint("group_pk", "position", name="pk_group_members"),
        sa.ForeignKeyConstraint(
            ["group_pk"],
            ["resources.pk"],
            ondelete="CASCADE",
            name="fk_group_members_group_pk_resources",
        ),
    )
    op.create_index("ix_group_members_target_value", "group_members", ["target", "value"])

    op.create_table(
        "unique_values",
        sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("resource_pk", sa.Integer, nullable=False),
        sa.Column("target", sa.String(64), nullable=False),
        sa.Column("urn", sa.String(255), nullable=False),
        sa.Column("value", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("pk", name="pk_unique_values"),
        sa.ForeignKeyConstraint(
            ["resource_pk"],
            ["resources.pk"],
            ondelete="CASCADE",
            name="fk_unique_values_resource_pk_resources",
        ),
        sa.UniqueConstraint("target", "urn", "value", name="uq_unique_values_target_urn_value"),
    )
    op.create_index("ix_unique_values_resource_pk", "unique_values", ["resource_pk"])

    op.create_table(
        "search_index",
        sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("resource_pk", sa.Integer, nullable=False),
        sa.Column("target", sa.String(64), nullable=False),
        sa.Column("resource_type", sa.String(64), nullable=False),
        sa.Column("path", sa.String(255), nullable=False),
        sa.Column("element", sa.Integer),
        sa.Column("representative", sa.Boolean, nullable=False),
        sa.Column("present", sa.Boolean, nullable=False),
        sa.Column("text", CODE_POINT_TEXT),
        sa.Column("text_key", CODE_POINT_TEXT),
        sa.Column("number", sa.Float),
        sa.Column("flag", sa.Boolean),
        sa.Column("moment", sa.String(32)),
        sa.PrimaryKeyConstraint("pk", name="pk_search_index"),
        sa.ForeignKeyConstraint(
            ["resource_pk"],
            ["resources.pk"],
            ondelete="CASCADE",
            name="fk_search_index_resource_pk_resources",
        ),
    )
    op.create_index(
        "ix_search_index_target_resource_type_path_text_key",
        "search_index",
        ["target", "resource_type", "path", "text_key"],
    )
    op.create_index(
        "ix_search_index_resource_pk_path_element",
        "search_index",
        ["resource_pk", "path", "element"],
    )


def downgrade() -> None:
    for table in ("search_index", "unique_values", "group_members", "resources"):
        op.drop_table(table)
