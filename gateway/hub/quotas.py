"""Overload relief: how much an agency may send, counted from what the store holds.

The figures live in the store, so every worker process sees the same ones: the documents
of the last window are counted from the documents table, and the day's bytes are a
counter per agency and day, added to in the transaction that stores the document, limit
or not (a refused or failed send adds nothing). Sends of one agency are serialised on
its directory row (PostgreSQL) or by the write lock (SQLite) while counting the window,
and on the day's counter row while adding to it, so a burst cannot slip past its limit;
other agencies are not held up.
"""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta, timezone

from gateway.errors import Busy
from gateway.hub.model import Agency
from gateway.hub.ports import UnitOfWork
from gateway.settings import Settings

VIETNAM_OFFSET = timedelta(hours=7)
VIETNAM = timezone(VIETNAM_OFFSET, "ICT")
"""Days, for the daily byte quota, run midnight to midnight Vietnam time."""


def check_quota(
    uow: UnitOfWork, agency: Agency, size: int, now: datetime, settings: Settings
) -> None:
    """Count this send on the agency's day; raise Busy, with the seconds to wait, when
    it would pass a limit (the transaction then rolls the count back)."""
    per_minute = _own_or_default(agency.quota_per_minute, settings.quota_per_minute)
    per_day = _own_or_default(agency.quota_bytes_per_day, settings.quota_bytes_per_day)
    if per_minute:
        # The day's counter needs no lock: adding to it locks its row and answers the sum.
        uow.agencies.lock(agency.code)
        window = timedelta(seconds=settings.quota_window_seconds)
        recent, oldest = uow.usage.recent_sends(agency.code, now - window)
        if recent >= per_minute:
            raise Busy(
                f"{agency.code} sent {recent} documents in the last "
                f"{settings.quota_window_seconds} seconds; its limit is {per_minute}.",
                retry_after=math.ceil((oldest + window - now).total_seconds()),
            )
    today = uow.usage.count_day(agency.code, day_of(now), size)
    if per_day and today > per_day:
        midnight = now.astimezone(VIETNAM).replace(hour=0, minute=0, second=0, microsecond=0)
        raise Busy(
            f"{agency.code} sent {today - size} bytes today; its daily limit is {per_day}.",
            retry_after=math.ceil((midnight + timedelta(days=1) - now).total_seconds()),
        )


def day_of(moment: datetime) -> date:
    """The quota day ``moment`` falls on."""
    return moment.astimezone(VIETNAM).date()


def _own_or_default(own: int | None, default: int) -> int:
    return default if own is None else own
