"""Responses the streaming front writes: parsed back, they say what spyne's would."""

import base64
from datetime import UTC, datetime

from lxml import etree

from gateway import ns
from gateway.envelope import MessageKind
from gateway.hub.model import InboxMessage
from gateway.soap.wire import WRITE_BYTES, documents_response

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


def test_small_responses_are_one_write_and_large_ones_bounded_pieces():
    small, large = b"%PDF" + bytes(7000), bytes(5 * WRITE_BYTES)
    messages = [message(small), message(large)]

    def read(m: InboxMessage):
        content = small if m is messages[0] else large
        return (content[i : i + 10_000] for i in range(0, len(content), 10_000))

    assert len(list(documents_response(messages[:1], read)[1])) == 1
    pieces = list(documents_response(messages, read)[1])
    assert len(pieces) > 5 and all(len(p) < 2 * WRITE_BYTES for p in pieces)
