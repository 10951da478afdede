"""The SCIM store: resources of every bridge target in SQLite or PostgreSQL.

:class:`Database` owns the engine, the migrations and the transaction of a
request; :class:`SqlStorage` is one target's ``scim2_server.ScimStorage``.
"""

from scimbridge.store.database import Database, utc
from scimbridge.store.events import Listener, StoreEvent
from scimbridge.store.storage import SqlStorage

__all__ = ["Database", "Listener", "SqlStorage", "StoreEvent", "utc"]
