"""The hub's use cases, each one transaction: authenticate, send, fetch, acknowledge."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

from gateway.envelope import parse_message
from gateway.errors import AuthenticationFailed, InvalidRequest, TooLarge, UnknownDocument
from gateway.hub import sending, timeline
from gateway.hub.authentication import check_token
from gateway.hub.model import AckResult, InboxMessage, SendResult, SendStatus
from gateway.hub.ports import DuplicateKey, UnitOfWork
from gateway.security.secretbox import SecretBox
from gateway.security.wsse import UsernameToken
from gateway.settings import Settings

DEFAULT_FETCH = 10
MAX_ACK_IDS = 1000


def utcnow() -> datetime:
    return datetime.now(UTC)


class Hub:
    def __init__(
        self,
        uow_factory: Callable[[], UnitOfWork],
        settings: Settings,
        *,
        clock: Callable[[], datetime] = utcnow,
        secret_box: SecretBox | None = None,
    ):
        self._uow = uow_factory
        self._settings = settings
        self._clock = clock
        self._secret_box = secret_box

    def authenticate(self, token: UsernameToken) -> str:
        """The code of the agency ``token`` proves to be; AuthenticationFailed otherwise."""
        now = self._clock()
        skew = timedelta(seconds=self._settings.clock_skew_seconds)
        with self._uow() as uow:
            agency = uow.agencies.get(token.username)
            check_token(token, agency, now=now, skew=skew, secret_box=self._secret_box)
            if token.nonce is not None:
                if not uow.nonces.remember(agency.code, token.nonce, now, now + 2 * skew):
                    raise AuthenticationFailed()  # a replayed nonce
                uow.commit()
        return agency.code

    def send(self, agency: str, content: bytes) -> SendResult:
        """Accept an edXML message from ``agency``: stored once, one delivery per recipient."""
        settings = self._settings
        if len(content) > settings.max_document_bytes:
            raise TooLarge(
                f"The document is {len(content)} bytes; at most "
                f"{settings.max_document_bytes} are accepted."
            )
        message = parse_message(
            content, max_bytes=settings.max_document_bytes, max_depth=settings.max_xml_depth
        )
        sha256 = sending.sha256_of(content)
        key = sending.idempotency_key(message, sha256)
        try:
            return self._store(agency, message, content, sha256, key)
        except DuplicateKey:
            with self._uow() as uow:
                result = sending.previous_result(uow, agency, key, sha256)
            if result is None:
                raise
            return result

    def _store(self, agency, message, content, sha256, key) -> SendResult:
        now = self._clock()
        with self._uow() as uow:
            routing = sending.route(uow, agency, message, self._settings.max_recipients)
            previous = sending.previous_result(uow, agency, key, sha256)
            if previous is not None:
                return previous
            withdrawn = uow.messages.withdraw(sending.withdrawable(routing), now)
            withdrawn_recipients = (
                {d.recipient for d in routing.original.deliveries if d.message_id in withdrawn}
                if withdrawn
                else set()
            )
            document = sending.new_document(
                message, content, sha256, key, routing, withdrawn_recipients, now
            )
            uow.messages.add(document)
            self._record_send(uow, agency, message, document, routing, withdrawn)
            uow.commit()
        return SendResult(document.document_id, document.received_at, document.deliveries)

    @staticmethod
    def _record_send(uow, agency, message, document, routing, withdrawn: set[str]) -> None:
        """Events for the new deliveries, and on the timeline of the document it concerns."""
        at = document.received_at
        for delivery in document.deliveries:
            uow.events.record(
                "received", at, agency, document_id=document.document_id,
                message_id=delivery.message_id, detail=f"to {delivery.recipient}",
            )  # fmt: skip
        event = sending.related_event(message)
        if routing.original is None or event is None:
            return
        for original in routing.original.deliveries:
            if original.message_id in withdrawn:
                kind = "withdrawn"
            elif original.recipient in routing.recipients or event == "status":
                kind = event
            else:
                continue
            uow.events.record(
                kind, at, agency, document_id=routing.original.document_id,
                message_id=original.message_id, status_code=message.status_code,
                detail=message.status_description or message.subject,
            )  # fmt: skip

    def fetch(self, agency: str, max_count: int | None) -> list[InboxMessage]:
        """Lease the agency's oldest pending messages for the configured lease time."""
        limit = DEFAULT_FETCH if max_count is None else max_count
        if not 1 <= limit <= self._settings.max_fetch:
            raise InvalidRequest(f"MaxCount must be between 1 and {self._settings.max_fetch}.")
        now = self._clock()
        until = now + timedelta(seconds=self._settings.lease_seconds)
        with self._uow() as uow:
            messages = list(uow.messages.lease(agency, now, until, limit))
            for message in messages:
                uow.events.record(
                    "leased",
                    now,
                    agency,
                    document_id=message.document_id,
                    message_id=message.message_id,
                )
            uow.commit()
        return messages

    def send_status(self, agency: str, document_id: str) -> SendStatus:
        """The delivery timeline of a document: every recipient's for its sender, else own."""
        with self._uow() as uow:
            document = uow.messages.sent_original(agency, document_id)
            if document is None:
                document = uow.messages.received_original(agency, document_id)
            if document is None:
                raise UnknownDocument(
                    f"This agency neither sent nor received a document {document_id!r}."
                )
            events = uow.messages.events_for([d.message_id for d in document.deliveries])
        return timeline.assemble(document, events)

    def acknowledge(self, agency: str, message_ids: Sequence[str]) -> AckResult:
        """Mark the agency's messages done; ids that are not its own are Unknown."""
        ids = list(dict.fromkeys(i.strip() for i in message_ids if i and i.strip()))
        if len(ids) > MAX_ACK_IDS:
            raise InvalidRequest(f"At most {MAX_ACK_IDS} MessageIds may be acknowledged at once.")
        now = self._clock()
        with self._uow() as uow:
            found = uow.messages.acknowledge(agency, ids, now)
            for message_id in ids:
                if message_id in found:
                    uow.events.record("acknowledged", now, agency, message_id=message_id)
            uow.commit()
        return AckResult(len(found), tuple(i for i in ids if i not in found))
