"""The delivery tables: external-ID links and the outbox (docs/architecture.md, "External IDs and re-import").

They live beside the resources so that one transaction writes a resource,
its link and its outbox entry together.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
)

from scimbridge.store.tables import metadata

links = Table(
    "links",
    metadata,
    Column("id", String(32), primary_key=True, comment="the bridge's stable id of the user"),
    Column("target", String(64), nullable=False),
    Column("scim_id", String(64), comment="the live SCIM resource; kept after DELETE"),
    Column("external_id", Text),
    Column("user_name", Text, nullable=False, comment="userName as compared (comparison.py)"),
    Column("vendor_id", Text, comment="the vendor's own id, once it told us"),
    Column("delivered_once", Boolean, nullable=False, default=False),
    Column(
        "vendor_record",
        JSON,
        comment="the record last sent whose outcome was success or unknown: what the vendor may hold",
    ),
    Column("sent_at", DateTime(timezone=True), comment="when vendor_record was sent"),
    Column(
        "mapping_fingerprint",
        String(64),
        comment="the fingerprint of the mapping that made vendor_record (Mapping.fingerprint); "
        "NULL: made by an unknown mapping (delivery.redelivery)",
    ),
    Column(
        "claimed_seq",
        Integer,
        comment="the newest outbox entry ever claimed for the user: no older one is claimed "
        "(delivery.ordering)",
    ),
    Column("status", String(16), nullable=False, comment="pending | delivered | failed"),
    Column("last_attempt", DateTime(timezone=True)),
    Column("last_error", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column(
        "deleted_at", DateTime(timezone=True), comment="set: a tombstone awaiting re-provisioning"
    ),
    UniqueConstraint("target", "scim_id", name="uq_links_target_scim_id"),
    Index("ix_links_target_external_id", "target", "external_id"),
    Index("ix_links_target_user_name", "target", "user_name"),
    Index("ix_links_target_vendor_id", "target", "vendor_id"),
)

chosen_values = Table(
    "chosen_values",
    metadata,
    Column("target", String(64), primary_key=True),
    Column("field", String(255), primary_key=True, comment="a record field of the vendor"),
    Column("value_key", Text, primary_key=True, comment="the value in lower case: unique"),
    Column("value", Text, nullable=False, comment="the value as chosen and sent"),
    Column("link_id", String(32), ForeignKey("links.id"), nullable=False),
    Index("ix_chosen_values_link_id", "link_id"),
    comment="the values first_available chose, each held by one user for good",
)

account_keys = Table(
    "account_keys",
    metadata,
    Column("target", String(64), primary_key=True),
    Column(
        "field",
        String(255),
        primary_key=True,
        comment="an account key of the vendor: a record field it keeps unique and finds accounts by",
    ),
    Column(
        "value_key",
        Text,
        primary_key=True,
        comment="the value as the vendor compares it (NFC, lower case): one holder per value",
    ),
    Column("value", Text, nullable=False, comment="the value as the record carries it"),
    Column("link_id", String(32), ForeignKey("links.id"), nullable=False),
    Column(
        "retired",
        Boolean,
        nullable=False,
        default=False,
        server_default=false(),
        comment="names a former account of the user, disabled at the vendor after an identity change",
    ),
    Index("ix_account_keys_link_id", "link_id"),
    comment="which user of the bridge each vendor account key value belongs to "
    '(docs/architecture.md, "One account, one person")',
)

outbox = Table(
    "outbox",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True, comment="delivery order"),
    Column("target", String(64), nullable=False),
    Column("link_id", String(32), ForeignKey("links.id"), nullable=False),
    Column("event", String(16), nullable=False, comment="upsert | delete: what the worker does"),
    Column(
        "change",
        String(16),
        comment="create | update | deactivate | reactivate | delete | group: what happened",
    ),
    Column("request_id", String(64), comment="the SCIM request that wrote the entry"),
    Column("document", JSON, nullable=False, comment="the user as it was written"),
    Column("groups", JSON, nullable=False, comment="its groups' display names"),
    Column(
        "state",
        String(16),
        nullable=False,
        comment="pending | delivered | failed | superseded",
    ),
    Column("attempts", Integer, nullable=False, default=0, comment="every try, failed or not"),
    Column(
        "failures",
        Integer,
        nullable=False,
        default=0,
        comment="refusals and errors: what counts toward delivery.max_attempts",
    ),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("last_attempt_at", DateTime(timezone=True), comment="the last try, whatever came of it"),
    Column("claimed_by", String(64)),
    Column("claimed_until", DateTime(timezone=True)),
    Column("last_error", Text),
    Column(
        "error_kind",
        String(16),
        comment="of last_error: unavailable (the vendor; not counted) | failed (the user; "
        "counted) | credentials (the vendor refused the bridge's credentials; not counted)",
    ),
    Column(
        "failing_since",
        DateTime(timezone=True),
        comment="the first failed try: how long the vendor has been unavailable to this entry "
        "(for error_kind credentials: since when it refuses the bridge's credentials)",
    ),
    Column(
        "outage",
        Boolean,
        nullable=False,
        default=False,
        server_default=false(),
        comment="postponed by a vendor outage, no wait named: due at once when the vendor "
        "answers again (delivery.recovery)",
    ),
    Column(
        "history",
        JSON,
        comment="the last tries, oldest first: when, what came of each, the error "
        "(delivery.settling.HISTORY_KEPT)",
    ),
    Column("vendor_ref", String(255), comment="the vendor's taskId / jobId of the delivery"),
    Column(
        "delivered_vendor_id", Text, comment="the vendor's id of the user this delivery reached"
    ),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("done_at", DateTime(timezone=True)),
    Column(
        "purged_at",
        DateTime(timezone=True),
        comment="set: the user snapshot was dropped (delivery.retention_seconds)",
    ),
    Index("ix_outbox_due", "target", "state", "next_attempt_at"),
    Index("ix_outbox_link_state", "link_id", "state"),
    # At most one claimed entry per user, whatever the workers do: one user's changes are
    # never delivered side by side (delivery.claiming); claimed_by is cleared on settling.
    Index(
        "uq_outbox_one_claim_per_user",
        "link_id",
        unique=True,
        postgresql_where=text("state = 'pending' AND claimed_by IS NOT NULL"),
        sqlite_where=text("state = 'pending' AND claimed_by IS NOT NULL"),
    ),
)

drift_checks = Table(
    "drift_checks",
    metadata,
    Column("target", String(64), primary_key=True),
    Column("started_at", DateTime(timezone=True), comment="when the check under way began"),
    Column(
        "cursor",
        Text,
        comment="where the listing of the check under way resumes (null: at its first page)",
    ),
    Column("claimed_by", String(64), comment="the worker reading the vendor now"),
    Column("claimed_until", DateTime(timezone=True)),
    Column("completed_at", DateTime(timezone=True), comment="when the last complete check ended"),
    Column("counts", JSON, comment="findings per kind of the last complete check"),
    Column("findings", JSON, comment="the last complete check's findings, in-step users left out"),
    Column("last_error", Text, comment="why the check under way is paused, if it is"),
    comment="the scheduled drift check of each target (docs/operations-reconcile.md)",
)

drift_accounts = Table(
    "drift_accounts",
    metadata,
    Column("target", String(64), primary_key=True),
    Column("vendor_id", Text, primary_key=True),
    Column("record", JSON, nullable=False, comment="the account in the vendor's record shape"),
    Column("active", Boolean, nullable=False),
    comment="the accounts the drift check under way has read so far: it resumes, not restarts",
)
