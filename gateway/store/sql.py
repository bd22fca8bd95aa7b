"""Small helpers shared by the SQL repositories."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, literal
from sqlalchemy.dialects import postgresql, sqlite

from gateway.store.tables import UTCDateTime


def as_utc(value) -> datetime | None:
    """An aggregate of a date column (SQLite returns those as text) as an aware datetime."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return UTCDateTime().process_result_value(value, None)


def at(moment: datetime):
    """A datetime bound as our UTC column type (inside SQL functions too)."""
    return literal(moment, UTCDateTime())


def dialect(conn: Connection):
    """The dialect module whose INSERT knows ON CONFLICT."""
    return dialect_module(conn.dialect)


def dialect_module(engine_dialect):
    """The dialect module of ``engine_dialect`` (whose INSERT knows ON CONFLICT)."""
    return postgresql if engine_dialect.name == "postgresql" else sqlite
