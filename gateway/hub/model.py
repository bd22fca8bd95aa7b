"""The hub's domain: agencies, stored documents, deliveries and their states."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime

from gateway.envelope import BusinessType, MessageKind


class DeliveryState(enum.StrEnum):
    PENDING = "pending"
    """Waiting for the recipient to fetch it (or its lease ran out)."""
    LEASED = "leased"
    """Fetched; hidden from other fetches until acknowledged or the lease ends."""
    ACKNOWLEDGED = "acknowledged"
    WITHDRAWN = "withdrawn"
    """Taken back by its sender before the recipient ever downloaded it."""
    FORWARDED = "forwarded"
    """Handed to the parent hub, which delivers it from there."""
    FAILED = "failed"
    """Could not be forwarded to the parent hub; given up."""


PARENT_INBOX = "@parent"
"""The inbox of deliveries this hub forwards to its parent hub (never an agency code)."""


class SignInLock:
    """Who signs in with a password: locked after too many wrong ones in a row."""

    locked_until: datetime | None

    def locked(self, now: datetime) -> bool:
        return self.locked_until is not None and now < self.locked_until


@dataclass(frozen=True)
class Agency(SignInLock):
    code: str
    name: str
    password_hash: str
    active: bool = True
    allow_digest: bool = False
    digest_secret: bytes | None = None
    """The password encrypted under the hub key, kept only when PasswordDigest is allowed."""
    parent_code: str | None = None
    certificate: str | None = None
    """PEM X.509 certificate that the agency's document signatures are checked against."""
    signature_policy: str = "optional"
    """``required``: unsigned documents from this agency are refused."""
    quota_per_minute: int | None = None
    """Overrides the hub's default when set (0: no limit)."""
    quota_bytes_per_day: int | None = None
    via: str | None = None
    """The child hub this agency is reached through; only that hub may send for it."""
    endpoint: str | None = None
    """The SOAP address of the agency's own inbox gateway, for direct sending."""
    networks: str | None = None
    """The networks its requests must come from (CIDR blocks, one space apart); None: any."""
    failed_sign_ins: int = 0
    """Wrong passwords in a row since the last sign-in or lock."""
    locked_until: datetime | None = None
    """Until when its sign-ins are refused, after too many wrong passwords in a row."""

    @property
    def inbox(self) -> str:
        """Who collects the agency's deliveries: the agency, or the child hub it is behind."""
        return self.via or self.code


@dataclass(frozen=True)
class OperatorAccount(SignInLock):
    name: str
    password_hash: str
    failed_sign_ins: int = 0
    locked_until: datetime | None = None


@dataclass(frozen=True)
class DirectoryEntry:
    """What the directory tells every agency about one: no credentials, no quotas."""

    code: str
    name: str
    parent_code: str | None
    active: bool
    certificate: str | None
    endpoint: str | None


@dataclass(frozen=True)
class Delivery:
    recipient: str
    message_id: str
    state: DeliveryState
    inbox: str = ""
    """Who collects it, when not the recipient: a child hub, or PARENT_INBOX."""


@dataclass(frozen=True)
class SendResult:
    document_id: str
    received_at: datetime
    deliveries: tuple[Delivery, ...]


@dataclass(frozen=True)
class NewDocument:
    """Everything the store keeps about an accepted document, before it is stored."""

    sender: str
    document_id: str
    idempotency_key: str
    kind: MessageKind
    business_type: BusinessType
    sha256: str
    content: bytes
    subject: str
    received_at: datetime
    deliveries: tuple[Delivery, ...]
    related_pk: int | None = None
    """The earlier document a revoke, update, replacement or status message concerns."""
    status_code: str = ""
    signature: str = "none"
    """none, valid, or weak (a SHA-1 signature the settings admitted)."""
    document_type: str = ""


@dataclass(frozen=True)
class OriginalDelivery:
    recipient: str
    message_id: str
    state: DeliveryState
    downloaded: bool


@dataclass(frozen=True)
class OriginalDocument:
    """An earlier document that a later message refers to, with (some of) its deliveries."""

    pk: int
    sender: str
    document_id: str
    received_at: datetime
    deliveries: tuple[OriginalDelivery, ...]
    subject: str = ""


@dataclass(frozen=True)
class EventRecord:
    message_id: str
    at: datetime
    kind: str
    status_code: str = ""
    detail: str = ""


@dataclass(frozen=True)
class ClosedDelivery:
    """A delivery just acknowledged or closed: the document it carried, for its evidence."""

    document_id: str
    sha256: str
    first: bool = True
    """False where it was closed so before (a repeated acknowledgement): no new record."""


@dataclass(frozen=True)
class AgencyEvent:
    """An event as the operator sees it: when, what, which agency, and the detail."""

    at: datetime
    kind: str
    agency: str
    detail: str


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    event: str
    """received, leased, acknowledged, withdrawn, status, revoked, updated, replaced, take-back"""
    status_code: str = ""
    description: str = ""


@dataclass(frozen=True)
class RecipientTimeline:
    recipient: str
    message_id: str
    transport_state: DeliveryState
    latest_status: TimelineEntry | None
    entries: tuple[TimelineEntry, ...]


@dataclass(frozen=True)
class SendStatus:
    document_id: str
    sender: str
    received_at: datetime
    recipients: tuple[RecipientTimeline, ...]
    subject: str = ""


@dataclass(frozen=True)
class Trace:
    """What an operator's search by DocumentId found: each sender's document, and the
    names of the agencies in them, by code."""

    documents: tuple[SendStatus, ...]
    names: dict[str, str]


@dataclass(frozen=True)
class DayCount:
    """How many messages one agency sent on one day."""

    sender: str
    day: date
    messages: int


@dataclass(frozen=True)
class DayVolume:
    """What one agency sent on one day: how many messages, and their bytes."""

    sender: str
    day: date
    messages: int
    bytes: int


@dataclass(frozen=True)
class SentKind:
    """How many messages of one kind, document type and status code an agency sent."""

    kind: str
    document_type: str | None
    status_code: str | None
    messages: int


@dataclass(frozen=True)
class Backlog:
    """The open deliveries of an inbox, which its agency (a child hub, for the agencies
    behind it; the link to the parent hub, ``@parent``) collects: how many, and since
    when the first of them waits."""

    inbox: str
    pending: int
    oldest: datetime


@dataclass(frozen=True)
class Stale:
    """A delivery nobody has picked up."""

    document_id: str
    sender: str
    recipient: str
    received_at: datetime


@dataclass(frozen=True)
class StoredDocument:
    """A document already stored: what idempotent re-sends are compared with."""

    sha256: str
    result: SendResult
    pk: int = 0


@dataclass(frozen=True)
class InboxMessage:
    message_id: str
    document_id: str
    sender: str
    kind: MessageKind
    received_at: datetime
    content: bytes
    sha256: str = ""
    signature: str = "none"
    recipient: str = ""
    attempt: int = 1
    """How many times this delivery has been leased, this time included."""
    size: int = 0
    document_key: int = 0
    """The store's key of the document, to read its bytes piece by piece."""


@dataclass(frozen=True)
class AckResult:
    acknowledged: int
    unknown: tuple[str, ...]
