"""Reports on what went through the hub: volumes by day, kinds, backlogs, the messages
nobody picked up. They only read, on a connection of their own (``Hub._read``), each in a
range of an index rather than the whole history."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection, func, select

from gateway.hub.model import (
    PARENT_INBOX,
    Backlog,
    DayCount,
    DayVolume,
    DeliveryState,
    SentKind,
    Stale,
)
from gateway.store.sql import as_utc, at, each_value, local_date
from gateway.store.tables import IS_OPEN, MADE, UNFETCHED, deliveries, documents


class SqlTraffic:
    def __init__(self, conn: Connection):
        self._conn = conn

    def volume_by_day(
        self, since: datetime, until: datetime, day_offset: timedelta, sender: str
    ) -> list[DayVolume]:
        day = local_date(documents.c.received_at, day_offset)
        query = (
            select(documents.c.sender, day, func.count(), func.sum(documents.c.size))
            .where(documents.c.sender == sender, *_received_between(since, until))
            .group_by(documents.c.sender, day)
        )
        return [DayVolume(row[0], row[1], row[2], int(row[3])) for row in self._conn.execute(query)]

    def messages_by_day(
        self, since: datetime, until: datetime, day_offset: timedelta
    ) -> list[DayCount]:
        senders = each_value(documents.c.sender)
        day = local_date(documents.c.received_at, day_offset)
        query = (
            select(documents.c.sender, day, func.count())
            .select_from(senders.join(documents, documents.c.sender == senders.c.value))
            .where(*_received_between(since, until))
            .group_by(documents.c.sender, day)
        )
        return [DayCount(*row) for row in self._conn.execute(query)]

    def sent_total(self, since: datetime, until: datetime) -> tuple[int, int]:
        senders = each_value(documents.c.sender)
        query = (
            select(func.count(), func.coalesce(func.sum(documents.c.size), 0))
            .select_from(senders.join(documents, documents.c.sender == senders.c.value))
            .where(*_received_between(since, until))
        )
        messages, size = self._conn.execute(query).one()
        return messages, int(size)

    def sent_kinds(self, sender: str, since: datetime, until: datetime) -> list[SentKind]:
        kind = (documents.c.kind, documents.c.document_type, documents.c.status_code)
        rows = self._conn.execute(
            select(*kind, func.count())
            .where(documents.c.sender == sender, *_received_between(since, until))
            .group_by(*kind)
        )
        return [SentKind(*row) for row in rows]

    def received_counts(self, recipient: str, since: datetime, until: datetime) -> tuple:
        acknowledged = deliveries.c.state == DeliveryState.ACKNOWLEDGED.value
        row = self._conn.execute(
            select(func.count(), func.count().filter(acknowledged)).where(
                deliveries.c.recipient == recipient,
                MADE,  # the index's own condition, repeated: without it, it is not used
                deliveries.c.created_at >= at(since),
                deliveries.c.created_at < at(until),
                deliveries.c.state != DeliveryState.WITHDRAWN.value,
            )
        ).one()
        return row[0], row[1]

    def agencies_active(self, since: datetime, until: datetime) -> set[str]:
        senders = each_value(documents.c.sender)
        sent = select(documents.c.id).where(
            documents.c.sender == senders.c.value, *_received_between(since, until)
        )
        recipients = each_value(deliveries.c.recipient, MADE)
        received = select(deliveries.c.id).where(
            deliveries.c.recipient == recipients.c.value,
            MADE,
            deliveries.c.created_at >= at(since),
            deliveries.c.created_at < at(until),
        )
        inboxes = each_value(deliveries.c.inbox, IS_OPEN)
        active = set()
        for values, condition in (
            (senders, sent.exists()),
            (recipients, received.exists()),
            (inboxes, inboxes.c.value.is_not(None)),
        ):
            active.update(self._conn.execute(select(values.c.value).where(condition)).scalars())
        return active - {PARENT_INBOX}

    def backlog(self, inbox: str | None = None) -> list[Backlog]:
        # Counted in the open index alone, which is in inbox order; only each inbox's
        # first delivery is read, for its time.
        inboxes = select(
            deliveries.c.inbox,
            func.count().label("pending"),
            func.min(deliveries.c.id).label("first"),
        ).where(IS_OPEN)
        if inbox is not None:
            inboxes = inboxes.where(deliveries.c.inbox == inbox)
        inboxes = inboxes.group_by(deliveries.c.inbox).subquery()
        first = deliveries.alias("first")
        query = (
            select(inboxes.c.inbox, inboxes.c.pending, first.c.created_at)
            .join(first, first.c.id == inboxes.c.first)
            .order_by(inboxes.c.inbox)
        )
        return [Backlog(row[0], row[1], as_utc(row[2])) for row in self._conn.execute(query)]

    def stale(
        self, older_than: datetime, sender: str | None = None, since: datetime | None = None
    ) -> list[Stale]:
        query = (
            select(documents.c.document_id, documents.c.sender, deliveries.c.recipient,
                   documents.c.received_at)
            .select_from(deliveries.join(documents, deliveries.c.document_pk == documents.c.id))
            .where(UNFETCHED, deliveries.c.created_at < at(older_than))
            .order_by(deliveries.c.created_at, deliveries.c.id)
            .limit(1000)
        )  # fmt: skip
        if sender is not None:
            query = query.where(documents.c.sender == sender)
        if since is not None:
            query = query.where(documents.c.received_at >= at(since))
        return [Stale(*row[:3], as_utc(row[3])) for row in self._conn.execute(query)]


def _received_between(since: datetime, until: datetime) -> tuple:
    return documents.c.received_at >= at(since), documents.c.received_at < at(until)
