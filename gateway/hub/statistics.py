"""Counting: what an agency sent and received, per day, type and status; what still waits."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from gateway.hub.model import Backlog, Stale
from gateway.hub.ports import UnitOfWork
from gateway.hub.quotas import VIETNAM_OFFSET


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
    """Deliveries of what this agency sent in the period that nobody fetched for
    ``stale_hours``: read in the agency's range of documents by time, however long its
    history."""


def agency_statistics(
    uow: UnitOfWork, agency: str, since: datetime, until: datetime, now: datetime,
    stale_hours: int,
) -> AgencyStatistics:  # fmt: skip
    days = sorted(
        uow.traffic.volume_by_day(since, until, VIETNAM_OFFSET, sender=agency),
        key=lambda volume: volume.day,
    )
    by_type: Counter[str] = Counter()
    by_status: Counter[str] = Counter()
    for row in uow.traffic.sent_kinds(agency, since, until):
        if row.kind == "document":
            by_type[row.document_type or "-"] += row.messages
        elif row.kind == "status":
            by_status[row.status_code] += row.messages
    received, acknowledged = uow.traffic.received_counts(agency, since, until)
    [backlog] = uow.traffic.backlog(agency) or [Backlog(agency, 0, None)]
    stale_before = min(now - timedelta(hours=stale_hours), until)
    return AgencyStatistics(
        agency=agency,
        since=since,
        until=until,
        sent=sum(volume.messages for volume in days),
        sent_bytes=sum(volume.bytes for volume in days),
        received=received,
        acknowledged=acknowledged,
        pending=backlog.pending,
        refused=uow.events.count("refused", agency, since, until),
        oldest_pending=backlog.oldest,
        by_day=tuple((volume.day, volume.messages, volume.bytes) for volume in days),
        by_type=tuple(sorted(by_type.items())),
        by_status=tuple(sorted(by_status.items())),
        not_picked_up=tuple(uow.traffic.stale(stale_before, sender=agency, since=since)),
    )
