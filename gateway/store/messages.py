"""The SQL message repository: documents, their bytes, deliveries, leases and their closing."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from sqlalchemy import (
    Connection,
    and_,
    bindparam,
    case,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from gateway.envelope import MessageKind
from gateway.hub.model import (
    ClosedDelivery,
    Delivery,
    DeliveryState,
    EventRecord,
    InboxMessage,
    NewDocument,
    OriginalDelivery,
    OriginalDocument,
    SendResult,
    StoredDocument,
)
from gateway.hub.ports import DuplicateKey
from gateway.store.prepared import Prepared, PreparedIn
from gateway.store.sql import at
from gateway.store.tables import (
    CHUNK_BYTES,
    IS_OPEN,
    about_deliveries,
    deliveries,
    document_chunks,
    documents,
    events,
)

# The statements every send, fetch and acknowledgement runs, built once: building one
# costs SQLAlchemy more than SQLite takes to run it.
_BY_KEY = Prepared(
    select(documents).where(
        documents.c.sender == bindparam("sender"),
        documents.c.idempotency_key == bindparam("key"),
    )
)
_DELIVERIES_OF = Prepared(
    select(deliveries.c.recipient, deliveries.c.message_id, deliveries.c.state, deliveries.c.inbox)
    .where(deliveries.c.document_pk == bindparam("pk"))
    .order_by(deliveries.c.id)
)
_DOCUMENT_COLUMNS = (
    "sender", "document_id", "idempotency_key", "kind", "business_type", "sha256", "size",
    "subject", "received_at", "related_pk", "status_code", "signature", "document_type",
)  # fmt: skip
_NEW_DOCUMENT = Prepared(
    lambda d: (
        insert(documents) if d.name == "sqlite" else insert(documents).returning(documents.c.id)
    ),
    columns=_DOCUMENT_COLUMNS,
)
_NEW_CHUNKS = Prepared(insert(document_chunks), columns=("document_pk", "seq", "data"))
_NEW_DELIVERIES = Prepared(
    insert(deliveries),
    columns=("message_id", "document_pk", "recipient", "inbox", "state", "visible_at",
             "lease_count", "created_at"),
)  # fmt: skip
_CHUNK = Prepared(
    select(document_chunks.c.data).where(
        document_chunks.c.document_pk == bindparam("pk"),
        document_chunks.c.seq == bindparam("seq"),
    )
)
_LEASE = Prepared(
    update(deliveries)
    .where(
        deliveries.c.id.in_(
            select(deliveries.c.id)
            .where(
                deliveries.c.inbox == bindparam("for_inbox"),
                IS_OPEN,
                deliveries.c.visible_at <= bindparam("now", type_=deliveries.c.visible_at.type),
            )
            .order_by(deliveries.c.id)
            .limit(bindparam("limit"))
            .with_for_update(skip_locked=True)
        )
    )
    .values(
        state=DeliveryState.LEASED.value,
        visible_at=bindparam("until", type_=deliveries.c.visible_at.type),
        lease_count=deliveries.c.lease_count + 1,
        first_leased_at=func.coalesce(
            deliveries.c.first_leased_at,
            bindparam("first", type_=deliveries.c.first_leased_at.type),
        ),
    )
    .returning(
        deliveries.c.id,
        deliveries.c.message_id,
        deliveries.c.document_pk,
        deliveries.c.recipient,
        deliveries.c.lease_count,
    )
)
_LEASED_DOCUMENTS = PreparedIn(
    lambda condition: (
        select(
            documents.c.id,
            documents.c.document_id,
            documents.c.sender,
            documents.c.kind,
            documents.c.received_at,
            documents.c.sha256,
            documents.c.signature,
            documents.c.size,
            # The first piece of the bytes, read with the row when they are wanted.
            case((documents.c.size <= bindparam("content_up_to"), document_chunks.c.data)).label(
                "first_piece"
            ),
        )
        .select_from(
            documents.outerjoin(
                document_chunks,
                and_(document_chunks.c.document_pk == documents.c.id, document_chunks.c.seq == 0),
            )
        )
        .where(condition)
    ),
    documents.c.id,
)
EVERY_SIZE = 2**62
"""``content_up_to`` when every document's bytes are wanted."""
_CLOSED_DOCUMENTS = PreparedIn(
    lambda condition: select(documents.c.id, documents.c.document_id, documents.c.sha256).where(
        condition
    ),
    documents.c.id,
)

_CLOSE = PreparedIn(
    lambda condition: (
        update(deliveries)
        .where(
            deliveries.c.inbox == bindparam("for_inbox"),
            condition,
            # Two comparisons, not NOT IN (...), which SQLAlchemy expands on every run.
            deliveries.c.state != DeliveryState.WITHDRAWN.value,
            deliveries.c.state != DeliveryState.FAILED.value,
            deliveries.c.state != bindparam("new_state"),
        )
        .values(
            state=bindparam("new_state"),
            acknowledged_at=func.coalesce(
                deliveries.c.acknowledged_at,
                bindparam("closed_at", type_=deliveries.c.acknowledged_at.type),
            ),
        )
        .returning(deliveries.c.message_id, deliveries.c.document_pk)
    ),
    deliveries.c.message_id,
)

_CLOSED_BEFORE = PreparedIn(
    lambda condition: select(deliveries.c.message_id, deliveries.c.document_pk).where(
        deliveries.c.inbox == bindparam("for_inbox"),
        condition,
        deliveries.c.state == bindparam("new_state"),
    ),
    deliveries.c.message_id,
)


class SqlMessages:
    def __init__(self, conn: Connection):
        self._conn = conn

    def find(self, sender: str, idempotency_key: str) -> StoredDocument | None:
        row = _BY_KEY.first(self._conn, {"sender": sender, "key": idempotency_key})
        if row is None:
            return None
        rows = _DELIVERIES_OF.rows(self._conn, {"pk": row.id})
        result = SendResult(
            document_id=row.document_id,
            received_at=row.received_at,
            deliveries=tuple(
                Delivery(r.recipient, r.message_id, DeliveryState(r.state), r.inbox) for r in rows
            ),
        )
        return StoredDocument(sha256=row.sha256, result=result, pk=row.id)

    def add(self, document: NewDocument) -> None:
        try:
            pk = _NEW_DOCUMENT.new_key(
                self._conn,
                dict(
                    sender=document.sender,
                    document_id=document.document_id,
                    idempotency_key=document.idempotency_key,
                    kind=document.kind.value,
                    business_type=int(document.business_type),
                    sha256=document.sha256,
                    size=len(document.content),
                    subject=document.subject[:1000],
                    received_at=document.received_at,
                    related_pk=document.related_pk,
                    status_code=document.status_code,
                    signature=document.signature,
                    document_type=document.document_type,
                ),
            )
        except IntegrityError as exc:
            # The transaction is spoilt (on PostgreSQL) and rolls back; the caller
            # looks the winner up in a new one.
            raise DuplicateKey(document.idempotency_key) from exc
        content = memoryview(document.content)
        _NEW_CHUNKS.run_many(
            self._conn,
            [
                dict(document_pk=pk, seq=seq, data=content[start : start + CHUNK_BYTES])
                for seq, start in enumerate(range(0, max(len(content), 1), CHUNK_BYTES))
            ],
        )
        self.add_deliveries(pk, document.deliveries, document.received_at)

    def add_deliveries(self, document_pk: int, new: Sequence[Delivery], made_at: datetime) -> None:
        if not new:
            return
        _NEW_DELIVERIES.run_many(
            self._conn,
            [
                dict(
                    message_id=d.message_id,
                    document_pk=document_pk,
                    recipient=d.recipient,
                    inbox=d.inbox or d.recipient,
                    state=d.state.value,
                    visible_at=made_at,
                    lease_count=0,
                    created_at=made_at,
                )
                for d in new
            ],
        )

    def lease(
        self,
        inbox: str,
        now: datetime,
        lease_until: datetime,
        limit: int,
        content_up_to: int | None = None,
    ) -> Sequence[InboxMessage]:
        leased = _LEASE.rows(
            self._conn,
            {"for_inbox": inbox, "now": now, "until": lease_until, "first": now, "limit": limit},
        )
        if not leased:
            return []
        pks = {row.document_pk for row in leased}
        up_to = EVERY_SIZE if content_up_to is None else content_up_to
        docs = {
            row.id: row
            for row in _LEASED_DOCUMENTS.rows(self._conn, list(pks), {"content_up_to": up_to})
        }
        contents = {
            pk: self._content(pk, doc.size, doc.first_piece)
            for pk, doc in docs.items()
            if doc.size <= up_to
        }
        return [
            InboxMessage(
                message_id=row.message_id,
                document_id=docs[row.document_pk].document_id,
                sender=docs[row.document_pk].sender,
                kind=MessageKind(docs[row.document_pk].kind),
                received_at=docs[row.document_pk].received_at,
                content=contents.get(row.document_pk, b""),
                sha256=docs[row.document_pk].sha256,
                signature=docs[row.document_pk].signature,
                recipient=row.recipient,
                attempt=row.lease_count,
                size=docs[row.document_pk].size,
                document_key=row.document_pk,
            )
            for row in sorted(leased, key=lambda r: r.id)
        ]

    def chunk(self, document_key: int, seq: int) -> bytes | None:
        return _CHUNK.scalar(self._conn, {"pk": document_key, "seq": seq})

    def _content(self, document_pk: int, size: int, first_piece: bytes | None) -> bytes:
        if first_piece is not None and len(first_piece) >= size:
            return bytes(first_piece)  # the only piece
        content = bytearray(first_piece or b"")
        for seq in itertools.count(1 if first_piece is not None else 0):
            piece = self.chunk(document_pk, seq)
            if piece is None:
                return bytes(content)
            content += piece
            if size and len(content) >= size:
                return bytes(content)  # the last piece

    def acknowledge(
        self, inbox: str, message_ids: Sequence[str], now: datetime
    ) -> dict[str, ClosedDelivery]:
        return self.close(inbox, message_ids, DeliveryState.ACKNOWLEDGED, now)

    def close(
        self, inbox: str, message_ids: Sequence[str], state: DeliveryState, now: datetime
    ) -> dict[str, ClosedDelivery]:
        if not message_ids:
            return {}
        params = {"for_inbox": inbox, "new_state": state.value}
        # message id -> document key, of the deliveries closed now and of those before
        now_closed = dict(_CLOSE.rows(self._conn, list(message_ids), {**params, "closed_at": now}))
        rest = [message_id for message_id in message_ids if message_id not in now_closed]
        closed_before = dict(_CLOSED_BEFORE.rows(self._conn, rest, params)) if rest else {}
        pks = list({*now_closed.values(), *closed_before.values()})
        closed = {
            pk: ClosedDelivery(document_id, sha256)
            for pk, document_id, sha256 in (_CLOSED_DOCUMENTS.rows(self._conn, pks) if pks else ())
        }
        return {
            **{message_id: replace(closed[pk], first=False)
               for message_id, pk in closed_before.items()},
            **{message_id: closed[pk] for message_id, pk in now_closed.items()},
        }  # fmt: skip

    def postpone(self, inbox: str, message_ids: Sequence[str], until: datetime) -> None:
        if not message_ids:
            return
        self._conn.execute(
            update(deliveries)
            .where(
                deliveries.c.inbox == inbox,
                deliveries.c.message_id.in_(message_ids),
                IS_OPEN,
            )
            .values(state=DeliveryState.PENDING.value, visible_at=until)
        )

    def sent_original(self, sender: str, document_id: str) -> OriginalDocument | None:
        row = self._conn.execute(
            select(documents.c.id, documents.c.sender, documents.c.document_id,
                   documents.c.received_at, documents.c.subject)
            .where(
                documents.c.sender == sender,
                documents.c.document_id == document_id,
                documents.c.kind == MessageKind.DOCUMENT.value,
            )
            .order_by(documents.c.business_type, documents.c.id)
            .limit(1)
        ).first()  # fmt: skip
        return self._original(row) if row else None

    def senders_of(self, document_id: str, limit: int) -> list[str]:
        return list(
            self._conn.execute(
                select(documents.c.sender)
                .where(
                    documents.c.document_id == document_id,
                    documents.c.kind == MessageKind.DOCUMENT.value,
                )
                .group_by(documents.c.sender)
                .order_by(func.max(documents.c.id).desc())
                .limit(limit)
            ).scalars()
        )

    def received_original(self, recipient: str, document_id: str) -> OriginalDocument | None:
        row = self._conn.execute(
            select(documents.c.id, documents.c.sender, documents.c.document_id,
                   documents.c.received_at, documents.c.subject)
            .join(deliveries, deliveries.c.document_pk == documents.c.id)
            .where(
                deliveries.c.recipient == recipient,
                documents.c.document_id == document_id,
                documents.c.kind == MessageKind.DOCUMENT.value,
            )
            .order_by(documents.c.business_type, documents.c.id)
            .limit(1)
        ).first()  # fmt: skip
        return self._original(row, recipient) if row else None

    def purge_contents(
        self, received_before: datetime, after: int, keys: int, byte_budget: int
    ) -> tuple[int, int | None]:
        still_open = (
            select(deliveries.c.id)
            .where(deliveries.c.document_pk == documents.c.id, IS_OPEN)
            .exists()
        )
        first = self._conn.execute(
            select(func.min(document_chunks.c.document_pk)).where(
                document_chunks.c.document_pk > after
            )
        ).scalar()
        if first is None:
            return 0, None
        last = first + keys - 1
        done = self._conn.execute(
            select(documents.c.id, documents.c.size)
            .join(document_chunks, document_chunks.c.document_pk == documents.c.id)
            .where(
                document_chunks.c.seq == 0,
                # Both sides of the join bounded: a plan from either is one range's.
                document_chunks.c.document_pk.between(first, last),
                documents.c.id.between(first, last),
                documents.c.received_at < at(received_before),
                ~still_open,
            )
            .order_by(documents.c.id)
        ).all()
        chosen, size = [], 0
        for pk, document_size in done:
            if chosen and size + document_size > byte_budget:
                last = chosen[-1]  # the rest of the range in the next call
                break
            chosen.append(pk)
            size += document_size
        if chosen:
            self._conn.execute(
                delete(document_chunks).where(document_chunks.c.document_pk.in_(chosen))
            )
        return len(chosen), last

    def message_ids_for(self, document_id: str) -> list[str]:
        return list(
            self._conn.execute(
                select(deliveries.c.message_id)
                .join(documents, deliveries.c.document_pk == documents.c.id)
                .where(documents.c.document_id == document_id)
            ).scalars()
        )

    def withdraw(self, message_ids: Sequence[str], now: datetime) -> set[str]:
        if not message_ids:
            return set()
        rows = self._conn.execute(
            update(deliveries)
            .where(
                deliveries.c.message_id.in_(message_ids),
                deliveries.c.state == DeliveryState.PENDING.value,
                deliveries.c.lease_count == 0,
            )
            .values(state=DeliveryState.WITHDRAWN.value)
            .returning(deliveries.c.message_id)
        )
        return {row.message_id for row in rows}

    def events_for(self, document_id: str, message_ids: Sequence[str]) -> Sequence[EventRecord]:
        if not message_ids:
            return []
        rows = self._conn.execute(
            select(events).where(about_deliveries(document_id, message_ids)).order_by(events.c.seq)
        )
        return [
            EventRecord(row.message_id, row.at, row.kind, row.status_code, row.detail)
            for row in rows
        ]

    def _original(self, row, recipient: str | None = None) -> OriginalDocument:
        query = (
            select(deliveries.c.recipient, deliveries.c.message_id, deliveries.c.state,
                   deliveries.c.lease_count)
            .where(deliveries.c.document_pk == row.id)
            .order_by(deliveries.c.id)
        )  # fmt: skip
        if recipient is not None:
            query = query.where(deliveries.c.recipient == recipient)
        return OriginalDocument(
            pk=row.id,
            sender=row.sender,
            document_id=row.document_id,
            received_at=row.received_at,
            subject=row.subject,
            deliveries=tuple(
                OriginalDelivery(d.recipient, d.message_id, DeliveryState(d.state),
                                 downloaded=d.lease_count > 0)
                for d in self._conn.execute(query)
            ),
        )  # fmt: skip
