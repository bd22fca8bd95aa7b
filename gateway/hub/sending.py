"""Accepting a message: check it, route it, relate it to earlier documents, store it once."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field, replace
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
    PARENT_INBOX,
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
class Topology:
    """Where this gateway stands: a hub, a hub under a parent hub, or one agency's inbox."""

    inbox_of: str = ""
    """Serve as the inbox of this one agency: accept only messages addressed to it."""
    has_parent: bool = False
    """Recipients not registered here are forwarded to the parent hub."""


@dataclass(frozen=True)
class Routing:
    """Where a message goes, and what earlier document it concerns."""

    recipients: tuple[str, ...]
    original: OriginalDocument | None = None
    withdraws: bool = False
    """Whether deliveries of the original that were never downloaded are withdrawn."""
    inboxes: dict[str, str] = field(default_factory=dict)
    """Who collects a recipient's deliveries, where that is not the recipient itself."""


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


def route(
    uow: UnitOfWork,
    agency: str,
    message: EdxmlMessage,
    max_recipients: int,
    topology: Topology = Topology(),
) -> Routing:
    """Decide the recipients of ``message`` from ``agency``, or refuse it.

    ``agency`` is the message's sender, or the child hub that sender is registered
    behind; recipients behind that same child hub are left to it, and recipients this hub
    does not serve are left out (the child accepted the message already, and fails their
    deliveries when the answer does not name them).
    """
    relayed_by = relaying_hub(uow, agency, message)
    routing = _route_message(uow, message.sender.code, message, topology)
    if len(routing.recipients) > max_recipients:
        raise InvalidDocument(f"A document may have at most {max_recipients} recipients.")
    return _with_inboxes(uow, routing, topology, relayed_by)


def route_from_parent(
    uow: UnitOfWork, message: EdxmlMessage, recipient: str, topology: Topology
) -> Routing:
    """Route a message the parent hub delivered here for ``recipient``.

    The parent represents every agency this hub does not know; it may not speak for
    one that this hub (or a hub below it) serves.
    """
    if uow.agencies.get(message.sender.code) is not None:
        raise SenderMismatch(
            f"The parent hub may not deliver a message from {message.sender.code}, "
            "an agency this hub serves."
        )
    routing = _route_message(uow, message.sender.code, message, topology)
    if recipient not in routing.recipients:
        raise UnknownRecipient(f"The message is not addressed to {recipient}.")
    routing = _with_inboxes(uow, replace(routing, recipients=(recipient,)), topology)
    if routing.inboxes.get(recipient) == PARENT_INBOX:
        raise UnknownRecipient(f"{recipient} is not served by this hub.")
    return routing


def relaying_hub(uow: UnitOfWork, agency: str, message: EdxmlMessage) -> str | None:
    """The child hub sending on behalf of the message's sender, or None when the
    sender sends for itself; SenderMismatch when ``agency`` may not speak for it."""
    sender = message.sender.code
    if sender == agency:
        return None
    represented = uow.agencies.get(sender)
    if represented is not None and represented.via == agency:
        return agency
    raise SenderMismatch(
        f"The document's From/OrganId {sender!r} is not the authenticated agency "
        f"{agency!r}, nor an agency registered behind it."
    )


def _route_message(
    uow: UnitOfWork, sender: str, message: EdxmlMessage, topology: Topology
) -> Routing:
    if message.kind is MessageKind.STATUS:
        if topology.inbox_of and message.status_code != TAKE_BACK:
            return _status_to_own_inbox(message, topology.inbox_of)
        routing = _route_status(uow, sender, message)
    elif message.business_type is BusinessType.NEW:
        routing = Routing(message.recipient_codes)
    else:
        routing = Routing(
            message.recipient_codes,
            original=_original_of(uow, sender, message),
            withdraws=message.business_type is BusinessType.REVOKE,
        )
    if topology.inbox_of:
        if topology.inbox_of not in routing.recipients:
            raise UnknownRecipient(
                f"This gateway is the inbox of {topology.inbox_of} only; the message is not "
                "addressed to it."
            )
        routing = replace(routing, recipients=(topology.inbox_of,))
    return routing


def _status_to_own_inbox(message: EdxmlMessage, owner: str) -> Routing:
    """A status message about a document the inbox's owner sent elsewhere, directly."""
    _check_status_code(message)
    if owner not in (message.response_for.organ_code, *message.recipient_codes):
        raise UnknownRecipient(
            f"This gateway is the inbox of {owner} only; the status message is not for it."
        )
    return Routing((owner,))


def _with_inboxes(
    uow: UnitOfWork, routing: Routing, topology: Topology, relayed_by: str | None = None
) -> Routing:
    """Resolve who collects each recipient's deliveries; UnknownRecipient if nobody does.

    Of a message that child hub ``relayed_by`` relays, the recipients it serves itself are
    left to it, and those nobody here collects for are left out; UnknownRecipient only if
    no recipient is left."""
    inboxes, unknown = {}, []
    registered = uow.agencies.get_many(routing.recipients)
    for code in routing.recipients:
        agency = registered.get(code)
        if agency is not None and agency.active:
            if agency.via:
                inboxes[code] = agency.via
        elif agency is None and topology.has_parent:
            inboxes[code] = PARENT_INBOX
        else:
            unknown.append(code)
    unregistered = f"Not registered, active agencies: {', '.join(sorted(unknown))}."
    if relayed_by is None:
        if unknown:
            raise UnknownRecipient(unregistered)
        return replace(routing, inboxes=inboxes)
    served = tuple(
        code for code in routing.recipients
        if code not in unknown and inboxes.get(code) != relayed_by
    )  # fmt: skip
    if not served:
        raise UnknownRecipient(
            unregistered if unknown
            else f"Every recipient of this message is served by {relayed_by} itself."
        )  # fmt: skip
    return replace(routing, recipients=served, inboxes=inboxes)


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
    deliveries = new_deliveries(routing, routing.recipients, withdrawn_recipients)
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


def new_deliveries(
    routing: Routing, recipients: tuple[str, ...], withdrawn_recipients: set[str]
) -> tuple[Delivery, ...]:
    """One delivery per recipient, each with a fresh MessageId and its inbox."""
    return tuple(
        Delivery(
            recipient=code,
            message_id=str(uuid.uuid4()),
            state=DeliveryState.WITHDRAWN
            if code in withdrawn_recipients
            else DeliveryState.PENDING,
            inbox=routing.inboxes.get(code, code),
        )
        for code in recipients
    )


def related_event(message: EdxmlMessage) -> str | None:
    """The event this message leaves on its original's timeline, if any."""
    if message.kind is MessageKind.STATUS:
        return "take-back" if message.status_code == TAKE_BACK else "status"
    return RELATED_EVENT.get(message.business_type)


def _check_status_code(message: EdxmlMessage) -> None:
    if message.status_code not in STATUS_CODES:
        raise InvalidDocument(
            f"StatusCode must be one of {', '.join(STATUS_CODES)}, not {message.status_code!r}."
        )


def _route_status(uow: UnitOfWork, agency: str, message: EdxmlMessage) -> Routing:
    _check_status_code(message)
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
