"""An in-memory store behind the hub's ports, for fast unit tests of the use cases."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from gateway.envelope import MessageKind
from gateway.hub.model import (
    Agency,
    ClosedDelivery,
    DeliveryState,
    DirectoryEntry,
    EventRecord,
    InboxMessage,
    NewDocument,
    OriginalDelivery,
    OriginalDocument,
    SendResult,
    StoredDocument,
)
from gateway.hub.ports import DuplicateKey


@dataclass
class _Row:
    document: NewDocument
    recipient: str
    message_id: str
    state: DeliveryState
    visible_at: datetime
    lease_count: int = 0
    inbox: str = ""


@dataclass
class FakeDatabase:
    agencies: dict[str, Agency] = field(default_factory=dict)
    nonces: set[tuple[datetime, str, bytes]] = field(default_factory=set)
    documents: list[NewDocument] = field(default_factory=list)
    rows: list[_Row] = field(default_factory=list)
    events: list[tuple] = field(default_factory=list)
    usage: dict = field(default_factory=dict)
    commits: int = 0


class FakeUnitOfWork:
    """Works on a copy of the database; ``commit`` publishes the copy."""

    def __init__(self, db: FakeDatabase):
        self._db = db

    def __enter__(self):
        self._work = FakeDatabase(
            agencies=dict(self._db.agencies),
            nonces=set(self._db.nonces),
            documents=list(self._db.documents),
            rows=[replace(row) for row in self._db.rows],
            events=list(self._db.events),
            usage=dict(self._db.usage),
        )
        self.agencies = _Agencies(self._work)
        self.nonces = _Nonces(self._work)
        self.messages = _Messages(self._work)
        self.events = _Events(self._work)
        self.usage = _Usage(self._work)
        return self

    def __exit__(self, *exc):
        return None

    def commit(self, *, durable=True):
        self._db.agencies = self._work.agencies
        self._db.nonces = self._work.nonces
        self._db.documents = self._work.documents
        self._db.rows = self._work.rows
        self._db.events = self._work.events
        self._db.usage = self._work.usage
        self._db.commits += 1


class _Agencies:
    def __init__(self, db):
        self._db = db

    def get(self, code):
        return self._db.agencies.get(code)

    def get_many(self, codes):
        return {code: self._db.agencies[code] for code in codes if code in self._db.agencies}

    def add(self, agency):
        self._db.agencies[agency.code] = agency

    def update(self, agency):
        known = self._db.agencies[agency.code]
        self._db.agencies[agency.code] = replace(
            agency, failed_sign_ins=known.failed_sign_ins, locked_until=known.locked_until
        )

    def count_failed_sign_in(self, code, limit, lock_until):
        agency = self._db.agencies[code]
        if agency.failed_sign_ins + 1 >= limit:
            self._db.agencies[code] = replace(agency, failed_sign_ins=0, locked_until=lock_until)
            return True
        self._db.agencies[code] = replace(agency, failed_sign_ins=agency.failed_sign_ins + 1)
        return False

    def clear_failed_sign_ins(self, code):
        self._db.agencies[code] = replace(
            self._db.agencies[code], failed_sign_ins=0, locked_until=None
        )

    def lock(self, code):
        pass

    def list(self, parent_code=None):
        return [
            agency
            for agency in self._db.agencies.values()
            if parent_code is None or agency.parent_code == parent_code
        ]

    def entries(self, parent_code, after, limit):
        listed = sorted(
            (a for a in self.list(parent_code) if after is None or a.code > after),
            key=lambda agency: agency.code,
        )
        return [
            DirectoryEntry(a.code, a.name, a.parent_code, a.active, a.certificate, a.endpoint)
            for a in listed[:limit]
        ]

    def names(self, codes):
        return {code: self._db.agencies[code].name for code in codes if code in self._db.agencies}

    def with_own_limits(self):
        own = [
            agency
            for agency in self.list()
            if (agency.quota_per_minute, agency.quota_bytes_per_day, agency.networks) != (None,) * 3
        ]
        return sorted(own, key=lambda agency: agency.code)

    def upsert_names(self, batch):
        for agency in batch:
            known = self._db.agencies.get(agency.code)
            self._db.agencies[agency.code] = (
                replace(known, name=agency.name, parent_code=agency.parent_code)
                if known
                else agency
            )
        return len(batch)


class _Nonces:
    def __init__(self, db):
        self._db = db

    def remember(self, agency, nonce, expires_at):
        if (expires_at, agency, nonce) in self._db.nonces:
            return False
        self._db.nonces.add((expires_at, agency, nonce))
        return True

    def purge(self, now):
        self._db.nonces = {key for key in self._db.nonces if key[0] >= now}


class _Messages:
    def __init__(self, db):
        self._db = db

    def find(self, sender, idempotency_key):
        for document in self._db.documents:
            if document.sender == sender and document.idempotency_key == idempotency_key:
                deliveries = tuple(
                    replace(d, state=self._row(d.message_id).state) for d in document.deliveries
                )
                result = SendResult(document.document_id, document.received_at, deliveries)
                return StoredDocument(document.sha256, result, self._db.documents.index(document))
        return None

    def add(self, document):
        if self.find(document.sender, document.idempotency_key) is not None:
            raise DuplicateKey(document.idempotency_key)
        self._db.documents.append(document)
        self.add_deliveries(len(self._db.documents) - 1, document.deliveries, document.received_at)

    def add_deliveries(self, document_pk, deliveries, made_at):
        stored = document = self._db.documents[document_pk]
        if deliveries:
            document = replace(document, deliveries=document.deliveries + tuple(
                d for d in deliveries if d not in document.deliveries
            ))  # fmt: skip
            self._db.documents[document_pk] = document
        for row in self._db.rows:
            if row.document is stored:
                row.document = document
        for d in deliveries:
            self._db.rows.append(
                _Row(document, d.recipient, d.message_id, d.state, made_at,
                     inbox=d.inbox or d.recipient)
            )  # fmt: skip

    def postpone(self, inbox, message_ids, until):
        for row in self._db.rows:
            if row.inbox == inbox and row.message_id in message_ids:
                if row.state in (DeliveryState.PENDING, DeliveryState.LEASED):
                    row.state, row.visible_at = DeliveryState.PENDING, until

    def lease(self, inbox, now, lease_until, limit, content_up_to=None):
        visible = [
            row
            for row in self._db.rows
            if row.inbox == inbox
            and row.state in (DeliveryState.PENDING, DeliveryState.LEASED)
            and row.visible_at <= now
        ][:limit]
        for row in visible:
            row.state = DeliveryState.LEASED
            row.visible_at = lease_until
            row.lease_count += 1
        return [
            InboxMessage(
                row.message_id,
                row.document.document_id,
                row.document.sender,
                row.document.kind,
                row.document.received_at,
                row.document.content
                if content_up_to is None or len(row.document.content) <= content_up_to
                else b"",
                row.document.sha256,
                row.document.signature,
                row.recipient,
                row.lease_count,
                len(row.document.content),
                self._key(row.document),
            )
            for row in visible
        ]

    def chunk(self, document_key, seq):
        content = self._db.documents[document_key].content
        return content[seq * 10 : seq * 10 + 10] or None  # small pieces, to join many

    def _key(self, document):
        return next(
            index
            for index, stored in enumerate(self._db.documents)
            if stored.idempotency_key == document.idempotency_key
            and stored.sender == document.sender
        )

    def acknowledge(self, inbox, message_ids, now):
        return self.close(inbox, message_ids, DeliveryState.ACKNOWLEDGED, now)

    def close(self, inbox, message_ids, state, now):
        found = {}
        for row in self._db.rows:
            if (
                row.inbox == inbox
                and row.message_id in message_ids
                and row.state not in (DeliveryState.WITHDRAWN, DeliveryState.FAILED)
            ):
                found[row.message_id] = ClosedDelivery(
                    row.document.document_id, row.document.sha256, first=row.state != state
                )
                row.state = state
        return found

    def sent_original(self, sender, document_id):
        return self._original(
            lambda row: (
                row.document.sender == sender
                and row.document.document_id == document_id
                and row.document.kind is MessageKind.DOCUMENT
            ),
            keep=lambda row: True,
        )

    def senders_of(self, document_id, limit):
        senders = [
            d.sender
            for d in reversed(self._db.documents)
            if d.document_id == document_id and d.kind is MessageKind.DOCUMENT
        ]
        return list(dict.fromkeys(senders))[:limit]

    def received_original(self, recipient, document_id):
        return self._original(
            lambda row: (
                row.recipient == recipient
                and row.document.document_id == document_id
                and row.document.kind is MessageKind.DOCUMENT
            ),
            keep=lambda row: row.recipient == recipient,
        )

    def purge_contents(self, received_before, after, keys, byte_budget):
        raise NotImplementedError("purging is tested on the SQL store")

    def message_ids_for(self, document_id):
        return [row.message_id for row in self._db.rows if row.document.document_id == document_id]

    def withdraw(self, message_ids, now):
        withdrawn = set()
        for row in self._db.rows:
            if row.message_id in message_ids and row.state is DeliveryState.PENDING:
                if row.lease_count == 0:
                    row.state = DeliveryState.WITHDRAWN
                    withdrawn.add(row.message_id)
        return withdrawn

    def events_for(self, document_id, message_ids):
        return [
            EventRecord(event[4], event[1], event[0], event[6], event[5])
            for event in self._db.events
            if event[4] in message_ids and event[3] in (document_id, "")
        ]

    def _original(self, matches, keep):
        found = sorted(
            (row for row in self._db.rows if matches(row)),
            key=lambda row: int(row.document.business_type),
        )
        if not found:
            return None
        document = found[0].document
        pk = self._db.documents.index(document) + 1
        return OriginalDocument(
            pk=pk,
            sender=document.sender,
            document_id=document.document_id,
            received_at=document.received_at,
            subject=document.subject,
            deliveries=tuple(
                OriginalDelivery(row.recipient, row.message_id, row.state, row.lease_count > 0)
                for row in self._db.rows
                if row.document is document and keep(row)
            ),
        )

    def _row(self, message_id):
        return next(row for row in self._db.rows if row.message_id == message_id)


class _Usage:
    def __init__(self, db):
        self._db = db

    def recent_sends(self, sender, since):
        recent = [d.received_at for d in self._db.documents
                  if d.sender == sender and d.received_at > since]  # fmt: skip
        return len(recent), min(recent, default=None)

    def count_day(self, sender, day, size):
        self._db.usage[(sender, day)] = self._db.usage.get((sender, day), 0) + size
        return self._db.usage[(sender, day)]

    def forget_before(self, day, limit):
        oldest = sorted((key for key in self._db.usage if key[1] < day), key=lambda k: k[1])
        for key in oldest[:limit]:
            del self._db.usage[key]
        return min(len(oldest), limit)


class _Events:
    def __init__(self, db):
        self._db = db

    def record(
        self, kind, at, agency, document_id="", message_id="", detail="", status_code="",
        content_sha256="",
    ):  # fmt: skip
        self._db.events.append((kind, at, agency, document_id, message_id, detail, status_code))

    def record_all(self, records):
        for record in records:
            self.record(**record)

    def last_checkpoint_at(self):
        return None

    def checkpoint(self, signer, at):
        raise NotImplementedError("the evidence chain is tested on the SQL store")
