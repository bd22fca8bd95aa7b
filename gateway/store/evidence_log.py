"""The SQL event log: the events table as a hash chain, its head, and signed checkpoints."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, bindparam, func, insert, select, update

from gateway.hub.model import AgencyEvent
from gateway.security.evidence import RECORD_FIELDS, record_hash
from gateway.store.prepared import Prepared
from gateway.store.sql import at
from gateway.store.tables import (
    SELDOM,
    about_document,
    checkpoints,
    events,
    evidence_head,
    unfiled,
)

_BLANK = dict.fromkeys(("document_id", "message_id", "detail", "status_code", "content_sha256"), "")
_LOCK_HEAD = Prepared(select(evidence_head).where(evidence_head.c.id == 1).with_for_update())
_APPEND = Prepared(insert(events), columns=(*RECORD_FIELDS, "record_hash"))
_MOVE_HEAD = Prepared(
    update(evidence_head)
    .where(evidence_head.c.id == 1)
    .values(seq=bindparam("new_seq"), record_hash=bindparam("new_hash"))
)
_MOVE_KNOWN_HEAD = Prepared(
    update(evidence_head)
    .where(
        evidence_head.c.id == 1,
        evidence_head.c.seq == bindparam("known_seq"),
        evidence_head.c.record_hash == bindparam("known_hash"),
    )
    .values(seq=bindparam("new_seq"), record_hash=bindparam("new_hash"))
)


def _of_kind(kind: str):
    """The condition on events of the records of ``kind``: as its index has it, if any."""
    return SELDOM.get(kind, events.c.kind == kind)


class KnownHead:
    """The chain's head as this process last moved it, so that its next append need not
    read it first: the head is moved only from where it is remembered to be, and read
    when it has moved elsewhere (another process appended, or a transaction that moved
    it rolled back). Worth keeping where one connection makes most of the appends (the
    kept SQLite connection)."""

    def __init__(self):
        self.seq_and_hash: tuple[int, str] | None = None


class SqlEvents:
    """The events table as the evidence chain: appends are serialised on its head row."""

    def __init__(self, conn: Connection, known_head: KnownHead | None = None):
        self._conn = conn
        self._known_head = known_head

    def record(
        self, kind, at, agency, document_id="", message_id="", detail="", status_code="",
        content_sha256="",
    ) -> None:  # fmt: skip
        self.record_all([dict(
            kind=kind, at=at, agency=agency, document_id=document_id, message_id=message_id,
            detail=detail, status_code=status_code, content_sha256=content_sha256,
        )])  # fmt: skip

    def record_all(self, records: Sequence[dict]) -> None:
        """Append ``records`` (``record``'s arguments) in order, moving the head once
        however many there are (and reading it first unless it is known)."""
        if not records:
            return
        known = self._known_head.seq_and_hash if self._known_head else None
        if known is not None:
            entries = _chained(records, *known)
            moved = {**_head_after(entries), "known_seq": known[0], "known_hash": known[1]}
            if _MOVE_KNOWN_HEAD.count(self._conn, moved):
                self._append(entries)
                return
        head = _LOCK_HEAD.first(self._conn)
        entries = _chained(records, head.seq, head.record_hash)
        _MOVE_HEAD.run(self._conn, _head_after(entries))
        self._append(entries)

    def _append(self, entries: list[dict]) -> None:
        _APPEND.run_many(self._conn, entries)
        if self._known_head is not None:
            self._known_head.seq_and_hash = entries[-1]["seq"], entries[-1]["record_hash"]

    def head(self) -> tuple[int, str]:
        row = self._conn.execute(select(evidence_head).where(evidence_head.c.id == 1)).one()
        return row.seq, row.record_hash

    def last_checkpoint_at(self) -> datetime | None:
        return self._conn.execute(select(func.max(checkpoints.c.at))).scalar()

    def checkpoint(self, signer, at: datetime) -> dict:
        """Sign the current head (locked, so no append slips in between)."""
        head = _LOCK_HEAD.first(self._conn)
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

    def hashes_at(self, seqs: Sequence[int]) -> dict[int, str]:
        found = {}
        for start in range(0, len(seqs), 1000):
            rows = self._conn.execute(
                select(events.c.seq, events.c.record_hash).where(
                    events.c.seq.in_(seqs[start : start + 1000])
                )
            )
            found.update((seq, record_hash) for seq, record_hash in rows)
        return found

    def checkpoints(self) -> list[dict]:
        rows = self._conn.execute(select(checkpoints).order_by(checkpoints.c.seq)).mappings()
        return [{k: row[k] for k in ("seq", "head_hash", "at", "signature")} for row in rows]

    def recent(self, kind: str, limit: int) -> list[AgencyEvent]:
        rows = self._conn.execute(
            select(events)
            .where(_of_kind(kind))
            .order_by(events.c.at.desc(), events.c.seq.desc())
            .limit(limit)
        )
        return [AgencyEvent(row.at, row.kind, row.agency, row.detail) for row in rows]

    def count(self, kind: str, agency: str, since: datetime, until: datetime) -> int:
        return self._conn.execute(
            select(func.count()).where(
                _of_kind(kind),
                events.c.at >= at(since),
                events.c.at < at(until),
                events.c.agency == agency,
            )
        ).scalar()

    def agencies_with(self, kind: str, since: datetime, until: datetime) -> set[str]:
        return set(
            self._conn.execute(
                select(events.c.agency)
                .where(_of_kind(kind), events.c.at >= at(since), events.c.at < at(until))
                .distinct()
            ).scalars()
        )

    def seqs_about(self, document_id: str, message_ids: Sequence[str]) -> list[int]:
        """Sequence numbers of the records about a document or its deliveries."""
        condition = about_document(document_id)
        if message_ids:
            condition = condition | unfiled(message_ids)
        return list(
            self._conn.execute(
                select(events.c.seq).where(condition).order_by(events.c.seq)
            ).scalars()
        )


def _chained(records: Sequence[dict], seq: int, previous: str) -> list[dict]:
    """``records`` as the chain's next entries after record ``seq`` with hash ``previous``."""
    entries = []
    for record in records:
        seq += 1
        entry = {**_BLANK, **record, "seq": seq, "prev_hash": previous}
        entry["detail"] = entry["detail"][:1000]
        entry["record_hash"] = previous = record_hash(entry)
        entries.append(entry)
    return entries


def _head_after(entries: list[dict]) -> dict:
    return {"new_seq": entries[-1]["seq"], "new_hash": entries[-1]["record_hash"]}


def _evidence(row) -> dict:
    return {name: row[name] for name in (*RECORD_FIELDS, "record_hash")}
