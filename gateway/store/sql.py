"""Small helpers shared by the SQL repositories."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection, Date, func, literal, literal_column, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

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


class local_date(FunctionElement):  # noqa: N801 - used like the SQL function it renders
    """The calendar day of a UTC datetime column at a fixed offset from UTC, in SQL:
    ``local_date(documents.c.received_at, timedelta(hours=7))``."""

    type = Date()
    inherit_cache = True

    def __init__(self, column, offset: timedelta):
        # The offset is written into the SQL, and so into the statement cache's key.
        super().__init__(column, literal_column(str(int(offset.total_seconds() // 60))))


def _column_and_minutes(element, compiler, **kw) -> tuple[str, int]:
    column, minutes = element.clauses.clauses
    return compiler.process(column, **kw), int(minutes.name)


@compiles(local_date, "sqlite")
def _local_date_on_sqlite(element, compiler, **kw):
    column, minutes = _column_and_minutes(element, compiler, **kw)
    return f"date({column}, '{minutes:+d} minutes')"


@compiles(local_date, "postgresql")
def _local_date_on_postgresql(element, compiler, **kw):
    column, minutes = _column_and_minutes(element, compiler, **kw)
    return f"CAST({column} + INTERVAL '{minutes:d} minutes' AS DATE)"


def each_value(column, *conditions):
    """The distinct values of ``column`` as a recursive CTE (its one column: ``value``,
    then a NULL), read from an index that begins with the column one value at a time: a
    probe per value rather than a pass over every row, which neither SQLite without
    statistics nor PostgreSQL makes by itself. ``conditions`` repeat a partial index's."""
    values = (
        select(func.min(column).label("value"))
        .where(*conditions)
        .cte(f"each_{column.table.name}_{column.name}", recursive=True)
    )
    following = select(func.min(column)).where(column > values.c.value, *conditions)
    return values.union_all(select(following.scalar_subquery()).where(values.c.value.is_not(None)))
