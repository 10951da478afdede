"""The tables of the SCIM store, as SQLAlchemy Core.

Every table carries the bridge ``target`` in its keys, so the targets sharing a
database never see each other's resources. The schema itself is only ever
created by the Alembic migrations in :mod:`scimbridge.store.migrations`; these
definitions are what the code queries against, and what a new migration
compares with.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

TEXT_KEY_LENGTH = 200
"""How much of a string the search index holds: PostgreSQL refuses a B-tree entry over ~2.7 kB."""

CodePointText = Text().with_variant(Text(collation="C"), "postgresql")
"""Text ordered by code point, as Python orders ``str``.

SQLite's default BINARY collation already compares UTF-8 bytes, which is code
point order; PostgreSQL needs the "C" collation, or ``gt``/``lt`` filters and
sorting would follow the locale instead of ``ScimFilter.match``.
"""

resources = Table(
    "resources",
    metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True, comment="insertion order"),
    Column("target", String(64), nullable=False),
    Column("resource_type", String(64), nullable=False, comment="meta.resourceType"),
    Column("id", String(64), nullable=False),
    Column("document", JSON, nullable=False, comment="the resource, without Group members"),
    Column("version", Integer, nullable=False, comment='meta.version is W/"<version>"'),
    Column("created", DateTime(timezone=True), nullable=False),
    Column("last_modified", DateTime(timezone=True), nullable=False),
    Column("display_name", Text, comment="the order group members are listed in"),
    UniqueConstraint("target", "resource_type", "id"),
    Index(None, "target", "display_name"),
)

group_members = Table(
    "group_members",
    metadata,
    Column(
        "group_pk",
        Integer,
        ForeignKey("resources.pk", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("position", Integer, primary_key=True, comment="order of the members list"),
    Column("target", String(64), nullable=False),
    Column("value", Text, comment="the member's id"),
    Column("type", Text, comment="User or Group"),
    Column("display", Text),
    Column("ref", Text, comment="members.$ref"),
    Index(None, "target", "value"),
)

unique_values = Table(
    "unique_values",
    metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column(
        "resource_pk",
        Integer,
        ForeignKey("resources.pk", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("target", String(64), nullable=False),
    Column("urn", String(255), nullable=False, comment="the attribute, schema included"),
    Column("value", Text, nullable=False, comment="the value as compared"),
    UniqueConstraint("target", "urn", "value"),
    Index(None, "resource_pk"),
)

search_index = Table(
    "search_index",
    metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column(
        "resource_pk",
        Integer,
        ForeignKey("resources.pk", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("target", String(64), nullable=False),
    Column("resource_type", String(64), nullable=False),
    Column(
        "path", String(255), nullable=False, comment="the attribute URN, e.g. …:User:emails.type"
    ),
    Column("element", Integer, comment="index in a multi-valued attribute, else NULL"),
    Column("representative", Boolean, nullable=False, comment="the value sorting uses"),
    Column("present", Boolean, nullable=False, comment="what the pr operator tests"),
    Column("text", CodePointText, comment="a string, in its compared form"),
    Column("text_key", CodePointText, comment="the start of text: what the index holds"),
    Column("number", Float),
    Column("flag", Boolean),
    Column("moment", String(32), comment="a dateTime, as fixed-width UTC ISO 8601"),
    Index(None, "target", "resource_type", "path", "text_key"),
    Index(None, "resource_pk", "path", "element"),
)
