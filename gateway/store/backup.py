"""Online backup and restore of an SQLite hub (PostgreSQL has pg_dump and pg_restore)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy import Engine

from gateway.errors import AdminError


class BackupError(AdminError):
    """A backup or restore that cannot be done (shown to the operator)."""


def backup(engine: Engine, target: Path) -> None:
    """Copy the live database into ``target`` without stopping the hub (SQLite's backup API)."""
    _require_sqlite(engine)
    if target.exists():
        raise BackupError(f"{target} exists; choose a new file.")
    target.parent.mkdir(parents=True, exist_ok=True)
    raw = engine.raw_connection()
    try:
        with sqlite3.connect(target) as copy:
            raw.driver_connection.backup(copy)
        copy.close()
    finally:
        raw.close()


def restore(engine: Engine, source: Path) -> None:
    """Replace the database's content with the backup in ``source`` (stop the hub first)."""
    _require_sqlite(engine)
    if not source.is_file():
        raise BackupError(f"{source} is not a file.")
    with sqlite3.connect(f"file:{source}?mode=ro", uri=True) as original:
        try:
            tables = {row[0] for row in original.execute("SELECT name FROM sqlite_master")}
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"{source} is not an SQLite database: {exc}") from exc
        if not {"alembic_version", "documents", "deliveries"} <= tables:
            raise BackupError(f"{source} is not a backup of a LienThong hub.")
        raw = engine.raw_connection()
        try:
            original.backup(raw.driver_connection)
        finally:
            raw.close()
    original.close()


def _require_sqlite(engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        raise BackupError(
            "backup and restore work on SQLite; for PostgreSQL use pg_dump and pg_restore "
            "(see the README)."
        )
