"""The deliveries a hub forwards to its parent hub: leased by the parent link, then closed
as forwarded or failed, or put back for later."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from gateway.hub.model import PARENT_INBOX, DeliveryState, InboxMessage
from gateway.hub.ports import UnitOfWork
from gateway.settings import Settings


class ForwardQueue:
    def __init__(
        self,
        uow_factory: Callable[[], UnitOfWork],
        settings: Settings,
        clock: Callable[[], datetime],
    ):
        self._uow = uow_factory
        self._settings = settings
        self._clock = clock

    def lease(self, limit: int) -> list[InboxMessage]:
        """Lease deliveries waiting for the parent hub, for the configured lease time."""
        now = self._clock()
        until = now + timedelta(seconds=self._settings.lease_seconds)
        with self._uow() as uow:
            messages = list(uow.messages.lease(PARENT_INBOX, now, until, limit))
            uow.commit()
        return messages

    def forwarded(self, deliveries: Sequence[InboxMessage], answers: dict[str, str]) -> None:
        """Close deliveries the parent hub took; ``answers`` holds the MessageId it gave
        each recipient, kept on the timeline."""
        details = {
            d.message_id: f"to the parent hub, MessageId {answers[d.recipient]}" for d in deliveries
        }
        self._close(deliveries, details, DeliveryState.FORWARDED, "forwarded")

    def failed(self, deliveries: Sequence[InboxMessage], reason: str) -> None:
        """Give up: the sender's timeline and the operator see why."""
        self._close(deliveries, {d.message_id: reason for d in deliveries},
                    DeliveryState.FAILED, "failed")  # fmt: skip

    def later(self, deliveries: Sequence[InboxMessage], delay_seconds: float) -> None:
        """Offer these deliveries to the parent link again after ``delay_seconds``."""
        until = self._clock() + timedelta(seconds=delay_seconds)
        with self._uow() as uow:
            uow.messages.postpone(PARENT_INBOX, [d.message_id for d in deliveries], until)
            uow.commit()

    def _close(self, deliveries, details: dict[str, str], state, kind: str) -> None:
        now = self._clock()
        with self._uow() as uow:
            found = uow.messages.close(PARENT_INBOX, list(details), state, now)
            for delivery in deliveries:
                if delivery.message_id in found and found[delivery.message_id].first:
                    uow.events.record(
                        kind, now, delivery.sender, document_id=delivery.document_id,
                        message_id=delivery.message_id,
                        detail=f"{delivery.recipient}: {details[delivery.message_id]}"[:1000],
                        content_sha256=delivery.sha256,
                    )  # fmt: skip
            uow.commit()
