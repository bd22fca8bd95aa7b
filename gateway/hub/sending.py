"""Accepting a message: check it, route it, relate it to earlier documents, store it once."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime

from gateway.envelope import BusinessType, EdxmlMessage, MessageKind
from gateway.errors import (
    Duplicate,
    InvalidDocument,
    SenderMismatch,
    UnknownDocument,
    UnknownRecipient,
)
from gateway.hub.model import (
    Delivery,
    DeliveryState,
    NewDocument,
    OriginalDocument,
    SendResult,
)
from gateway.hub.ports import UnitOfWork

TAKE_BACK = "13"
"""The one status code that travels from the original sender to the recipients."""
STATUS_CODES = ("01", "02", "03", "04", "05", "06", TAKE_BACK, "15", "16")

RELATED_EVENT = {
    BusinessType.REVOKE: "revoked",
    BusinessType.UPDATE: "updated",
    BusinessType.REPLACE: "replaced",
}
"""The event a later document leaves on the timeline of the document it concerns."""


@dataclass(frozen=True)
class Routing:
    """Where a message goes, and what earlier document it concerns."""

    recipients: tuple[str, ...]
    original: OriginalDocument | None = None
    withdraws: bool = False
    """Whether deliveries of the original that were never downloaded are withdrawn."""


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


def route(uow: UnitOfWork, agency: str, message: EdxmlMessage, max_recipients: int) -> Routing:
    """Decide the recipients of ``message`` from ``agency``, or refuse it."""
    if message.sender.code != agency:
        raise SenderMismatch(
            f"The document's From/OrganId {message.sender.code!r} is not the "
            f"authenticated agency {agency!r}."
        )
    if message.kind is MessageKind.STATUS:
        routing = _route_status(uow, agency, message)
    elif message.business_type is BusinessType.NEW:
        routing = Routing(message.recipient_codes)
    else:
        routing = Routing(
            message.recipient_codes,
            original=_original_of(uow, agency, message),
            withdraws=message.business_type is BusinessType.REVOKE,
        )
    if len(routing.recipients) > max_recipients:
        raise InvalidDocument(f"A document may have at most {max_recipients} recipients.")
    unknown = [code for code in routing.recipients if not _is_active(uow, code)]
    if unknown:
        raise UnknownRecipient(
            "Not registered, active agencies: " + ", ".join(sorted(unknown)) + "."
        )
    return routing


def withdrawable(routing: Routing) -> list[str]:
    """Message ids of the original's deliveries to withdraw: to recipients, not downloaded."""
    if not (routing.withdraws and routing.original):
        return []
    return [
        d.message_id
        for d in routing.original.deliveries
        if d.recipient in routing.recipients
        and d.state is DeliveryState.PENDING
        and not d.downloaded
    ]


def new_document(
    message: EdxmlMessage,
    content: bytes,
    sha256: str,
    key: str,
    routing: Routing,
    withdrawn_recipients: set[str],
    received_at: datetime,
    signature: str = "none",
) -> NewDocument:
    """The document to store; recipients whose original was withdrawn never see it either."""
    deliveries = tuple(
        Delivery(
            recipient=code,
            message_id=str(uuid.uuid4()),
            state=DeliveryState.WITHDRAWN
            if code in withdrawn_recipients
            else DeliveryState.PENDING,
        )
        for code in routing.recipients
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
        related_pk=routing.original.pk if routing.original else None,
        status_code=message.status_code,
        signature=signature,
        document_type=(message.document_type_name or message.document_type)[:100],
    )


def related_event(message: EdxmlMessage) -> str | None:
    """The event this message leaves on its original's timeline, if any."""
    if message.kind is MessageKind.STATUS:
        return "take-back" if message.status_code == TAKE_BACK else "status"
    return RELATED_EVENT.get(message.business_type)


def _route_status(uow: UnitOfWork, agency: str, message: EdxmlMessage) -> Routing:
    if message.status_code not in STATUS_CODES:
        raise InvalidDocument(
            f"StatusCode must be one of {', '.join(STATUS_CODES)}, not {message.status_code!r}."
        )
    if message.status_code == TAKE_BACK:
        original = uow.messages.sent_original(agency, message.document_id)
        if original is None:
            raise UnknownDocument(
                f"This agency sent no document {message.document_id!r} to take back."
            )
        recipients = tuple(dict.fromkeys(d.recipient for d in original.deliveries))
        return Routing(recipients, original=original, withdraws=True)
    original = uow.messages.received_original(agency, message.document_id)
    if original is None:
        raise UnknownDocument(f"This agency received no document {message.document_id!r}.")
    return Routing((original.sender,), original=original)


def _original_of(uow: UnitOfWork, agency: str, message: EdxmlMessage) -> OriginalDocument:
    """The document a revoke, update or replacement concerns; only its sender may send one.

    It is named by Bussiness/DocumentId, by ReplacementInfo/DocumentId, or (as real
    revocations do) by the header's own DocumentId: the first that this agency sent.
    """
    candidates = [
        message.business_document_id,
        *message.replaced_document_ids,
        message.document_id,
    ]
    for document_id in filter(None, candidates):
        original = uow.messages.sent_original(agency, document_id)
        if original is not None:
            return original
    raise UnknownDocument(
        "This agency sent no document with the DocumentId this "
        f"{message.business_type.name.lower()} names; only its sender may revoke, "
        "update or replace a document."
    )


def _is_active(uow: UnitOfWork, code: str) -> bool:
    agency = uow.agencies.get(code)
    return agency is not None and agency.active
