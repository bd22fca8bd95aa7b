"""Accepting a message: check it, route it, store it once with one delivery per recipient."""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime

from gateway.envelope import EdxmlMessage, MessageKind
from gateway.errors import (
    Duplicate,
    InvalidDocument,
    SenderMismatch,
    UnknownDocument,
    UnknownRecipient,
)
from gateway.hub.model import Delivery, DeliveryState, NewDocument, SendResult
from gateway.hub.ports import UnitOfWork

STATUS_TAKE_BACK = "13"
"""The one status code that travels from the original sender to the recipients."""


def idempotency_key(message: EdxmlMessage, sha256: str) -> str:
    """What makes a message the same message when it is sent again.

    A document is identified by its DocumentId and business type (a revoke may
    repeat the original's DocumentId); a status message by its bytes.
    """
    if message.kind is MessageKind.STATUS:
        return f"status:{message.document_id}:{sha256}"
    return f"document:{int(message.business_type)}:{message.document_id}"


def sha256_of(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def previous_result(uow: UnitOfWork, sender: str, key: str, sha256: str) -> SendResult | None:
    """The result of an identical earlier send; Duplicate if the bytes differ."""
    stored = uow.messages.find(sender, key)
    if stored is None:
        return None
    if stored.sha256 != sha256:
        raise Duplicate(
            "A different document with this DocumentId was already sent; "
            "give a new DocumentId or send the identical bytes."
        )
    return stored.result


def route(uow: UnitOfWork, agency: str, message: EdxmlMessage, max_recipients: int) -> list[str]:
    """The codes of the agencies that receive ``message`` from ``agency``."""
    if message.sender.code != agency:
        raise SenderMismatch(
            f"The document's From/OrganId {message.sender.code!r} is not the "
            f"authenticated agency {agency!r}."
        )
    if message.kind is MessageKind.STATUS:
        recipients = _status_recipients(uow, agency, message)
    else:
        recipients = list(message.recipient_codes)
    if len(recipients) > max_recipients:
        raise InvalidDocument(f"A document may have at most {max_recipients} recipients.")
    unknown = [code for code in recipients if not _is_active(uow, code)]
    if unknown:
        raise UnknownRecipient(
            "Not registered, active agencies: " + ", ".join(sorted(unknown)) + "."
        )
    return recipients


def new_document(
    message: EdxmlMessage,
    content: bytes,
    sha256: str,
    key: str,
    recipients: list[str],
    received_at: datetime,
) -> NewDocument:
    deliveries = tuple(
        Delivery(recipient=code, message_id=str(uuid.uuid4()), state=DeliveryState.PENDING)
        for code in recipients
    )
    return NewDocument(
        sender=message.sender.code,
        document_id=message.document_id,
        idempotency_key=key,
        kind=message.kind,
        business_type=message.business_type,
        sha256=sha256,
        content=content,
        subject=message.subject or message.status_description,
        received_at=received_at,
        deliveries=deliveries,
    )


def _status_recipients(uow: UnitOfWork, agency: str, message: EdxmlMessage) -> list[str]:
    if message.status_code == STATUS_TAKE_BACK:
        recipients = list(uow.messages.recipients_of_sent(agency, message.document_id))
        if not recipients:
            raise UnknownDocument(f"This agency sent no document {message.document_id!r}.")
        return recipients
    sender = uow.messages.sender_of_received(agency, message.document_id)
    if sender is None:
        raise UnknownDocument(f"This agency received no document {message.document_id!r}.")
    return [sender]


def _is_active(uow: UnitOfWork, code: str) -> bool:
    agency = uow.agencies.get(code)
    return agency is not None and agency.active
