"""The evidence log's checks: walk the chain, and export the proof of one document's journey."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from gateway.errors import UnknownDocument
from gateway.hub.ports import UnitOfWork
from gateway.security.evidence import GENESIS, checkpoint_is_signed, plain, record_hash

BATCH = 1000
"""Records read in one transaction: a short one, so that requests go on beside a walk."""


@dataclass(frozen=True)
class ChainReport:
    records: int
    checkpoints: int
    broken_at: int | None = None
    """The sequence number of the first record that breaks the chain."""
    reason: str = ""

    @property
    def intact(self) -> bool:
        return self.broken_at is None and not self.reason


class Audit:
    def __init__(self, uow_factory: Callable[[], UnitOfWork], certificate_pem: str | None):
        self._uow = uow_factory
        self._certificate = certificate_pem

    def verify(self) -> ChainReport:
        """Recompute every record's hash and link, then check the checkpoints against them.

        Each batch of records is read in a transaction of its own, so that requests go on
        beside a long walk; records never change once appended, and the walk ends where a
        transaction finds the head at the last record it verified."""
        expected_seq, previous = 1, GENESIS
        while True:
            with self._uow() as uow:
                head = uow.events.head()
                batch = uow.events.records(after_seq=expected_seq - 1, limit=BATCH)
                if not batch:
                    checkpoints = uow.events.checkpoints()
                    anchors = uow.events.hashes_at([c["seq"] for c in checkpoints])
                    break
            for record in batch:
                if record["seq"] != expected_seq:
                    return ChainReport(expected_seq - 1, 0, expected_seq, "record missing")
                if record["prev_hash"] != previous:
                    return ChainReport(
                        expected_seq - 1, 0, expected_seq, "does not follow the record before"
                    )
                if record_hash(record) != record["record_hash"]:
                    return ChainReport(expected_seq - 1, 0, expected_seq, "record altered")
                previous = record["record_hash"]
                expected_seq += 1
        count = expected_seq - 1
        if (count, previous) != head:
            return ChainReport(count, 0, count + 1, "records missing at the end of the chain")
        for checkpoint in checkpoints:
            if anchors.get(checkpoint["seq"], GENESIS) != checkpoint["head_hash"]:
                return ChainReport(count, len(checkpoints), checkpoint["seq"], "checkpoint differs")
            if self._certificate and not checkpoint_is_signed(checkpoint, self._certificate):
                return ChainReport(
                    count, len(checkpoints), checkpoint["seq"], "checkpoint unsigned"
                )
        return ChainReport(count, len(checkpoints))

    def proof(self, document_id: str) -> dict:
        """The records about a document, linked by hashes to the next signed checkpoint
        (read a batch per transaction, as ``verify`` reads them)."""
        with self._uow() as uow:
            message_ids = uow.messages.message_ids_for(document_id)
            about = set(uow.events.seqs_about(document_id, message_ids))
            if not about:
                raise UnknownDocument(f"No evidence mentions {document_id!r}.")
            checkpoint = next((c for c in uow.events.checkpoints() if c["seq"] >= max(about)), None)
        if checkpoint is None:
            raise LookupError("no checkpoint covers these records yet; make one first")
        records, first = [], min(about)
        while first <= checkpoint["seq"]:
            with self._uow() as uow:
                batch = uow.events.records(after_seq=first - 1, limit=BATCH)
            if not batch:
                break
            records += [
                _shown(record, record["seq"] in about)
                for record in batch
                if record["seq"] <= checkpoint["seq"]
            ]
            first = batch[-1]["seq"] + 1
        return {
            "document_id": document_id,
            "records": records,
            "checkpoint": {key: plain(value) for key, value in checkpoint.items()},
        }


def _shown(record: dict, whole: bool) -> dict:
    if whole:
        return {key: plain(value) for key, value in record.items()}
    return {key: record[key] for key in ("seq", "prev_hash", "record_hash")}
