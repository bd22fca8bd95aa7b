"""Copying SQLite's write-ahead log into the database file beside the requests.

By default SQLite checkpoints (copies the log back into the database file and syncs it)
inside the commit that finds the log over 1,000 pages long. On the kept connection
(store/connections.py) that commit held every other request for the milliseconds the
copy took, about once in forty SendDocuments. The kept connection turns that off; a
``WalCheckpointer`` thread, on a connection of its own, runs a passive checkpoint a few
times a second instead: it copies whatever is committed without holding up the writer.

SQLite starts the log over from its beginning only when a write transaction begins with
all of the log copied, which a steady stream of writes may never leave time for. So once
the log is over ``restart_pages`` long, the thread takes the connection's turn, so that
this process's writers wait, and checkpoints again: the copy of what was committed since
the last one, a few milliseconds. The next transaction then writes the log from its
beginning. The thread never waits inside SQLite (passive checkpoints do not), so a long
read such as a backup cannot make it hold the turn: the log grows until the read ends, as
with SQLite's own checkpoints. Writers in other processes may keep the log from starting
over while they write.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
import weakref

log = logging.getLogger("gateway.store")

INTERVAL_SECONDS = 0.05
"""How often the thread checkpoints."""
RESTART_PAGES = 4000
"""The log's length (16 MiB of 4 KiB pages) past which the thread makes it start over."""


class WalCheckpointer:
    """Checkpoints the SQLite database at ``path`` from a thread of this process, for as
    long as this object is in use."""

    def __init__(
        self, path: str, turn: threading.Lock, timeout_seconds: float,
        restart_pages: int = RESTART_PAGES,
    ):  # fmt: skip
        self._path = path
        self._turn = turn
        self._timeout = timeout_seconds
        self._restart_pages = restart_pages
        self._started_in = 0
        """The process the thread runs in: a forked worker starts its own."""

    def start(self, interval: float = INTERVAL_SECONDS) -> None:
        """Start the thread, unless this process has it already."""
        if self._started_in == os.getpid():
            return
        conn = self.connect()
        self._started_in = os.getpid()
        threading.Thread(
            target=_checkpoint_while_used, args=(weakref.ref(self), conn, interval),
            name="wal-checkpoints", daemon=True,
        ).start()  # fmt: skip

    def connect(self) -> sqlite3.Connection:
        """A connection to checkpoint on, usable from another thread."""
        return sqlite3.connect(
            self._path, timeout=self._timeout, isolation_level=None, check_same_thread=False
        )

    def checkpoint(self, conn: sqlite3.Connection) -> tuple[int, int]:
        """Copy what the log holds; if it is long, copy the rest with this process's
        writers held off, so that the next transaction starts it over. Returns the log's
        length in pages and how many of them are copied, after the first copy."""
        pages, copied = _passive(conn)
        if pages >= self._restart_pages and self._turn.acquire(timeout=self._timeout):
            try:
                _passive(conn)
            finally:
                self._turn.release()
        return pages, copied


def _passive(conn: sqlite3.Connection) -> tuple[int, int]:
    """A checkpoint that copies what it can without waiting: the log's length in pages
    and how many of them are copied."""
    _, pages, copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    return pages, copied


def _checkpoint_while_used(checkpointer_ref, conn: sqlite3.Connection, interval: float):
    """The thread: checkpoint every ``interval`` seconds until the checkpointer is gone."""
    try:
        while True:
            time.sleep(interval)
            checkpointer = checkpointer_ref()
            if checkpointer is None:
                return
            try:
                checkpointer.checkpoint(conn)
            except sqlite3.Error as error:  # tried again next time
                log.warning("checkpoint failed: %s", error)
            del checkpointer
    finally:
        conn.close()
