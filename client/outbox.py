"""The connector's outbox: direct sends waiting for a recipient's inbox.

Kept in SQLite in the connector's data folder and committed before any attempt, so a
connector stopped and started again loses nothing. One entry per recipient and
document bytes: adding the same document again for the same recipient is a no-op.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

WAITING, DELIVERED, FAILED = "waiting", "delivered", "failed"

SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY,
    recipient TEXT NOT NULL,
    document_id TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    content BLOB NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL,
    last_error TEXT NOT NULL DEFAULT '',
    message_id TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL,
    UNIQUE (recipient, sha256)
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (state, next_attempt_at);
"""


@dataclass(frozen=True)
class Entry:
    id: int
    recipient: str
    document_id: str
    content: bytes
    state: str
    attempts: int
    next_attempt_at: float
    """Seconds since the epoch."""
    last_error: str
    message_id: str
    """The MessageId the recipient's inbox gave it, once delivered."""
    created_at: float


class Outbox:
    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self._path = path
        with self._connection() as db:
            db.executescript(SCHEMA)

    def add(self, recipient: str, document_id: str, content: bytes, now: float) -> Entry:
        """Queue ``content`` for ``recipient`` (due at once), or return the entry it has."""
        sha256 = hashlib.sha256(content).hexdigest()
        with self._connection() as db:
            db.execute(
                "INSERT OR IGNORE INTO outbox (recipient, document_id, sha256, content, state,"
                " next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (recipient, document_id, sha256, content, WAITING, now, now),
            )
            row = db.execute(
                "SELECT * FROM outbox WHERE recipient = ? AND sha256 = ?", (recipient, sha256)
            ).fetchone()
        return _entry(row)

    def due(self, now: float) -> list[Entry]:
        """Waiting entries whose next attempt has come, oldest first."""
        return self._select("WHERE state = ? AND next_attempt_at <= ? ORDER BY id", (WAITING, now))

    def waiting(self) -> list[Entry]:
        """Every entry not delivered: waiting, or failed for good."""
        return self._select("WHERE state != ? ORDER BY id", (DELIVERED,))

    def delivered(self, entry_id: int, message_id: str) -> None:
        self._update(entry_id, state=DELIVERED, message_id=message_id, last_error="")

    def failed(self, entry_id: int, reason: str) -> None:
        self._update(entry_id, state=FAILED, last_error=reason)

    def retry_later(self, entry_id: int, reason: str, at: float) -> None:
        self._update(entry_id, last_error=reason, next_attempt_at=at)

    def counted_attempt(self, entry_id: int) -> int:
        """Count one more attempt at delivering the entry; return how many there were."""
        with self._connection() as db:
            db.execute("UPDATE outbox SET attempts = attempts + 1 WHERE id = ?", (entry_id,))
            return db.execute("SELECT attempts FROM outbox WHERE id = ?", (entry_id,)).fetchone()[0]

    def _select(self, where: str, parameters: tuple) -> list[Entry]:
        with self._connection() as db:
            return [_entry(row) for row in db.execute(f"SELECT * FROM outbox {where}", parameters)]

    def _update(self, entry_id: int, **values) -> None:
        columns = ", ".join(f"{name} = ?" for name in values)
        with self._connection() as db:
            db.execute(f"UPDATE outbox SET {columns} WHERE id = ?", (*values.values(), entry_id))

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self._path, timeout=30)
        db.row_factory = sqlite3.Row
        try:
            with db:  # one transaction, committed on success
                yield db
        finally:
            db.close()


def _entry(row: sqlite3.Row) -> Entry:
    return Entry(
        id=row["id"],
        recipient=row["recipient"],
        document_id=row["document_id"],
        content=bytes(row["content"]),
        state=row["state"],
        attempts=row["attempts"],
        next_attempt_at=row["next_attempt_at"],
        last_error=row["last_error"],
        message_id=row["message_id"],
        created_at=row["created_at"],
    )
