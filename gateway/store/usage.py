"""The SQL quota figures: an agency's documents of the last window, and its day's bytes."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Connection, bindparam, delete, func, select, tuple_

from gateway.store.prepared import Prepared
from gateway.store.sql import as_utc, dialect_module
from gateway.store.tables import agency_usage, documents

_RECENT_SENDS = Prepared(
    select(func.count(), func.min(documents.c.received_at)).where(
        documents.c.sender == bindparam("sender"),
        documents.c.received_at > bindparam("since", type_=documents.c.received_at.type),
    )
)


def _count_day(engine_dialect):
    """Add one document and its bytes to an agency's day; the day's bytes after."""
    statement = dialect_module(engine_dialect).insert(agency_usage)
    return statement.on_conflict_do_update(
        index_elements=[agency_usage.c.agency, agency_usage.c.day],
        set_={
            "documents": agency_usage.c.documents + statement.excluded.documents,
            "bytes": agency_usage.c.bytes + statement.excluded.bytes,
        },
    ).returning(agency_usage.c.bytes)


_COUNT_DAY = Prepared(_count_day, columns=("agency", "day", "documents", "bytes"))


class SqlUsage:
    def __init__(self, conn: Connection):
        self._conn = conn

    def recent_sends(self, sender: str, since: datetime) -> tuple[int, datetime | None]:
        count, first = _RECENT_SENDS.first(self._conn, {"sender": sender, "since": since})
        return count, as_utc(first)

    def count_day(self, sender: str, day: date, size: int) -> int:
        return _COUNT_DAY.scalar(
            self._conn, {"agency": sender, "day": day, "documents": 1, "bytes": size}
        )

    def forget_before(self, day: date, limit: int) -> int:
        oldest = (
            select(agency_usage.c.agency, agency_usage.c.day)
            .where(agency_usage.c.day < day)
            .order_by(agency_usage.c.day)
            .limit(limit)
        )
        key = tuple_(agency_usage.c.agency, agency_usage.c.day)
        return self._conn.execute(delete(agency_usage).where(key.in_(oldest))).rowcount
