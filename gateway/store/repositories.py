"""SQL implementations of the hub's repositories (``gateway.hub.ports``)."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, delete, func, insert, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from gateway.envelope import MessageKind
from gateway.hub.model import (
    Agency,
    AgencyEvent,
    Backlog,
    Delivery,
    DeliveryState,
    EventRecord,
    InboxMessage,
    NewDocument,
    OriginalDelivery,
    OriginalDocument,
    SendResult,
    SentRow,
    Stale,
    StoredDocument,
    Usage,
)
from gateway.hub.ports import DuplicateKey
from gateway.security.evidence import RECORD_FIELDS, record_hash
from gateway.store.tables import (
    OPEN_STATES,
    UTCDateTime,
    agencies,
    checkpoints,
    deliveries,
    document_contents,
    documents,
    events,
    evidence_head,
    nonces,
    operator_sessions,
    operators,
)


class SqlAgencies:
    def __init__(self, conn: Connection):
        self._conn = conn

    def get(self, code: str) -> Agency | None:
        row = self._conn.execute(select(agencies).where(agencies.c.code == code)).first()
        return _agency(row) if row else None

    def add(self, agency: Agency) -> None:
        self._conn.execute(insert(agencies).values(**_agency_values(agency)))

    def update(self, agency: Agency) -> None:
        self._conn.execute(
            update(agencies).where(agencies.c.code == agency.code).values(**_agency_values(agency))
        )

    def lock(self, code: str) -> None:
        self._conn.execute(select(agencies.c.code).where(agencies.c.code == code).with_for_update())

    def list(self, parent_code: str | None = None) -> Sequence[Agency]:
        query = select(agencies)
        if parent_code is not None:
            query = query.where(agencies.c.parent_code == parent_code)
        return [_agency(row) for row in self._conn.execute(query)]

    def upsert_names(self, batch: Sequence[Agency]) -> int:
        if not batch:
            return 0
        statement = _dialect(self._conn).insert(agencies)
        statement = statement.on_conflict_do_update(
            index_elements=[agencies.c.code],
            set_={"name": statement.excluded.name, "parent_code": statement.excluded.parent_code},
        )
        self._conn.execute(statement, [_agency_values(agency) for agency in batch])
        return len(batch)


class SqlNonces:
    def __init__(self, conn: Connection):
        self._conn = conn

    def remember(self, agency: str, nonce: bytes, now: datetime, expires_at: datetime) -> bool:
        self._conn.execute(delete(nonces).where(nonces.c.expires_at < now))
        statement = (
            _dialect(self._conn)
            .insert(nonces)
            .values(
                agency=agency, nonce=base64.b64encode(nonce).decode("ascii"), expires_at=expires_at
            )
        )
        inserted = self._conn.execute(statement.on_conflict_do_nothing().returning(nonces.c.nonce))
        return inserted.first() is not None


class SqlMessages:
    def __init__(self, conn: Connection):
        self._conn = conn

    def find(self, sender: str, idempotency_key: str) -> StoredDocument | None:
        row = self._conn.execute(
            select(documents).where(
                documents.c.sender == sender, documents.c.idempotency_key == idempotency_key
            )
        ).first()
        if row is None:
            return None
        rows = self._conn.execute(
            select(deliveries.c.recipient, deliveries.c.message_id, deliveries.c.state)
            .where(deliveries.c.document_pk == row.id)
            .order_by(deliveries.c.id)
        )
        result = SendResult(
            document_id=row.document_id,
            received_at=row.received_at,
            deliveries=tuple(
                Delivery(r.recipient, r.message_id, DeliveryState(r.state)) for r in rows
            ),
        )
        return StoredDocument(sha256=row.sha256, result=result)

    def add(self, document: NewDocument) -> None:
        try:
            with self._conn.begin_nested():
                pk = self._conn.execute(
                    insert(documents).values(
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
                    )
                ).inserted_primary_key[0]
        except IntegrityError as exc:
            raise DuplicateKey(document.idempotency_key) from exc
        self._conn.execute(
            insert(document_contents).values(document_pk=pk, content=document.content)
        )
        self._conn.execute(
            insert(deliveries),
            [
                dict(
                    message_id=d.message_id,
                    document_pk=pk,
                    recipient=d.recipient,
                    state=d.state.value,
                    visible_at=document.received_at,
                    lease_count=0,
                )
                for d in document.deliveries
            ],
        )

    def lease(
        self, recipient: str, now: datetime, lease_until: datetime, limit: int
    ) -> Sequence[InboxMessage]:
        candidates = (
            select(deliveries.c.id)
            .where(
                deliveries.c.recipient == recipient,
                deliveries.c.state.in_(OPEN_STATES),
                deliveries.c.visible_at <= now,
            )
            .order_by(deliveries.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        leased = self._conn.execute(
            update(deliveries)
            .where(deliveries.c.id.in_(candidates))
            .values(
                state=DeliveryState.LEASED.value,
                visible_at=lease_until,
                lease_count=deliveries.c.lease_count + 1,
                first_leased_at=func.coalesce(deliveries.c.first_leased_at, _at(now)),
            )
            .returning(deliveries.c.id, deliveries.c.message_id, deliveries.c.document_pk)
        ).all()
        if not leased:
            return []
        pks = {row.document_pk for row in leased}
        docs = {
            row.id: row
            for row in self._conn.execute(
                select(
                    documents.c.id,
                    documents.c.document_id,
                    documents.c.sender,
                    documents.c.kind,
                    documents.c.received_at,
                    documents.c.sha256,
                    documents.c.signature,
                    document_contents.c.content,
                )
                .join(document_contents, document_contents.c.document_pk == documents.c.id)
                .where(documents.c.id.in_(pks))
            )
        }
        return [
            InboxMessage(
                message_id=row.message_id,
                document_id=docs[row.document_pk].document_id,
                sender=docs[row.document_pk].sender,
                kind=MessageKind(docs[row.document_pk].kind),
                received_at=docs[row.document_pk].received_at,
                content=docs[row.document_pk].content,
                sha256=docs[row.document_pk].sha256,
                signature=docs[row.document_pk].signature,
            )
            for row in sorted(leased, key=lambda r: r.id)
        ]

    def acknowledge(
        self, recipient: str, message_ids: Sequence[str], now: datetime
    ) -> dict[str, str]:
        if not message_ids:
            return {}
        rows = self._conn.execute(
            update(deliveries)
            .where(
                deliveries.c.recipient == recipient,
                deliveries.c.message_id.in_(message_ids),
                deliveries.c.state != DeliveryState.WITHDRAWN.value,
            )
            .values(
                state=DeliveryState.ACKNOWLEDGED.value,
                acknowledged_at=func.coalesce(deliveries.c.acknowledged_at, _at(now)),
            )
            .returning(deliveries.c.message_id, deliveries.c.document_pk)
        ).all()
        digests = dict(
            self._conn.execute(
                select(documents.c.id, documents.c.sha256).where(
                    documents.c.id.in_({row.document_pk for row in rows})
                )
            ).all()
        )
        return {row.message_id: digests[row.document_pk] for row in rows}

    def sent_original(self, sender: str, document_id: str) -> OriginalDocument | None:
        row = self._conn.execute(
            select(documents.c.id, documents.c.sender, documents.c.document_id,
                   documents.c.received_at)
            .where(
                documents.c.sender == sender,
                documents.c.document_id == document_id,
                documents.c.kind == MessageKind.DOCUMENT.value,
            )
            .order_by(documents.c.business_type, documents.c.id)
            .limit(1)
        ).first()  # fmt: skip
        return self._original(row) if row else None

    def received_original(self, recipient: str, document_id: str) -> OriginalDocument | None:
        row = self._conn.execute(
            select(documents.c.id, documents.c.sender, documents.c.document_id,
                   documents.c.received_at)
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

    def usage(self, sender: str, window_start: datetime, day_start: datetime) -> Usage:
        since = min(window_start, day_start)
        recent = documents.c.received_at > _at(window_start)
        today = documents.c.received_at >= _at(day_start)
        row = self._conn.execute(
            select(
                func.count().filter(recent),
                func.min(documents.c.received_at).filter(recent),
                func.coalesce(func.sum(documents.c.size).filter(today), 0),
            ).where(documents.c.sender == sender, documents.c.received_at >= _at(since))
        ).one()
        return Usage(recent_count=row[0], oldest_recent=_as_utc(row[1]), bytes_today=int(row[2]))

    def sent_since(self, since: datetime) -> list[tuple[str, datetime, int]]:
        rows = self._conn.execute(
            select(documents.c.sender, documents.c.received_at, documents.c.size).where(
                documents.c.received_at >= _at(since)
            )
        )
        return [tuple(row) for row in rows]

    def sent_rows(self, sender: str, since: datetime, until: datetime) -> list[SentRow]:
        recipients = (
            select(func.count()).where(deliveries.c.document_pk == documents.c.id).scalar_subquery()
        )
        rows = self._conn.execute(
            select(
                documents.c.received_at, documents.c.size, documents.c.kind,
                documents.c.document_type, documents.c.status_code, recipients,
            ).where(
                documents.c.sender == sender,
                documents.c.received_at >= _at(since),
                documents.c.received_at < _at(until),
            )
        ).all()  # fmt: skip
        return [SentRow(*row) for row in rows]

    def received_counts(self, recipient: str, since: datetime, until: datetime) -> tuple:
        acknowledged = deliveries.c.state == DeliveryState.ACKNOWLEDGED.value
        row = self._conn.execute(
            select(func.count(), func.count().filter(acknowledged))
            .select_from(deliveries.join(documents, deliveries.c.document_pk == documents.c.id))
            .where(
                deliveries.c.recipient == recipient,
                deliveries.c.state != DeliveryState.WITHDRAWN.value,
                documents.c.received_at >= _at(since),
                documents.c.received_at < _at(until),
            )
        ).one()
        return row[0], row[1]

    def backlog(self, recipient: str | None = None) -> list[Backlog]:
        query = (
            select(deliveries.c.recipient, func.count(), func.min(documents.c.received_at))
            .select_from(deliveries.join(documents, deliveries.c.document_pk == documents.c.id))
            .where(deliveries.c.state.in_(OPEN_STATES))
            .group_by(deliveries.c.recipient)
            .order_by(deliveries.c.recipient)
        )
        if recipient is not None:
            query = query.where(deliveries.c.recipient == recipient)
        return [Backlog(row[0], row[1], _as_utc(row[2])) for row in self._conn.execute(query)]

    def stale(
        self, older_than: datetime, recipient: str | None = None, sender: str | None = None
    ) -> list[Stale]:
        query = (
            select(documents.c.document_id, documents.c.sender, deliveries.c.recipient,
                   documents.c.received_at)
            .select_from(deliveries.join(documents, deliveries.c.document_pk == documents.c.id))
            .where(
                deliveries.c.state == DeliveryState.PENDING.value,
                deliveries.c.lease_count == 0,
                documents.c.received_at < _at(older_than),
            )
            .order_by(documents.c.received_at)
            .limit(1000)
        )  # fmt: skip
        if recipient is not None:
            query = query.where(deliveries.c.recipient == recipient)
        if sender is not None:
            query = query.where(documents.c.sender == sender)
        return [Stale(*row[:3], _as_utc(row[3])) for row in self._conn.execute(query)]

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

    def events_for(self, message_ids: Sequence[str]) -> Sequence[EventRecord]:
        if not message_ids:
            return []
        rows = self._conn.execute(
            select(events).where(events.c.message_id.in_(message_ids)).order_by(events.c.id)
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
            deliveries=tuple(
                OriginalDelivery(d.recipient, d.message_id, DeliveryState(d.state),
                                 downloaded=d.lease_count > 0)
                for d in self._conn.execute(query)
            ),
        )  # fmt: skip


class SqlEvents:
    """The events table as the evidence chain: appends are serialised on its head row."""

    def __init__(self, conn: Connection):
        self._conn = conn

    def record(
        self, kind, at, agency, document_id="", message_id="", detail="", status_code="",
        content_sha256="",
    ) -> None:  # fmt: skip
        head = self._conn.execute(
            select(evidence_head).where(evidence_head.c.id == 1).with_for_update()
        ).one()
        entry = {
            "seq": head.seq + 1,
            "at": at,
            "kind": kind,
            "agency": agency,
            "document_id": document_id,
            "message_id": message_id,
            "status_code": status_code,
            "detail": detail[:1000],
            "content_sha256": content_sha256,
            "prev_hash": head.record_hash,
        }
        entry["record_hash"] = record_hash(entry)
        self._conn.execute(insert(events).values(**entry))
        self._conn.execute(
            update(evidence_head)
            .where(evidence_head.c.id == 1)
            .values(seq=entry["seq"], record_hash=entry["record_hash"])
        )

    def head(self) -> tuple[int, str]:
        row = self._conn.execute(select(evidence_head).where(evidence_head.c.id == 1)).one()
        return row.seq, row.record_hash

    def last_checkpoint_at(self) -> datetime | None:
        return self._conn.execute(select(func.max(checkpoints.c.at))).scalar()

    def checkpoint(self, signer, at: datetime) -> dict:
        """Sign the current head (locked, so no append slips in between)."""
        head = self._conn.execute(
            select(evidence_head).where(evidence_head.c.id == 1).with_for_update()
        ).one()
        entry = {
            "seq": head.seq,
            "head_hash": head.record_hash,
            "at": at,
            "signature": signer.sign(head.seq, head.record_hash, at),
        }
        self._conn.execute(insert(checkpoints).values(**entry))
        return entry

    def records(self, after_seq: int = 0, limit: int = 1000) -> list[dict]:
        rows = self._conn.execute(
            select(events).where(events.c.seq > after_seq).order_by(events.c.seq).limit(limit)
        ).mappings()
        return [_evidence(row) for row in rows]

    def checkpoints(self) -> list[dict]:
        rows = self._conn.execute(select(checkpoints).order_by(checkpoints.c.seq)).mappings()
        return [{k: row[k] for k in ("seq", "head_hash", "at", "signature")} for row in rows]

    def recent(self, kind: str, limit: int) -> list[AgencyEvent]:
        rows = self._conn.execute(
            select(events).where(events.c.kind == kind).order_by(events.c.seq.desc()).limit(limit)
        )
        return [AgencyEvent(row.at, row.kind, row.agency, row.detail) for row in rows]

    def count(self, kind: str, agency: str, since: datetime, until: datetime) -> int:
        return self._conn.execute(
            select(func.count()).where(
                events.c.kind == kind,
                events.c.agency == agency,
                events.c.at >= _at(since),
                events.c.at < _at(until),
            )
        ).scalar()

    def seqs_about(self, document_id: str, message_ids: Sequence[str]) -> list[int]:
        """Sequence numbers of the records about a document or its deliveries."""
        condition = events.c.document_id == document_id
        if message_ids:
            condition = condition | events.c.message_id.in_(message_ids)
        return list(
            self._conn.execute(
                select(events.c.seq).where(condition).order_by(events.c.seq)
            ).scalars()
        )


class SqlOperators:
    def __init__(self, conn: Connection):
        self._conn = conn

    def add(self, name: str, password_hash: str) -> None:
        self._conn.execute(insert(operators).values(name=name, password_hash=password_hash))

    def password_hash(self, name: str) -> str | None:
        return self._conn.execute(
            select(operators.c.password_hash).where(operators.c.name == name)
        ).scalar()

    def open_session(self, token_sha256: str, name: str, expires_at: datetime) -> None:
        self._conn.execute(
            insert(operator_sessions).values(
                token_sha256=token_sha256, operator=name, expires_at=expires_at
            )
        )

    def session_operator(self, token_sha256: str, now: datetime) -> str | None:
        return self._conn.execute(
            select(operator_sessions.c.operator).where(
                operator_sessions.c.token_sha256 == token_sha256,
                operator_sessions.c.expires_at > _at(now),
            )
        ).scalar()

    def close_session(self, token_sha256: str) -> None:
        self._conn.execute(
            delete(operator_sessions).where(operator_sessions.c.token_sha256 == token_sha256)
        )


def _evidence(row) -> dict:
    return {name: row[name] for name in (*RECORD_FIELDS, "record_hash")}


def _agency(row) -> Agency:
    return Agency(
        code=row.code,
        name=row.name,
        password_hash=row.password_hash,
        active=row.active,
        allow_digest=row.allow_digest,
        digest_secret=row.digest_secret,
        parent_code=row.parent_code,
        certificate=row.certificate,
        signature_policy=row.signature_policy,
        quota_per_minute=row.quota_per_minute,
        quota_bytes_per_day=row.quota_bytes_per_day,
    )


def _agency_values(agency: Agency) -> dict:
    return dict(
        code=agency.code,
        name=agency.name,
        password_hash=agency.password_hash,
        active=agency.active,
        allow_digest=agency.allow_digest,
        digest_secret=agency.digest_secret,
        parent_code=agency.parent_code,
        certificate=agency.certificate,
        signature_policy=agency.signature_policy,
        quota_per_minute=agency.quota_per_minute,
        quota_bytes_per_day=agency.quota_bytes_per_day,
    )


def _as_utc(value) -> datetime | None:
    """An aggregate of a date column (SQLite returns those as text) as an aware datetime."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return UTCDateTime().process_result_value(value, None)


def _at(moment: datetime):
    """A datetime bound as our UTC column type (inside SQL functions too)."""
    return literal(moment, UTCDateTime())


def _dialect(conn: Connection):
    """The dialect module whose INSERT knows ON CONFLICT."""
    return postgresql if conn.dialect.name == "postgresql" else sqlite
