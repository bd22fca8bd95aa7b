"""Database engines: SQLite tuned for a durable embedded hub, PostgreSQL with a pool."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

from gateway.store.prepared import begin_on_driver

READ_ONLY = "lienthong_read_only"
"""Execution option of a connection whose transactions only read: on SQLite they begin
deferred, reading a snapshot beside the writer instead of taking the write lock."""
READERS = 4
"""Connections of a SQLite file's pool for reading beside the kept one (and a backup)."""


def make_engine(url: str, *, timeout_seconds: int = 5) -> Engine:
    """An engine for ``url`` whose transactions fail fast when the database is away."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed, timeout_seconds)
    # libpq's ``options`` from the URL (a search_path, say) are kept beside the lock timeout.
    options = " ".join(
        filter(None, (parsed.query.get("options"), f"-c lock_timeout={timeout_seconds * 1000}"))
    )
    return create_engine(
        parsed.difference_update_query(["options"]),
        pool_pre_ping=True,
        pool_size=10,
        max_overflow=20,
        pool_timeout=timeout_seconds,
        connect_args={
            "connect_timeout": timeout_seconds,
            "options": options,
        },
    )


def _sqlite_engine(url, timeout_seconds: int) -> Engine:
    pool = {}
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        # The units of work that write share one connection (store/connections.py); the
        # pool's others are for those that only read, and for a backup.
        pool = dict(pool_size=1 + READERS, max_overflow=0, pool_timeout=timeout_seconds)
    engine = create_engine(
        url, connect_args={"timeout": timeout_seconds, "check_same_thread": False}, **pool
    )

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection, _record):
        # Let SQLAlchemy's "begin" event below issue BEGIN itself.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # WAL lets readers run beside the writer; synchronous=FULL makes every
        # commit durable across a power loss, not only a process crash. (The units of
        # work's kept connection syncs after its commits instead: store/connections.py.)
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={timeout_seconds * 1000}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn):
        # Take the write lock up front: a read-then-write transaction cannot
        # then deadlock against another writer, and leases are serialised. One that
        # only reads takes no lock: the write-ahead log lets it read beside the writer.
        reading = conn.get_execution_options().get(READ_ONLY, False)
        begin_on_driver(conn, "BEGIN" if reading else "BEGIN IMMEDIATE")

    return engine
