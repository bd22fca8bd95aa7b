"""What the operator's dashboard shows: volume, backlog, what nobody picked up, refusals,
failed forwards, sign-ins locked, quotas and networks."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from gateway.hub.model import Agency, AgencyEvent, Backlog, OperatorAccount, Stale
from gateway.hub.ports import UnitOfWork
from gateway.hub.quotas import VIETNAM, VIETNAM_OFFSET
from gateway.settings import Settings


@dataclass(frozen=True)
class Overview:
    now: datetime
    today_messages: int
    today_bytes: int
    days: tuple[date, ...]
    volume: dict[str, dict[date, int]]
    """Messages sent per agency code and Vietnam day."""
    names: dict[str, str]
    """The names of the agencies in the volume and the backlog, by code."""
    own_limits: tuple[Agency, ...]
    """The agencies whose own quotas replace the defaults, or whose requests are accepted
    only from the networks they name, by code."""
    backlog: tuple[Backlog, ...]
    not_picked_up: tuple[Stale, ...]
    refusals: tuple[AgencyEvent, ...]
    failed_forwards: tuple[AgencyEvent, ...]
    """Documents the parent hub could not be given: sender, then recipient and reason."""
    locked_agencies: tuple[Agency, ...]
    """The agencies whose sign-ins are locked after wrong passwords, by code."""
    locked_operators: tuple[OperatorAccount, ...]
    default_per_minute: int
    default_bytes_per_day: int


def overview(
    uow: UnitOfWork, now: datetime, settings: Settings, days: int = 14, stale_hours: int = 24
) -> Overview:
    today = now.astimezone(VIETNAM).date()
    first = today - timedelta(days=days - 1)
    since = datetime.combine(first, datetime.min.time(), VIETNAM)
    until = datetime.combine(today + timedelta(days=1), datetime.min.time(), VIETNAM)
    volume: dict[str, dict[date, int]] = defaultdict(dict)
    for row in uow.traffic.messages_by_day(since, until, VIETNAM_OFFSET):
        volume[row.sender][row.day] = row.messages
    midnight = datetime.combine(today, datetime.min.time(), VIETNAM)
    today_messages, today_bytes = uow.traffic.sent_total(midnight, until)
    backlog = tuple(uow.traffic.backlog())
    return Overview(
        now=now,
        today_messages=today_messages,
        today_bytes=today_bytes,
        days=tuple(first + timedelta(days=n) for n in range(days)),
        volume={code: dict(counts) for code, counts in sorted(volume.items())},
        names=uow.agencies.names({*volume, *(row.inbox for row in backlog)}),
        own_limits=tuple(uow.agencies.with_own_limits()),
        backlog=backlog,
        not_picked_up=tuple(uow.traffic.stale(now - timedelta(hours=stale_hours))),
        refusals=tuple(uow.events.recent("refused", 20)),
        failed_forwards=tuple(uow.events.recent("failed", 20)),
        locked_agencies=tuple(uow.agencies.locked(now)),
        locked_operators=tuple(uow.operators.locked(now)),
        default_per_minute=settings.quota_per_minute,
        default_bytes_per_day=settings.quota_bytes_per_day,
    )
