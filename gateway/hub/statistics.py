"""Counting: what an agency sent and received, per day, type and status; what still waits."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from gateway.hub.model import Backlog, Stale
from gateway.hub.ports import UnitOfWork
from gateway.hub.quotas import VIETNAM


@dataclass(frozen=True)
class AgencyStatistics:
    agency: str
    since: datetime
    until: datetime
    sent: int
    sent_bytes: int
    received: int
    acknowledged: int
    pending: int
    refused: int
    oldest_pending: datetime | None
    by_day: tuple[tuple[date, int, int], ...]
    """(day in Vietnam, messages sent, bytes sent)"""
    by_type: tuple[tuple[str, int], ...]
    by_status: tuple[tuple[str, int], ...]
    not_picked_up: tuple[Stale, ...]
    """Deliveries of what this agency sent that nobody fetched for ``stale_hours``."""


def agency_statistics(
    uow: UnitOfWork, agency: str, since: datetime, until: datetime, now: datetime,
    stale_hours: int,
) -> AgencyStatistics:  # fmt: skip
    rows = uow.messages.sent_rows(agency, since, until)
    days: dict[date, list[int]] = {}
    for row in rows:
        day = days.setdefault(row.received_at.astimezone(VIETNAM).date(), [0, 0])
        day[0] += 1
        day[1] += row.size
    documents = [row for row in rows if row.kind == "document"]
    statuses = [row for row in rows if row.kind == "status"]
    received, acknowledged = uow.messages.received_counts(agency, since, until)
    [backlog] = uow.messages.backlog(agency) or [Backlog(agency, 0, None)]
    return AgencyStatistics(
        agency=agency,
        since=since,
        until=until,
        sent=len(rows),
        sent_bytes=sum(row.size for row in rows),
        received=received,
        acknowledged=acknowledged,
        pending=backlog.pending,
        refused=uow.events.count("refused", agency, since, until),
        oldest_pending=backlog.oldest,
        by_day=tuple((day, count, size) for day, (count, size) in sorted(days.items())),
        by_type=tuple(sorted(Counter(r.document_type or "-" for r in documents).items())),
        by_status=tuple(sorted(Counter(r.status_code for r in statuses).items())),
        not_picked_up=tuple(uow.messages.stale(now - timedelta(hours=stale_hours), sender=agency)),
    )
