"""The hub's domain: agencies, stored documents, deliveries and their states."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from gateway.envelope import BusinessType, MessageKind


class DeliveryState(enum.StrEnum):
    PENDING = "pending"
    """Waiting for the recipient to fetch it (or its lease ran out)."""
    LEASED = "leased"
    """Fetched; hidden from other fetches until acknowledged or the lease ends."""
    ACKNOWLEDGED = "acknowledged"


@dataclass(frozen=True)
class Agency:
    code: str
    name: str
    password_hash: str
    active: bool = True
    allow_digest: bool = False
    digest_secret: bytes | None = None
    """The password encrypted under the hub key, kept only when PasswordDigest is allowed."""


@dataclass(frozen=True)
class Delivery:
    recipient: str
    message_id: str
    state: DeliveryState


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


@dataclass(frozen=True)
class StoredDocument:
    """A document already stored: what idempotent re-sends are compared with."""

    sha256: str
    result: SendResult


@dataclass(frozen=True)
class InboxMessage:
    message_id: str
    document_id: str
    sender: str
    kind: MessageKind
    received_at: datetime
    content: bytes


@dataclass(frozen=True)
class AckResult:
    acknowledged: int
    unknown: tuple[str, ...]
