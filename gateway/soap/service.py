"""The hub's SOAP operations. Authentication and error translation live in call_wrapper."""

from __future__ import annotations

import logging
import time

from spyne import Fault, Service, Unicode, rpc

from gateway.errors import GatewayError, InvalidRequest, Unavailable
from gateway.hub.model import (
    AckResult,
    InboxMessage,
    RecipientTimeline,
    SendResult,
    SendStatus,
)
from gateway.hub.statistics import AgencyStatistics
from gateway.security.wsse import read_username_token
from gateway.soap import types
from gateway.soap.faults import to_fault
from gateway.soap.headers import check_understood
from gateway.soap.reading import NOT_BASE64
from gateway.web import metrics

log = logging.getLogger("gateway.soap")
RETRY_PAUSE_SECONDS = 0.25


class LienThongService(Service):
    """Store-and-forward exchange of edXML documents between agencies."""

    @classmethod
    def call_wrapper(cls, ctx, args=None):
        try:
            with metrics.observed(ctx.method_name):
                try:
                    header = _header_element(ctx.in_header_doc)
                    check_understood(header)
                    address = ctx.app.client_address(ctx.transport.req_env)
                    token = read_username_token(header, address)
                    ctx.udc = once_more_if_unavailable(lambda: ctx.app.hub.authenticate(token))
                    return once_more_if_unavailable(lambda: super(cls, cls).call_wrapper(ctx, args))
                except GatewayError as error:
                    raise to_fault(error) from error
        except Fault:
            raise
        except Exception as error:
            log.exception("%s failed", ctx.method_name)
            raise to_fault(GatewayError()) from error

    @rpc(types.Content, _returns=types.SendResult)
    def SendDocument(ctx, Document):
        """Send an edXML document or status message (its bytes, base64-encoded).

        The hub stores it once and queues it for every recipient. Sending the same
        DocumentId with identical bytes again returns the first result.
        """
        content = b"".join(Document)
        require_document(content)
        return _send_result(ctx.app.hub.send(ctx.udc, content))

    @rpc(
        types.MaxCount,
        _returns=types.ReceivedDocument.customize(
            max_occurs="unbounded", min_occurs=0, nillable=False
        ),
        _out_variable_name="ReceivedDocument",
    )
    def GetDocuments(ctx, MaxCount):
        """Lease the caller's oldest pending messages (default 10, at most 100).

        A message not acknowledged before its lease ends is offered again.
        """
        return [_received(message) for message in ctx.app.hub.fetch(ctx.udc, MaxCount)]

    @rpc(types.MessageIds, _returns=types.AckResult)
    def AckDocument(ctx, MessageIds):
        """Acknowledge received messages by MessageId; ids not the caller's are Unknown."""
        result: AckResult = ctx.app.hub.acknowledge(ctx.udc, MessageIds or [])
        return types.AckResult(Acknowledged=result.acknowledged, Unknown=list(result.unknown))

    @rpc(types.DocumentId, _returns=types.SendStatus)
    def GetSendStatus(ctx, DocumentId):
        """The delivery timeline of a document: per recipient, its transport state, latest
        business status and every event. The sender sees every recipient; a recipient
        sees only its own row.
        """
        return _send_status(ctx.app.hub.send_status(ctx.udc, DocumentId))

    @rpc(types.Period, types.Period, _returns=types.Statistics)
    def GetStatistics(ctx, From, To):
        """The caller's own figures between From (default: 30 days before To) and To
        (default: now): sent, received, pending, acknowledged, refused, bytes, per day,
        document type and status code, and its documents nobody has picked up for 24 hours."""
        return _statistics(ctx.app.hub.statistics(ctx.udc, From, To))

    @rpc(types.AgencyCode, _returns=Unicode(min_occurs=0, nillable=False))
    def GetAgencyCertificate(ctx, Code):
        """The PEM X.509 certificate an agency's document signatures are checked against
        (absent when none is registered)."""
        return ctx.app.directory.certificate(Code)

    @rpc(
        types.ParentCode,
        types.After,
        types.PageSize,
        _returns=types.AgencyInfo.customize(max_occurs="unbounded", min_occurs=0, nillable=False),
        _out_variable_name="Agency",
    )
    def GetAgencies(ctx, ParentCode, After, MaxCount):
        """The agency directory by code: every agency, or the direct children of
        ParentCode. Pages: at most MaxCount agencies (up to 10,000), those after the code
        After (the last one of the page before)."""
        entries = ctx.app.directory.entries(ParentCode or None, After or None, MaxCount)
        return [
            types.AgencyInfo(
                Code=entry.code,
                Name=entry.name,
                ParentCode=entry.parent_code,
                Active=entry.active,
                Certificate=entry.certificate,
                Endpoint=entry.endpoint,
            )
            for entry in entries
        ]


def require_document(content: bytes) -> None:
    if not content or content.isspace():  # (strip() would copy a large document)
        raise InvalidRequest(NOT_BASE64)


def once_more_if_unavailable(operation):
    """Run ``operation``, and once more after a short pause if the database was lost.

    Safe for every operation here: a failed one rolled back its transaction, and sends
    and acknowledgements are idempotent should a commit have landed unseen. A pooled
    connection the database dropped (a restart) is then replaced on the second try.
    """
    try:
        return operation()
    except Unavailable:
        time.sleep(RETRY_PAUSE_SECONDS)
        return operation()


def _header_element(header_children):
    """spyne hands over the SOAP Header's children; the wsse reader wants the Header."""
    if not header_children:
        return None
    return header_children[0].getparent()


def _send_result(result: SendResult) -> types.SendResult:
    return types.SendResult(
        DocumentId=result.document_id,
        ReceivedAt=result.received_at,
        Deliveries=[
            types.Delivery(Recipient=d.recipient, MessageId=d.message_id, State=d.state.value)
            for d in result.deliveries
        ],
    )


def _received(message: InboxMessage) -> types.ReceivedDocument:
    return types.ReceivedDocument(
        MessageId=message.message_id,
        DocumentId=message.document_id,
        Sender=message.sender,
        Kind=message.kind.value,
        ReceivedAt=message.received_at,
        Document=[message.content],
        Signature=message.signature,
        Recipient=message.recipient,
    )


def _send_status(status: SendStatus) -> types.SendStatus:
    return types.SendStatus(
        DocumentId=status.document_id,
        Sender=status.sender,
        ReceivedAt=status.received_at,
        Recipients=[_recipient_status(row) for row in status.recipients],
    )


def _recipient_status(row: RecipientTimeline) -> types.RecipientStatus:
    latest = row.latest_status
    return types.RecipientStatus(
        Recipient=row.recipient,
        MessageId=row.message_id,
        TransportState=row.transport_state.value,
        LatestStatusCode=latest.status_code if latest else None,
        LatestStatusDescription=latest.description if latest else None,
        LatestStatusAt=latest.at if latest else None,
        Events=[
            types.TimelineEvent(
                At=entry.at,
                Event=entry.event,
                StatusCode=entry.status_code or None,
                Description=entry.description or None,
            )
            for entry in row.entries
        ],
    )


def _statistics(figures: AgencyStatistics) -> types.Statistics:
    return types.Statistics(
        Agency=figures.agency,
        From=figures.since,
        To=figures.until,
        Sent=figures.sent,
        SentBytes=figures.sent_bytes,
        Received=figures.received,
        Acknowledged=figures.acknowledged,
        Pending=figures.pending,
        Refused=figures.refused,
        OldestPendingAt=figures.oldest_pending,
        Days=[types.DayCount(Day=d, Sent=n, Bytes=b) for d, n, b in figures.by_day],
        DocumentTypes=[types.NamedCount(Name=t, Count=n) for t, n in figures.by_type],
        StatusCodes=[types.NamedCount(Name=c, Count=n) for c, n in figures.by_status],
        NotPickedUp=[
            types.WaitingDelivery(
                DocumentId=s.document_id, Recipient=s.recipient, ReceivedAt=s.received_at
            )
            for s in figures.not_picked_up
        ],
    )
