"""Where a unit of work gets its connection: the engine's pool, or one kept connection.

SQLite lets one writer in at a time, and every transaction here writes (it begins with
``BEGIN IMMEDIATE``), so a process's threads can only ever use one connection at a time.
On a SQLite file they take turns on one connection kept open for the process, each woken
as soon as it is free (SQLite's own wait for its lock sleeps a millisecond and more between
tries), with its page cache warm (SQLite drops a connection's cache whenever another
connection has written), and without checking a connection out of SQLAlchemy's pool and
back in, which cost more than the SQL of a short transaction. PostgreSQL runs
transactions side by side, so there each unit of work takes its own connection from the
pool.

A commit on the kept connection writes the write-ahead log without waiting for the disk
(``synchronous=NORMAL``); the unit of work then hands the connection on and waits for the
log to reach the disk (``sync``) before its request is answered. The next transaction
runs while the disk works, and one sync covers every transaction committed before it
began (group commit): SQLite's own sync at each commit (``synchronous=FULL``) held the
connection, and with it every other request, for as long as the disk took. Nothing is
answered before it is durable, as before: the log is replayed in order after a power
loss, so a synced log holds every earlier transaction too. The log is copied back into
the database file by a thread beside the requests (store/wal_checkpoints.py), not inside
one of their commits.

A transaction that a power loss may undo whole (a lease, which then only ends early)
need not wait for its own sync, only for that of what it could have read: on the kept
connection, the last commit before it that had to be durable, as long as no other
connection has written meanwhile (SQLite's ``data_version`` tells); on PostgreSQL, an
asynchronous commit (a commit is visible to others only once it is on disk).
"""

from __future__ import annotations

import os
import threading

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import TimeoutError as PoolTimeout

from gateway.store.engine import READ_ONLY
from gateway.store.evidence_log import KnownHead
from gateway.store.wal_checkpoints import WalCheckpointer


class PooledConnections:
    """A connection from the engine's pool for each unit of work."""

    known_head = None
    """Workers append to the evidence chain side by side: each reads its head."""

    def __init__(self, engine: Engine):
        self._engine = engine

    def take(self) -> Connection:
        return self._engine.connect()

    def give_back(self, conn: Connection) -> None:
        conn.close()

    def take_for_reading(self) -> Connection:
        """The same: transactions that only read run beside the others anyway."""
        return self.take()

    def let_commit_be_lost(self, conn: Connection) -> bool:
        """Let the open transaction's commit return before it is on disk (PostgreSQL's
        asynchronous commit); an in-memory database has no disk to wait for."""
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
        return True

    def committed(self, durable: bool = True) -> int:
        """Nothing to count: the database made the commit durable before it returned."""
        return 0

    def sync(self, commit: int) -> None:
        """Nothing to wait for."""


LOG_SIZE_LIMIT = 32 * 2**20
"""The size the write-ahead log file is cut back to when it starts over: above the 16 MiB
it reaches under a steady load, far below what one large document leaves behind."""


class OneConnection:
    """One connection, kept open and used by one thread at a time; the others wait for
    it up to ``timeout_seconds``."""

    def __init__(
        self, engine: Engine, timeout_seconds: float, log_size_limit: int = LOG_SIZE_LIMIT
    ):
        self._engine = engine
        self._timeout = timeout_seconds
        self._log_size_limit = log_size_limit
        self._turn = threading.Lock()
        self._conn: Connection | None = None
        self._log = ""
        """The write-ahead log's path, as SQLite names it (symbolic links resolved)."""
        self._commits = 0
        """Commits made on the kept connection so far, counted in turn."""
        self._last_durable = 0
        """The number of the last of them that had to be durable before its answer."""
        self._data_version: int | None = None
        """SQLite's count of other connections' writes, as the kept connection last read it."""
        self._synced = 0
        """How many of them the log on disk is known to hold."""
        self._syncing = threading.Lock()
        self._checkpointer: WalCheckpointer | None = None
        self.known_head = KnownHead()
        """The evidence chain's head as this connection last moved it."""

    def take(self) -> Connection:
        if not self._turn.acquire(timeout=self._timeout):
            raise PoolTimeout(f"the database connection stayed busy for {self._timeout} s")
        try:
            if self._conn is None or self._conn.closed or self._conn.invalidated:
                self._conn = self._engine.connect()
                self._data_version = None  # each connection counts from its own start
                driver = self._conn.connection.dbapi_connection
                driver.execute("PRAGMA synchronous=NORMAL")
                driver.execute("PRAGMA wal_autocheckpoint=0")  # the checkpointer's work
                driver.execute(f"PRAGMA journal_size_limit={int(self._log_size_limit)}")
                files = {name: path for _, name, path in driver.execute("PRAGMA database_list")}
                self._log = files["main"] + "-wal"
                if self._checkpointer is None:
                    self._checkpointer = WalCheckpointer(files["main"], self._turn, self._timeout)
                self._checkpointer.start()
        except BaseException:
            self._turn.release()
            raise
        return self._conn

    def take_for_reading(self) -> Connection:
        """A pooled connection of its own for a transaction that only reads: it begins
        deferred (store/engine.py) and reads a snapshot beside the kept connection's
        writes, rather than waiting for its turn and holding everyone else's."""
        return self._engine.connect().execution_options(**{READ_ONLY: True})

    def give_back(self, conn: Connection) -> None:
        """Release the connection to the next thread: reopened next time if it broke, or
        if a transaction is still open on it (a rollback that failed)."""
        try:
            if not conn.invalidated and conn.connection.dbapi_connection.in_transaction:
                conn.invalidate()
            if conn.invalidated:
                self._conn = None
                conn.close()
        finally:
            self._turn.release()

    def let_commit_be_lost(self, conn: Connection) -> bool:
        """Whether the open transaction's answer may leave before its own commit is on
        disk: only if no other connection has written since the last time this was asked,
        so that every commit it could have read is one counted here."""
        driver = conn.connection.dbapi_connection
        [version] = driver.execute("PRAGMA data_version").fetchone()
        alone, self._data_version = version == self._data_version, version
        return alone

    def committed(self, durable: bool = True) -> int:
        """Count a commit just made (by the thread whose turn it is). The number of the
        commit its answer waits for: its own, or if it may be lost, the last one before it
        that may not (0 for none)."""
        self._commits += 1
        if durable:
            self._last_durable = self._commits
        return self._last_durable

    def sync(self, commit: int) -> None:
        """Return once commit number ``commit`` is on disk: at once if a sync that began
        after it has ended, otherwise after syncing the log (OSError if the disk fails)."""
        if self._synced >= commit:
            return
        with self._syncing:
            if self._synced >= commit:
                return
            covered = self._commits  # every commit counted has written its log
            try:
                log = os.open(self._log, os.O_RDONLY)
            except FileNotFoundError:
                # No log: the last connection to close moved it into the database file
                # and synced that.
                return
            try:
                os.fdatasync(log)  # as SQLite does: the data, not the times
            finally:
                os.close(log)
            self._synced = covered


def connections_for(engine: Engine, timeout_seconds: float):
    """One kept connection on a SQLite file, the pool elsewhere (an in-memory SQLite
    database is one per connection already)."""
    database = engine.url.database
    if engine.dialect.name == "sqlite" and database and database != ":memory:":
        return OneConnection(engine, timeout_seconds)
    return PooledConnections(engine)
