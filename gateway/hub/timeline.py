"""The delivery timeline: what happened to a document at each recipient, from its events."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from gateway.hub.model import (
    EventRecord,
    OriginalDocument,
    RecipientTimeline,
    SendStatus,
    TimelineEntry,
)

BUSINESS_EVENTS = ("status",)


def assemble(document: OriginalDocument, events: Sequence[EventRecord]) -> SendStatus:
    """One timeline per delivery of ``document``, from the events recorded for it."""
    by_message: dict[str, list[TimelineEntry]] = defaultdict(list)
    for event in events:
        by_message[event.message_id].append(
            TimelineEntry(event.at, event.kind, event.status_code, event.detail)
        )
    recipients = []
    for delivery in document.deliveries:
        entries = tuple(by_message.get(delivery.message_id, ()))
        statuses = [entry for entry in entries if entry.event in BUSINESS_EVENTS]
        recipients.append(
            RecipientTimeline(
                recipient=delivery.recipient,
                message_id=delivery.message_id,
                transport_state=delivery.state,
                latest_status=statuses[-1] if statuses else None,
                entries=entries,
            )
        )
    return SendStatus(
        document_id=document.document_id,
        sender=document.sender,
        received_at=document.received_at,
        recipients=tuple(recipients),
        subject=document.subject,
    )
