"""The streaming front: the delivery operations without spyne, and without holding a
document twice.

spyne reads a request whole, parses it into a tree and decodes the base64 from there:
a large document is held many times over. In front of spyne, this reads the SOAP
request as a stream through an event parser (the same hardening: no DTD, no entities,
no network, bounded size and depth), keeps the small header as a tree, decodes the
Document's base64 piece by piece into a spool file, and refuses a document over the
limit without reading the rest. GetDocuments responses are written piece by piece.
AckDocument, the third call of every delivery, is answered here too: it is small, but
spyne's parse, schema check and serialisation would cost more than the acknowledgement.

Any request it does not recognise as exactly one of these three operations — another
operation, an unexpected element or attribute, malformed XML, invalid base64, a
DOCTYPE — goes to spyne unchanged (the bytes read so far are replayed from a spool), so
every fault is the one the contract's own path gives.
"""

from __future__ import annotations

import base64
import binascii
import logging
import tempfile
import time
from collections.abc import Callable, Iterator

from lxml import etree

from gateway import ns
from gateway.errors import GatewayError, TooLarge
from gateway.hub.hub import MAX_ACK_IDS, Hub
from gateway.security.wsse import UsernameToken, read_username_token
from gateway.security.xmlparser import tree_nsmap
from gateway.settings import Settings
from gateway.soap import wire
from gateway.soap.faults import log_fault, to_fault
from gateway.soap.service import once_more_if_unavailable, require_document
from gateway.web import metrics

log = logging.getLogger("gateway.soap")

READ_BYTES = 2**16
SPOOL_IN_MEMORY = 2**20
"""Spools keep this much in memory before they move to a temporary file."""
LEASED_WITH_BYTES = 64 * 1024
"""Documents up to this size are read with their lease (one transaction, not two): a
GetDocuments of 100 holds at most 6.4 MB of them; larger ones are read piece by piece."""
WHOLE_UP_TO = SPOOL_IN_MEMORY
"""Requests up to this size are parsed in one call and then walked: an event parser
calls back into Python for every event, handing the interpreter lock back and forth,
which costs twice as much beside other threads. Larger ones are read as a stream."""

_ENVELOPE, _HEADER, _BODY = (
    f"{{{ns.SOAP11_ENV}}}{name}" for name in ("Envelope", "Header", "Body")
)
_SEND, _GET, _ACK = (
    f"{{{ns.GATEWAY}}}{name}" for name in ("SendDocument", "GetDocuments", "AckDocument")
)
_DOCUMENT, _MAX_COUNT, _MESSAGE_IDS = (
    f"{{{ns.GATEWAY}}}{name}" for name in ("Document", "MaxCount", "MessageIds")
)
_OWN_TEXT = {_MAX_COUNT: 100, _MESSAGE_IDS: 1000}
"""The elements whose text is collected, and the longest text each may have here."""
_XML_SPACE = b" \t\r\n"


_PARSER_OPTIONS = dict(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True)


class _Unusual(Exception):
    """Not a request this front answers itself: spyne takes it."""


class _Base64Spool:
    """Decodes base64 text as it arrives into a spool file, up to ``limit`` bytes."""

    def __init__(self, limit: int):
        self.file = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)
        self.size = 0
        self._limit = limit
        self._pending = b""
        self._padded = False

    def write(self, text: str) -> None:
        encoded = self._pending + text.encode("ascii", "replace").translate(None, _XML_SPACE)
        if self._padded and encoded:
            raise _Unusual("base64 after its padding")
        whole = len(encoded) - len(encoded) % 4
        self._pending = encoded[whole:]
        self._decode(encoded[:whole])

    def finish(self) -> bytes:
        """The decoded bytes (read once, here, for the hub)."""
        if self._pending:
            raise _Unusual("base64 of a length that is not a multiple of 4")
        self.file.seek(0)
        return self.file.read()

    def _decode(self, encoded: bytes) -> None:
        if not encoded:
            return
        self._padded = encoded.endswith(b"=")
        try:
            decoded = base64.b64decode(encoded, validate=True)
        except binascii.Error as exc:
            raise _Unusual("not base64") from exc
        self.size += len(decoded)
        if self.size > self._limit:
            raise TooLarge(f"The document is over {self._limit} bytes; at most {self._limit} "
                           "are accepted.")  # fmt: skip
        self.file.write(decoded)


class _RequestReader:
    """An lxml parser target for the three operations; anything else is _Unusual."""

    def __init__(self, settings: Settings):
        self._max_depth = settings.max_xml_depth
        self._max_document = settings.max_document_bytes
        self._path: list[str] = []
        self._header: etree.TreeBuilder | None = None
        self.header: etree._Element | None = None
        self.operation: str | None = None
        self.document: _Base64Spool | None = None
        self.max_count: str | None = None
        self.message_ids: list[str] = []
        self._text: list[str] | None = None

    def start(self, tag, attrib, nsmap=None):
        self._path.append(tag)
        depth = len(self._path)
        if depth > self._max_depth:
            raise _Unusual("too deep")
        if self._header is not None:
            self._header.start(tag, attrib, tree_nsmap(nsmap))
            return
        if depth == 1 and tag == _ENVELOPE or depth == 2 and tag == _BODY and not attrib:
            return
        if depth == 2 and tag == _HEADER and self.header is None and self.operation is None:
            self._header = etree.TreeBuilder()
            self._header.start(tag, attrib, tree_nsmap(nsmap))
            return
        if depth == 3 and self.operation is None and tag in (_SEND, _GET, _ACK) and not attrib:
            self.operation = tag
            return
        if depth == 4 and not attrib:
            if tag == _DOCUMENT and self.operation == _SEND and self.document is None:
                self.document = _Base64Spool(self._max_document)
                return
            if tag == _MAX_COUNT and self.operation == _GET and self.max_count is None:
                self._text = []
                return
            if tag == _MESSAGE_IDS and self.operation == _ACK:
                if len(self.message_ids) == MAX_ACK_IDS:
                    raise _Unusual("too many MessageIds")
                self._text = []
                return
        raise _Unusual(f"unexpected {tag}")

    def end(self, tag):
        depth = len(self._path)
        self._path.pop()
        if self._header is not None:
            self._header.end(tag)
            if depth == 2:
                self.header = self._header.close()
                self._header = None
        elif self._text is not None:
            text = "".join(self._text)
            if tag == _MAX_COUNT:
                self.max_count = text
            elif "\r" in text:
                raise _Unusual("a carriage return, which spyne writes back as a reference")
            else:
                self.message_ids.append(text)
            self._text = None

    def data(self, text):
        if self._header is not None:
            self._header.data(text)
        elif len(self._path) == 4 and self.document is not None and self._path[-1] == _DOCUMENT:
            self.document.write(text)
        elif self._text is not None:
            self._text.append(text)
            if sum(map(len, self._text)) > _OWN_TEXT[self._path[-1]]:
                raise _Unusual(f"{self._path[-1]} too long")
        elif text.strip():
            raise _Unusual("unexpected text")

    def doctype(self, *_):
        raise _Unusual("DOCTYPE")

    def pi(self, *_):
        raise _Unusual("processing instruction")

    def close(self):
        return None


def _walk(root: etree._Element, reader: _RequestReader) -> None:
    """Give ``reader`` the events of a parsed request, as the parser would have."""
    if root.getroottree().docinfo.doctype:
        reader.doctype()
    for sibling in (*root.itersiblings(preceding=True), *root.itersiblings()):
        if isinstance(sibling, etree._ProcessingInstruction):
            reader.pi()
    declared: dict[str, str] = {}
    events = ("start-ns", "start", "end", "comment", "pi")
    for event, item in etree.iterwalk(root, events=events):
        if event == "start-ns":
            prefix, uri = item
            declared[prefix] = uri
        elif event == "start":
            reader.start(item.tag, dict(item.attrib), declared)
            declared = {}
            if item.text:
                reader.data(item.text)
        elif event == "pi":
            reader.pi()
        else:
            if event == "end":
                reader.end(item.tag)
            if item.tail and item is not root:
                reader.data(item.tail)


class _Replay:
    """A request body: the bytes already read (from their spool), then the rest."""

    def __init__(self, spool, rest):
        spool.seek(0)
        self._spool, self._rest = spool, rest

    def read(self, size: int = -1) -> bytes:
        data = self._spool.read(size)
        if size < 0:
            return data + self._rest.read()
        if len(data) < size:
            data += self._rest.read(size - len(data))
        return data


class _Intake:
    """Reads a request body into the parser, keeping a copy of the raw bytes for spyne."""

    def __init__(self, environ, settings: Settings):
        self.stream = environ["wsgi.input"]
        length = environ.get("CONTENT_LENGTH") or ""
        self._remaining = int(length) if length.strip().isdigit() else None
        self._max_request = settings.max_request_bytes
        self.raw = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)
        self.reader = _RequestReader(settings)
        self._parser = etree.XMLParser(target=self.reader, **_PARSER_OPTIONS)

    def read_all(self) -> None:
        """Feed the whole body to the parser; TooLarge as soon as a limit is passed."""
        if self._remaining is not None and self._remaining <= WHOLE_UP_TO:
            body = self.stream.read(self._remaining)
            self.raw.write(body)
            _walk(etree.fromstring(body, etree.XMLParser(**_PARSER_OPTIONS)), self.reader)
            return
        while self._remaining != 0:
            want = READ_BYTES if self._remaining is None else min(READ_BYTES, self._remaining)
            chunk = self.stream.read(want)
            if not chunk:
                break
            if self._remaining is not None:
                self._remaining -= len(chunk)
            self.raw.write(chunk)
            if self.raw.tell() > self._max_request:
                raise TooLarge(f"The request is over {self._max_request} bytes; at most that "
                               "many are accepted.")  # fmt: skip
            self._parser.feed(chunk)
        self._parser.close()

    def replay(self, environ) -> dict:
        """``environ`` with the body as it came, for spyne."""
        return {**environ, "wsgi.input": _Replay(self.raw, self.stream)}


class StreamingFront:
    """Answers SendDocument, GetDocuments and AckDocument; hands spyne everything else."""

    def __init__(self, hub: Hub, settings: Settings, spyne: Callable):
        self._hub = hub
        self._settings = settings
        self._spyne = spyne

    def __call__(self, environ, start_response) -> Iterator[bytes] | list[bytes]:
        intake = _Intake(environ, self._settings)
        try:
            intake.read_all()
            operation, answer = self._understood(intake.reader)
        except (_Unusual, etree.LxmlError, ValueError):
            # Not ours, or not well-formed (lxml refuses some names as ValueError).
            return self._spyne(intake.replay(environ), start_response)
        except GatewayError as error:
            return fault_response(error, start_response)
        started = time.perf_counter()
        try:
            token = read_username_token(intake.reader.header)
            response = answer(token, start_response)
        except GatewayError as error:
            metrics.record(operation, error.code, time.perf_counter() - started)
            return fault_response(error, start_response, counted=True)
        metrics.record(operation, "ok", time.perf_counter() - started)
        return response

    def _understood(self, reader: _RequestReader):
        """The operation and how to answer it, once the request is known to be exactly one
        of ours (otherwise _Unusual: nothing is done twice, spyne does it all)."""
        if reader.header is None or reader.operation is None:
            raise _Unusual("not one of the streamed operations")
        if reader.operation == _SEND:
            if reader.document is None:
                raise _Unusual("no Document")
            content = reader.document.finish()
            return "SendDocument", lambda token, start: self._send(token, content, start)
        if reader.operation == _ACK:
            ids = reader.message_ids
            return "AckDocument", lambda token, start: self._ack(token, ids, start)
        max_count = None
        if reader.max_count is not None:
            try:
                max_count = int(reader.max_count.strip())
            except ValueError as exc:
                raise _Unusual("MaxCount is not an integer") from exc
            if max_count < 1:
                raise _Unusual("MaxCount below 1")
        return "GetDocuments", lambda token, start: self._get(token, max_count, start)

    def _send(self, token: UsernameToken, content: bytes, start_response) -> list[bytes]:
        if not content or content.isspace():
            self._run(lambda: self._hub.authenticate(token))  # a stranger learns no more
            require_document(content)
        result = self._run(lambda: self._hub.send(token, content))
        return _answer(wire.send_response(result), start_response)

    def _ack(self, token: UsernameToken, ids: list[str], start_response) -> list[bytes]:
        result = self._run(lambda: self._hub.acknowledge(token, ids))
        return _answer(wire.ack_response(result), start_response)

    def _get(self, token: UsernameToken, max_count: int | None, start_response) -> Iterator[bytes]:
        messages = self._run(
            lambda: self._hub.fetch(token, max_count, content_up_to=LEASED_WITH_BYTES)
        )
        length, pieces = wire.documents_response(messages, self._hub.read_document)
        start_response("200 OK", [("Content-Type", "text/xml; charset=utf-8"),
                                  ("Content-Length", str(length))])  # fmt: skip
        return pieces

    @staticmethod
    def _run(work):
        """Run a use case as the service does: once more if the database was lost, and
        any unexpected error as Server.Internal."""
        try:
            return once_more_if_unavailable(work)
        except GatewayError:
            raise
        except Exception as error:
            log.exception("a streamed operation failed")
            raise GatewayError() from error


def _answer(body: bytes, start_response) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/xml; charset=utf-8"),
                              ("Content-Length", str(len(body)))])  # fmt: skip
    return [body]


def fault_response(error: GatewayError, start_response, *, counted=False) -> list[bytes]:
    """A SOAP fault for ``error``, as spyne would answer it (counted as a refusal before
    any operation unless ``counted``)."""
    if not counted:
        metrics.count_refusal(error.code)
    log_fault(to_fault(error))
    body = wire.fault_document(error)
    start_response(
        "500 Internal Server Error",
        [
            ("Content-Type", "text/xml; charset=utf-8"),
            ("Content-Length", str(len(body))),
            ("Connection", "close"),
        ],
    )
    return [body]
