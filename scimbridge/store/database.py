"""The database connection, its schema migrations and the transaction of a request.

SQLite is the embedded default and PostgreSQL the choice past one machine
(docs/architecture.md, "Scaling"): the same code runs on both. The schema is created and
changed by the Alembic migrations shipped in :mod:`scimbridge.store.migrations`
only, so later features add their tables as new migrations.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

MIGRATIONS = Path(__file__).with_name("migrations")

SQLITE_BUSY_TIMEOUT_SECONDS = 5.0
"""How long an SQLite writer waits for the write lock before "database is locked"."""
SQLITE_PRAGMAS = (
    f"PRAGMA busy_timeout = {int(SQLITE_BUSY_TIMEOUT_SECONDS * 1000)}",
    "PRAGMA journal_mode = WAL",
    "PRAGMA synchronous = FULL",
    "PRAGMA cache_size = -16384",
    "PRAGMA temp_store = MEMORY",
    "PRAGMA journal_size_limit = 67108864",
    "PRAGMA foreign_keys = ON",
    "PRAGMA case_sensitive_like = ON",
)
"""Set on every SQLite connection, for a durable deployment on one machine.

- ``busy_timeout``, first: a connection waits for a lock instead of failing at
  once (turning a new file to WAL is the exception SQLite makes, which
  :func:`_execute_when_unlocked` tries again).
- ``journal_mode = WAL``: readers run beside the one writer, on the snapshot of
  their transaction's start, so a long Bulk request never holds up a read.
- ``synchronous = FULL``: every commit is synced before the SCIM answer, so a
  user the IdP was told is created survives a power cut as well as a crash of
  the process; ``NORMAL``, faster in WAL mode, may lose the last commits to a
  power cut, and the bridge promises that an accepted write is delivered.
- ``cache_size = -16384``: 16 MiB of pages per connection, instead of 2 MiB, so
  the indexes of a tenant of tens of thousands of users stay in memory; the pool
  holds at most 15 connections.
- ``temp_store = MEMORY``: sorting and the temporary b-trees of ``DISTINCT`` stay
  off the disk.
- ``journal_size_limit``: the WAL file is truncated back to 64 MiB after a
  checkpoint, instead of keeping the size of the largest Bulk request.
- ``foreign_keys``: off unless asked for, and the store relies on ``ON DELETE
  CASCADE``.
- ``case_sensitive_like``: ``LIKE`` is case-insensitive for ASCII by default,
  which would make ``co``/``sw``/``ew`` ignore ``caseExact`` (the values are
  already case-folded where RFC 7643 §2.2 wants it).
"""


MIGRATION_LOCK = 0x5C1B_0001
"""The PostgreSQL advisory lock key that start-up migrations take turns on
(:meth:`Database.upgrade`); the delivery claims lock on pairs of keys, a space of their
own."""


def utc(moment: datetime) -> datetime:
    """A datetime read back from the store, in UTC: SQLite gives naive ones, written in UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def alembic_config(connection: Connection) -> Config:
    """The Alembic configuration of the store's migrations, running on ``connection``.

    Built in code, so a deployment needs no ``alembic.ini``.
    """
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def _execute_when_unlocked(cursor: Any, statement: str, seconds: float = 5.0) -> None:
    """Run ``statement``, trying again for up to ``seconds`` while the database is locked.

    Turning a new database to WAL takes an exclusive lock, and SQLite answers "database
    is locked" at once, without its busy handler, when another connection holds a lock
    in the meantime (processes starting together on a new file): so it is tried again.
    """
    deadline = time.monotonic() + seconds
    while True:
        try:
            cursor.execute(statement)
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _configure_sqlite(engine: Engine, writing: ContextVar[bool]) -> None:
    """Pragmas on each connection, and transactions SQLAlchemy can nest.

    The ``sqlite3`` module opens transactions on its own and breaks
    SAVEPOINT; SQLAlchemy's documented recipe takes the transactions over.
    A writing transaction starts with ``BEGIN IMMEDIATE``: it takes the write
    lock up front, so two requests that read and then write wait for each other
    (``busy_timeout``) instead of one failing with "database is locked" when it
    tries to upgrade its lock. A reading one starts with a plain (deferred)
    ``BEGIN``: under WAL it reads a snapshot and never waits for the writer.
    """

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in SQLITE_PRAGMAS:
            _execute_when_unlocked(cursor, pragma)
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writing.get() else "BEGIN")


class Turns:
    """A lock that threads get in the order they asked for it (a thread lock makes no such
    promise: one that releases and asks again at once usually gets it back)."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._held = False
        self._waiting: deque[object] = deque()

    def acquire(self, timeout: float) -> bool:
        """Wait for this thread's turn, at most ``timeout`` seconds; False when it did not come."""
        with self._changed:
            ticket = object()
            self._waiting.append(ticket)
            if self._changed.wait_for(
                lambda: not self._held and self._waiting[0] is ticket, timeout
            ):
                self._waiting.popleft()
                self._held = True
                return True
            self._waiting.remove(ticket)
            self._changed.notify_all()
            return False

    def release(self) -> None:
        with self._changed:
            self._held = False
            self._changed.notify_all()


class Database:
    """An engine plus the session of the transaction in progress in this context.

    The engine hides the parameters of its statements in its errors and logs: they are
    users' names and addresses, and an unexpected database error is logged.

    One instance serves the whole process; :meth:`transaction` binds a session
    to a context variable, so each thread (each WSGI request) has its own.
    """

    def __init__(self, url: str):
        self._session: ContextVar[Session | None] = ContextVar(
            f"scimbridge_session_{id(self)}", default=None
        )
        self._writing: ContextVar[bool] = ContextVar(f"scimbridge_writing_{id(self)}", default=True)
        self._writers: Turns | None = None
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite":
            self._writers = Turns()
            # The session of a request stays in its thread; the pool may hand
            # the connection to another thread later, which is safe.
            self.engine = create_engine(
                url, connect_args={"check_same_thread": False}, hide_parameters=True
            )
            _configure_sqlite(self.engine, self._writing)
        else:
            self.engine = create_engine(url, pool_pre_ping=True, hide_parameters=True)

    def busy(self, error: OperationalError) -> bool:
        """Whether ``error`` is SQLite's "database is locked": another connection held the
        write lock past ``busy_timeout``. Trying again later is the answer to it."""
        return self.engine.dialect.name == "sqlite" and "database is locked" in str(error.orig)

    def upgrade(self, revision: str = "head") -> None:
        """Apply the migrations up to ``revision``; a no-op when the schema is current.

        Every ``serve`` and ``worker`` process runs this at start-up, so replicas started
        together race for it: on PostgreSQL they take turns on a transaction-scoped
        advisory lock (without it, their concurrent ``CREATE TABLE`` statements wait on
        each other for good), and each later one finds the schema current. On SQLite the
        transaction's ``BEGIN IMMEDIATE`` makes them take turns already.
        """
        with self.engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(select(func.pg_advisory_xact_lock(MIGRATION_LOCK)))
            command.upgrade(alembic_config(connection), revision)

    @contextmanager
    def transaction(self, *, writing: bool = True) -> Iterator[Session]:
        """Run the block in one transaction: commit on normal exit, roll back on an exception.

        A call inside another one joins the outer transaction, so a whole SCIM
        request (a Bulk request included) commits once, while a storage method
        called on its own still gets a transaction of its own.

        :param writing: False for a block that only reads. On SQLite it then
            never waits for the write lock, so reads go on while a long write
            (a 1,000-operation Bulk) holds it.
        :raises RuntimeError: for a writing block inside a reading transaction,
            which SQLite could not let write without risking a lost update.
        """
        outer = self._session.get()
        if outer is not None:
            if writing and not self._writing.get():
                raise RuntimeError("a writing transaction cannot join a reading one")
            yield outer
            return
        session = Session(self.engine, expire_on_commit=False)
        token = self._session.set(session)
        mode = self._writing.set(writing)
        try:
            with self._turn(writing), session.begin():
                yield session
        finally:
            self._writing.reset(mode)
            self._session.reset(token)
            session.close()

    @contextmanager
    def _turn(self, writing: bool) -> Iterator[None]:
        """The writers of this process take SQLite's write lock in turn, in the order they
        asked for it (:class:`Turns`). SQLite's own wait (``busy_timeout``) polls, sleeping
        up to 100 ms between tries, so a writer that commits and begins again at once (SCIM
        Bulk requests back to back, one transaction each) kept the lock while the delivery
        worker's claims slept: 1,200 of 10,000 users were delivered during a 98 s ingest
        (issue 24).

        A writer that waited :data:`SQLITE_BUSY_TIMEOUT_SECONDS` here goes on to SQLite's
        own wait; writers of other processes only ever meet that one.
        """
        writers = self._writers if writing else None
        turn = writers is not None and writers.acquire(timeout=SQLITE_BUSY_TIMEOUT_SECONDS)
        try:
            yield
        finally:
            if writers is not None and turn:
                writers.release()

    @property
    def reading(self) -> bool:
        """Whether a reading transaction is in progress (one that may not write)."""
        return self._session.get() is not None and not self._writing.get()

    def now(self) -> datetime:
        """The time on the database's clock, which every worker host shares: leases and
        retry times written by one host are read by the others (PostgreSQL's
        ``clock_timestamp()``; an SQLite database has one host, whose clock it is)."""
        if self.engine.dialect.name == "sqlite":
            return datetime.now(UTC)
        with self.transaction(writing=False) as session:
            return utc(session.execute(select(func.clock_timestamp())).scalar_one())

    @property
    def session(self) -> Session:
        """The session of the transaction in progress.

        :raises RuntimeError: outside :meth:`transaction`.
        """
        session = self._session.get()
        if session is None:
            raise RuntimeError("no transaction in progress: use Database.transaction()")
        return session

    def dispose(self) -> None:
        """Close the pooled connections, e.g. before the process forks or exits."""
        self.engine.dispose()
