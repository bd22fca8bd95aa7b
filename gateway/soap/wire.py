"""Responses and faults written as bytes, exactly as spyne writes them.

The streaming front answers SendDocument, GetDocuments, AckDocument and GetAgencies
itself; these are the same envelopes spyne produces for the contract, so a client cannot
tell the paths apart. A GetDocuments response is a sequence of parts, its documents
base64-encoded piece by piece, so that no encoded copy of a document is ever held whole;
a GetAgencies response is written as the directory is read, a thousand agencies at a time.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from xml.sax.saxutils import escape

import pybase64
from lxml import etree
from lxml.builder import ElementMaker

from gateway import ns
from gateway.errors import GatewayError
from gateway.hub.model import AckResult, DirectoryEntry, InboxMessage, SendResult
from gateway.soap.faults import to_fault

ENVELOPE_START = (
    "<?xml version='1.0' encoding='UTF-8'?>\n"
    f'<soap11env:Envelope xmlns:soap11env="{ns.SOAP11_ENV}" xmlns:tns="{ns.GATEWAY}">'
    "<soap11env:Body>"
).encode()
ENVELOPE_END = b"</soap11env:Body></soap11env:Envelope>"
WRITE_BYTES = 2**16
"""A streamed response is written in pieces of about this size: each write is a system
call, and a response of small documents goes out in one."""

_ENV = ElementMaker(namespace=ns.SOAP11_ENV, nsmap={"soap11env": ns.SOAP11_ENV, "tns": ns.GATEWAY})
_PLAIN = ElementMaker()


def _field(name: str, value: str) -> str:
    return f"<tns:{name}>{escape(value)}</tns:{name}>"


_CARRIAGE_RETURN = {"\r": "&#13;"}


def _text_field(name: str, value: str) -> str:
    """A field of free text: a carriage return written as a reference, as lxml does, so
    that it reaches the client as itself rather than as a line feed."""
    return f"<tns:{name}>{escape(value, _CARRIAGE_RETURN)}</tns:{name}>"


def send_response(result: SendResult) -> bytes:
    deliveries = "".join(
        "<tns:Deliveries>"
        + _field("Recipient", d.recipient)
        + _field("MessageId", d.message_id)
        + _field("State", d.state.value)
        + "</tns:Deliveries>"
        for d in result.deliveries
    )
    body = (
        "<tns:SendDocumentResponse><tns:SendDocumentResult>"
        + _field("DocumentId", result.document_id)
        + _field("ReceivedAt", result.received_at.isoformat())
        + deliveries
        + "</tns:SendDocumentResult></tns:SendDocumentResponse>"
    )
    return ENVELOPE_START + body.encode() + ENVELOPE_END


def ack_response(result: AckResult) -> bytes:
    body = (
        "<tns:AckDocumentResponse><tns:AckDocumentResult>"
        + _field("Acknowledged", str(result.acknowledged))
        + "".join(_field("Unknown", message_id) for message_id in result.unknown)
        + "</tns:AckDocumentResult></tns:AckDocumentResponse>"
    )
    return ENVELOPE_START + body.encode() + ENVELOPE_END


def documents_response(
    messages: Sequence[InboxMessage], read: Callable[[InboxMessage], Iterable[bytes]]
) -> tuple[int, Iterator[bytes]]:
    """The GetDocuments response: its length, and its bytes in pieces, each document
    read with ``read`` and encoded as it is read."""
    parts: list[bytes | InboxMessage] = [ENVELOPE_START, b"<tns:GetDocumentsResponse>"]
    for message in messages:
        parts.append(
            (
                "<tns:ReceivedDocument>"
                + _field("MessageId", message.message_id)
                + _field("DocumentId", message.document_id)
                + _field("Sender", message.sender)
                + _field("Kind", message.kind.value)
                + _field("ReceivedAt", message.received_at.isoformat())
                + "<tns:Document>"
            ).encode()
        )
        parts.append(message)
        tail = "</tns:Document>" + _field("Signature", message.signature)
        if message.recipient:
            tail += _field("Recipient", message.recipient)
        parts.append((tail + "</tns:ReceivedDocument>").encode())
    parts += [b"</tns:GetDocumentsResponse>", ENVELOPE_END]
    length = sum(
        4 * math.ceil(part.size / 3) if isinstance(part, InboxMessage) else len(part)
        for part in parts
    )
    return length, _pieces(parts, read)


def _pieces(parts: list, read) -> Iterator[bytes]:
    return _in_writes(
        piece
        for part in parts
        for piece in (_base64(read(part)) if isinstance(part, InboxMessage) else (part,))
    )


def _in_writes(pieces: Iterable[bytes]) -> Iterator[bytes]:
    """The pieces joined into writes of about WRITE_BYTES."""
    pending: list[bytes] = []
    size = 0
    for piece in pieces:
        pending.append(piece)
        size += len(piece)
        if size >= WRITE_BYTES:
            yield b"".join(pending)
            pending, size = [], 0
    if pending:
        yield b"".join(pending)


def _base64(pieces: Iterable[bytes]) -> Iterator[bytes]:
    """Base64 of the pieces joined, encoded as they come (carrying what a piece leaves
    over a multiple of 3 into the next)."""
    carry = b""
    for piece in pieces:
        data = carry + piece if carry else piece
        whole = len(data) - len(data) % 3
        if whole:
            yield pybase64.b64encode(memoryview(data)[:whole])
        carry = data[whole:]
    if carry:
        yield pybase64.b64encode(carry)


def agencies_response(entries: Iterable[DirectoryEntry]) -> Iterator[bytes]:
    """The GetAgencies response, written in pieces as ``entries`` are read (the first
    one read here)."""
    entries = iter(entries)
    first = next(entries, None)
    if first is None:
        return iter([ENVELOPE_START + b"<tns:GetAgenciesResponse/>" + ENVELOPE_END])
    return _in_writes(
        itertools.chain(
            (ENVELOPE_START, b"<tns:GetAgenciesResponse>"),
            (_agency(entry).encode() for entry in itertools.chain((first,), entries)),
            (b"</tns:GetAgenciesResponse>", ENVELOPE_END),
        )
    )


def _agency(entry: DirectoryEntry) -> str:
    text = "<tns:Agency>" + _field("Code", entry.code) + _text_field("Name", entry.name)
    if entry.parent_code is not None:
        text += _text_field("ParentCode", entry.parent_code)
    text += _field("Active", "true" if entry.active else "false")
    if entry.certificate is not None:
        text += _text_field("Certificate", entry.certificate)
    if entry.endpoint is not None:
        text += _text_field("Endpoint", entry.endpoint)
    return text + "</tns:Agency>"


def fault_document(error: GatewayError) -> bytes:
    """The fault envelope for ``error``, as spyne writes faults."""
    fault = to_fault(error)
    envelope = _ENV.Envelope(
        _ENV.Body(
            _ENV.Fault(
                _PLAIN.faultcode(f"soap11env:{error.code}"),
                _PLAIN.faultstring(error.message),
                _PLAIN.faultactor(""),
                _PLAIN.detail(fault.detail),
            )
        )
    )
    return etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")
