"""Responses the streaming front writes: parsed back, they say what spyne's would."""

import base64
from datetime import UTC, datetime

from lxml import etree

from gateway import ns
from gateway.envelope import MessageKind
from gateway.hub.model import InboxMessage
from gateway.soap.wire import documents_response

T = f"{{{ns.GATEWAY}}}"


def message(content: bytes, **fields) -> InboxMessage:
    return InboxMessage(
        message_id="m-1", document_id="A & <B>", sender="000.00.00.G12",
        kind=MessageKind.DOCUMENT, received_at=datetime(2026, 11, 25, tzinfo=UTC),
        content=b"", size=len(content), **fields,
    )  # fmt: skip


def test_documents_are_encoded_piece_by_piece_whatever_the_pieces():
    contents = [b"", b"x", b"0123456789" * 1000 + b"\xff\x00"]
    messages = [message(c, recipient="000.00.00.H31") for c in contents]

    def read(m: InboxMessage):
        content = contents[messages.index(m)]
        return (content[i : i + 7] for i in range(0, len(content), 7))  # not multiples of 3

    length, pieces = documents_response(messages, read)
    body = b"".join(pieces)
    assert len(body) == length
    found = etree.fromstring(body).findall(f".//{T}ReceivedDocument")
    assert [base64.b64decode(d.findtext(f"{T}Document")) for d in found] == contents
    assert found[0].findtext(f"{T}DocumentId") == "A & <B>"
    assert found[0].findtext(f"{T}Recipient") == "000.00.00.H31"
