"""Overload relief: how much an agency may send, counted from what the store holds.

The counts come from the documents table itself, so every worker process sees the same
figures, and a crash cannot lose a counter. Sends of one agency are serialised on its
directory row (PostgreSQL) or by the write lock (SQLite) while counting, so a burst
cannot slip past its limit; other agencies are not held up.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

from gateway.errors import Busy
from gateway.hub.model import Agency
from gateway.hub.ports import UnitOfWork
from gateway.settings import Settings

VIETNAM = timezone(timedelta(hours=7), "ICT")
"""Days, for the daily byte quota, run midnight to midnight Vietnam time."""


def check_quota(
    uow: UnitOfWork, agency: Agency, size: int, now: datetime, settings: Settings
) -> None:
    """Raise Busy, with the seconds to wait, when this send would pass a limit."""
    per_minute = _own_or_default(agency.quota_per_minute, settings.quota_per_minute)
    per_day = _own_or_default(agency.quota_bytes_per_day, settings.quota_bytes_per_day)
    if not per_minute and not per_day:
        return
    window = timedelta(seconds=settings.quota_window_seconds)
    day_start = now.astimezone(VIETNAM).replace(hour=0, minute=0, second=0, microsecond=0)
    uow.agencies.lock(agency.code)
    usage = uow.messages.usage(agency.code, now - window, day_start)
    if per_minute and usage.recent_count >= per_minute:
        wait = usage.oldest_recent + window - now
        raise Busy(
            f"{agency.code} sent {usage.recent_count} documents in the last "
            f"{settings.quota_window_seconds} seconds; its limit is {per_minute}.",
            retry_after=math.ceil(wait.total_seconds()),
        )
    if per_day and usage.bytes_today + size > per_day:
        tomorrow = day_start + timedelta(days=1)
        raise Busy(
            f"{agency.code} sent {usage.bytes_today} bytes today; its daily limit is {per_day}.",
            retry_after=math.ceil((tomorrow - now).total_seconds()),
        )


def _own_or_default(own: int | None, default: int) -> int:
    return default if own is None else own
