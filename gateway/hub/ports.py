"""What the hub needs from storage. ``gateway.store`` implements it; tests fake it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Protocol

from gateway.hub.model import (
    Agency,
    AgencyEvent,
    Backlog,
    ClosedDelivery,
    DayCount,
    DayVolume,
    Delivery,
    DeliveryState,
    DirectoryEntry,
    EventRecord,
    InboxMessage,
    NewDocument,
    OperatorAccount,
    OriginalDocument,
    SentKind,
    Stale,
    StoredDocument,
)


class DuplicateKey(Exception):
    """Another transaction stored a document with the same idempotency key first."""


class AgencyRepository(Protocol):
    def get(self, code: str) -> Agency | None: ...

    def get_many(self, codes: Iterable[str]) -> dict[str, Agency]:
        """The agencies among ``codes`` that are registered, by code, read together."""

    def add(self, agency: Agency) -> None: ...

    def update(self, agency: Agency) -> None: ...

    def count_failed_sign_in(self, code: str, limit: int, lock_until: datetime) -> bool:
        """Count a wrong password for the agency; the ``limit``-th in a row locks its
        sign-ins until ``lock_until`` and starts the count again. True when it locks."""

    def clear_failed_sign_ins(self, code: str) -> None:
        """Forget the agency's wrong passwords and lift its lock."""

    def lock(self, code: str) -> None:
        """Hold the agency's row until the transaction ends (serialises its sends)."""

    def list(self, parent_code: str | None = None) -> Sequence[Agency]:
        """Every agency, or the direct children of ``parent_code``."""

    def entries(
        self, parent_code: str | None, after: str | None, limit: int
    ) -> Sequence[DirectoryEntry]:
        """Up to ``limit`` agencies by code, those after ``after`` when given; every one,
        or the direct children of ``parent_code``."""

    def names(self, codes: Iterable[str]) -> dict[str, str]:
        """The names of the agencies among ``codes`` that are registered, by code."""

    def with_own_limits(self) -> Sequence[Agency]:
        """The agencies with a quota or allowed networks of their own, by code."""

    def locked(self, now: datetime) -> Sequence[Agency]:
        """The agencies whose sign-ins are locked at ``now``, by code."""

    def upsert_names(self, agencies: Sequence[Agency]) -> int:
        """Add new agencies; for known ones update name and parent only. Returns how many."""


class NonceRepository(Protocol):
    def remember(self, agency: str, nonce: bytes, expires_at: datetime) -> bool:
        """Record an agency's nonce until ``expires_at`` (a token's is its Created time
        plus the clock skew allowed); False when the same is recorded already."""

    def purge(self, now: datetime) -> None:
        """Forget the nonces that expired before ``now``."""


class MessageRepository(Protocol):
    def find(self, sender: str, idempotency_key: str) -> StoredDocument | None: ...

    def add(self, document: NewDocument) -> None:
        """Store a document and its deliveries; DuplicateKey if its key is taken."""

    def add_deliveries(
        self, document_pk: int, deliveries: Sequence[Delivery], made_at: datetime
    ) -> None:
        """Queue a stored document for more recipients, made and visible from ``made_at``."""

    def sent_original(self, sender: str, document_id: str) -> OriginalDocument | None:
        """The document ``document_id`` that ``sender`` sent, with all its deliveries."""

    def senders_of(self, document_id: str, limit: int) -> list[str]:
        """Up to ``limit`` agencies that sent a document with this DocumentId, the latest
        sender first."""

    def received_original(self, recipient: str, document_id: str) -> OriginalDocument | None:
        """The document ``document_id`` delivered to ``recipient``, with that delivery only."""

    def purge_contents(
        self, received_before: datetime, after: int, keys: int, byte_budget: int
    ) -> tuple[int, int | None]:
        """Delete the bytes of documents received before then whose deliveries are all
        closed (acknowledged or withdrawn), among the next ``keys`` document keys after
        ``after`` that hold bytes, stopping before ``byte_budget`` bytes unless at the
        first. Return how many, and the last key looked at (None: none is left)."""

    def message_ids_for(self, document_id: str) -> list[str]:
        """The MessageIds of every delivery of documents with this DocumentId."""

    def withdraw(self, message_ids: Sequence[str], now: datetime) -> set[str]:
        """Withdraw those deliveries never downloaded; return the ids withdrawn."""

    def events_for(self, document_id: str, message_ids: Sequence[str]) -> Sequence[EventRecord]:
        """The events of these deliveries of a document with this DocumentId, oldest first."""

    def lease(
        self,
        inbox: str,
        now: datetime,
        lease_until: datetime,
        limit: int,
        content_up_to: int | None = None,
    ) -> Sequence[InboxMessage]:
        """Lease up to ``limit`` of the inbox's oldest visible messages, with the bytes
        of documents up to ``content_up_to`` bytes (None: of all)."""

    def chunk(self, document_key: int, seq: int) -> bytes | None:
        """Piece ``seq`` (from 0) of a document's bytes; None past the last."""

    def acknowledge(
        self, inbox: str, message_ids: Sequence[str], now: datetime
    ) -> dict[str, ClosedDelivery]:
        """Acknowledge the inbox's messages among ``message_ids``; return those found,
        each with the DocumentId and SHA-256 of its document."""

    def close(
        self, inbox: str, message_ids: Sequence[str], state: DeliveryState, now: datetime
    ) -> dict[str, ClosedDelivery]:
        """Like ``acknowledge``, ending in ``state`` (forwarded or failed)."""

    def postpone(self, inbox: str, message_ids: Sequence[str], until: datetime) -> None:
        """Offer these open deliveries again only from ``until`` on."""


class TrafficReports(Protocol):
    """Reports on what went through the hub; they only read."""

    def volume_by_day(
        self, since: datetime, until: datetime, day_offset: timedelta, sender: str
    ) -> list[DayVolume]:
        """What ``sender`` sent from ``since`` up to ``until``, counted per day, the day
        taken at ``day_offset`` from UTC; counted in the database."""

    def messages_by_day(
        self, since: datetime, until: datetime, day_offset: timedelta
    ) -> list[DayCount]:
        """Messages received from ``since`` up to ``until``, counted per sender and day,
        each sender's in its own range of documents by time: the period's, however long
        the history."""

    def sent_total(self, since: datetime, until: datetime) -> tuple[int, int]:
        """How many messages were received from ``since`` up to ``until``, and their
        bytes, read as ``messages_by_day`` reads them."""

    def sent_kinds(self, sender: str, since: datetime, until: datetime) -> list[SentKind]:
        """What ``sender`` sent from ``since`` up to ``until``, counted per kind, document
        type and status code in the database."""

    def received_counts(self, recipient: str, since: datetime, until: datetime) -> tuple:
        """(deliveries made for the recipient in the period and not withdrawn, of which
        acknowledged), counted in the recipient's range of an index."""

    def agencies_active(self, since: datetime, until: datetime) -> set[str]:
        """The agencies that sent or were sent something in the period, and those with
        messages waiting in their inbox; each found in its own range of an index."""

    def backlog(self, inbox: str | None = None) -> list[Backlog]:
        """Open deliveries per inbox (who collects them), with the time the first of them
        was made; for ``inbox`` alone if given. Counted in the open index, without
        reading the deliveries' rows."""

    def stale(
        self, older_than: datetime, sender: str | None = None, since: datetime | None = None
    ) -> list[Stale]:
        """The oldest thousand deliveries never fetched, made before ``older_than``: of
        ``sender``'s documents if given, and of those received from ``since`` on."""


class UsageRepository(Protocol):
    """What the quotas count."""

    def recent_sends(self, sender: str, since: datetime) -> tuple[int, datetime | None]:
        """How many documents ``sender`` sent after ``since``, and when the first was."""

    def count_day(self, sender: str, day: date, size: int) -> int:
        """Count a document of ``size`` bytes on the sender's ``day``; that day's bytes,
        this document's included."""

    def forget_before(self, day: date, limit: int) -> int:
        """Drop the counts of the days before ``day``, at most ``limit`` of them, the
        oldest first; how many were dropped."""


class EventLog(Protocol):
    def record(
        self,
        kind: str,
        at: datetime,
        agency: str,
        document_id: str = "",
        message_id: str = "",
        detail: str = "",
        status_code: str = "",
        content_sha256: str = "",
    ) -> None:
        """Append to the evidence chain."""

    def record_all(self, records: Sequence[dict]) -> None:
        """Append several, in order; each dict holds ``record``'s arguments."""

    def head(self) -> tuple[int, str]: ...

    def last_checkpoint_at(self) -> datetime | None: ...

    def checkpoint(self, signer, at: datetime) -> dict:
        """Sign the chain's head and keep the checkpoint."""

    def records(self, after_seq: int = 0, limit: int = 1000) -> list[dict]: ...

    def hashes_at(self, seqs: Sequence[int]) -> dict[int, str]:
        """The record hashes at these sequence numbers (those that exist)."""

    def checkpoints(self) -> list[dict]: ...

    def recent(self, kind: str, limit: int) -> list[AgencyEvent]:
        """The latest events of a kind, newest first."""

    def count(self, kind: str, agency: str, since: datetime, until: datetime) -> int:
        """How many events of a kind name ``agency`` in the period."""

    def agencies_with(self, kind: str, since: datetime, until: datetime) -> set[str]:
        """The agencies named by events of a kind in the period."""

    def seqs_about(self, document_id: str, message_ids: Sequence[str]) -> list[int]: ...


class OperatorRepository(Protocol):
    def add(self, name: str, password_hash: str) -> None: ...

    def get(self, name: str) -> OperatorAccount | None: ...

    def count_failed_sign_in(self, name: str, limit: int, lock_until: datetime) -> bool:
        """As ``AgencyRepository.count_failed_sign_in``, for an operator."""

    def clear_failed_sign_ins(self, name: str) -> None: ...

    def locked(self, now: datetime) -> Sequence[OperatorAccount]:
        """The operators whose sign-ins are locked at ``now``, by name."""

    def open_session(self, token_sha256: str, name: str, expires_at: datetime) -> None: ...

    def session_operator(self, token_sha256: str, now: datetime) -> str | None: ...

    def close_session(self, token_sha256: str) -> None: ...


class UnitOfWork(Protocol):
    """One transaction: nothing is stored unless ``commit`` is called."""

    agencies: AgencyRepository
    nonces: NonceRepository
    messages: MessageRepository
    traffic: TrafficReports
    events: EventLog
    operators: OperatorRepository
    usage: UsageRepository

    def __enter__(self) -> UnitOfWork: ...

    def __exit__(self, *exc) -> None: ...

    def commit(self, *, durable: bool = True) -> None:
        """Store the changes; with ``durable=False`` a power loss may undo them whole
        (never in part), and the answer need not wait for the disk."""
