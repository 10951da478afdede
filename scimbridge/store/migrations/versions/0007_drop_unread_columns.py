"""Resources stop copying userName and externalId into columns no query reads; links compare
userNames the way the SCIM filter does.

``resources.user_name``, ``user_name_folded`` and ``external_id`` (the last two
indexed) were written on every save and never read: filters use the search
index, and the identity lookup uses ``links``. ``display_name`` stays: group
members are listed in its order.

``links.user_name`` held ``str.casefold()`` of the userName, which the SCIM
filter and the search index do not use (they lower-case: "Straße" is not
"STRASSE" there). It now holds :func:`scimbridge.comparison.user_name_key`;
links of live users are recomputed from their resource. A tombstone (the user
was deleted) keeps the folded form, which differs only for the few letters
``casefold`` expands, and then matches no new userName: a former user so named
is found by externalId only.

Revision ID: 0007_drop_unread_columns
Revises: 0006_outbox_history
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

from scimbridge.comparison import user_name_key

revision = "0007_drop_unread_columns"
down_revision = "0006_outbox_history"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_resources_target_user_name_folded": ("target", "user_name_folded"),
    "ix_resources_target_external_id": ("target", "external_id"),
}


def upgrade() -> None:
    connection = op.get_bind()
    live = connection.execute(
        sa.text(
            "SELECT links.id, resources.user_name FROM links JOIN resources "
            "ON resources.target = links.target AND resources.resource_type = 'User' "
            "AND resources.id = links.scim_id WHERE resources.user_name IS NOT NULL"
        )
    ).all()
    for link_id, user_name in live:
        connection.execute(
            sa.text("UPDATE links SET user_name = :key WHERE id = :id"),
            {"key": user_name_key(user_name), "id": link_id},
        )
    for name in INDEXES:
        op.drop_index(name, table_name="resources")
    with op.batch_alter_table("resources") as table:
        for column in ("user_name", "user_name_folded", "external_id"):
            table.drop_column(column)


def downgrade() -> None:
    with op.batch_alter_table("resources") as table:
        for column in ("user_name", "user_name_folded", "external_id"):
            table.add_column(sa.Column(column, sa.Text))
    for name, columns in INDEXES.items():
        op.create_index(name, "resources", list(columns))
