"""The streaming front: the delivery operations without spyne, and without holding a
document twice.

spyne reads a request whole, parses it into a tree and decodes the base64 from there:
a large document is held many times over. In front of spyne, this reads a large SOAP
request as a stream through an event parser (the same hardening: no DTD, no entities,
no network, bounded size and depth), keeps the small header as a tree, decodes the
Document's base64 piece by piece into a spool file, and refuses a document over the
limit without reading the rest (``reading``). A small request is parsed whole and read
from its tree by the same rules. GetDocuments responses are written piece by piece.
AckDocument, the third call of every delivery, is answered here too: it is small, but
spyne's parse, schema check and serialisation would cost more than the acknowledgement.
GetAgencies is answered here as the directory is read: spyne would build the whole
national directory (100,000 agencies, 19 MB of XML) in memory several times over.

Any request it does not recognise as exactly one of these operations — another
operation, an unexpected element or attribute, malformed XML, a DOCTYPE — goes to spyne
unchanged (the bytes read so far are replayed from a spool), so every fault is the one
the contract's own path gives. A Document that is not base64 is refused here, once the
caller is signed in, with the fault spyne gives a Document of nothing: spyne would read
such a request whole, and store what it could make of it.
"""

from __future__ import annotations

import io
import logging
import re
import tempfile
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

from lxml import etree

from gateway.errors import GatewayError, TooLarge
from gateway.hub.directory import MAX_LISTING, Directory
from gateway.hub.hub import Hub
from gateway.security.wsse import UsernameToken, read_username_token
from gateway.settings import Settings
from gateway.soap import wire
from gateway.soap.bodies import declared_length, refuse_cut_short
from gateway.soap.faults import log_fault, to_fault
from gateway.soap.headers import check_understood
from gateway.soap.reading import (
    PARSER_OPTIONS,
    SPOOL_IN_MEMORY,
    Request,
    RequestReader,
    Unusual,
    read_tree,
    refuse_passed_over_errors,
)
from gateway.soap.service import once_more_if_unavailable, require_document
from gateway.web import metrics

if TYPE_CHECKING:
    from gateway.soap.application import GatewaySoapServer

log = logging.getLogger("gateway.soap")

READ_BYTES = 2**16
_INTEGER = re.compile(r"[ \t\r\n]*[+-]?[0-9]+[ \t\r\n]*")
"""An xs:integer, with the white space its schema type collapses."""
LEASED_WITH_BYTES = 64 * 1024
"""Documents up to this size are read with their lease (one transaction, not two): a
GetDocuments of 100 holds at most 6.4 MB of them; larger ones are read piece by piece."""
SPOOLED_BODY = "lienthong.spooled_body"
"""Set in a request's environ when its body is a spool the hub wrote (an inflated
request): it can be read again from its start, so it is not copied for spyne."""
WHOLE_UP_TO = SPOOL_IN_MEMORY
"""Requests up to this size are parsed in one call and read from their tree: an event
parser calls back into Python for every event, handing the interpreter lock back and
forth, which costs twice as much beside other threads. Larger ones are read as a stream."""


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
    """Reads a request body, keeping a copy of the raw bytes for spyne (unless the body
    is a spool of the hub's own, which is read again from its start)."""

    def __init__(self, environ, settings: Settings):
        self.stream = environ["wsgi.input"]
        self._spooled = bool(environ.get(SPOOLED_BODY))
        self._remaining = declared_length(environ)
        self._settings = settings
        self.raw = io.BytesIO()

    def read(self) -> Request:
        """The request, read whole or in pieces; TooLarge as soon as a limit is passed."""
        if self._remaining is not None and self._remaining <= WHOLE_UP_TO:
            body = self.stream.read(self._remaining)
            refuse_cut_short(len(body), self._remaining)
            self.raw = io.BytesIO(body)
            return read_tree(etree.fromstring(body, etree.XMLParser(**PARSER_OPTIONS)),
                              body, self._settings)  # fmt: skip
        if not self._spooled:
            self.raw = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)
        reader = RequestReader(self._settings)
        parser = etree.XMLParser(target=reader, **PARSER_OPTIONS)
        limit, taken = self._settings.max_request_bytes, 0
        while self._remaining != 0:
            want = READ_BYTES if self._remaining is None else min(READ_BYTES, self._remaining)
            chunk = self.stream.read(want)
            if not chunk:
                break
            if self._remaining is not None:
                self._remaining -= len(chunk)
            taken += len(chunk)
            if not self._spooled:
                self.raw.write(chunk)
            if taken > limit:
                raise TooLarge(f"The request is over {limit} bytes; at most that "
                               "many are accepted.")  # fmt: skip
            parser.feed(chunk)
            refuse_passed_over_errors(parser)
        if self._remaining:
            refuse_cut_short(taken, taken + self._remaining)
        parser.close()
        refuse_passed_over_errors(parser)
        return reader.request

    def replay(self, environ) -> dict:
        """``environ`` with the body as it came, for spyne."""
        if self._spooled:
            self.stream.seek(0)
            return environ
        return {**environ, "wsgi.input": _Replay(self.raw, self.stream)}


class StreamingFront:
    """Answers SendDocument, GetDocuments, AckDocument and GetAgencies; hands spyne
    everything else."""

    def __init__(
        self, hub: Hub, directory: Directory, settings: Settings, spyne: GatewaySoapServer
    ):
        self._hub = hub
        self._directory = directory
        self._settings = settings
        self._spyne = spyne
        self._client_address = spyne.app.client_address
        """Where a request came from, read as on spyne's path."""

    def __call__(self, environ, start_response) -> Iterator[bytes] | list[bytes]:
        intake = _Intake(environ, self._settings)
        try:
            request = intake.read()
            operation, answer = self._understood(request)
        except (Unusual, etree.LxmlError, ValueError):
            # Not ours, or not well-formed (lxml refuses some names as ValueError).
            return self._spyne(intake.replay(environ), start_response)
        except GatewayError as error:
            return fault_response(error, start_response)
        started = time.perf_counter()
        try:
            check_understood(request.header)
            token = read_username_token(request.header, self._client_address(environ))
            response = answer(token, start_response)
        except GatewayError as error:
            metrics.record(operation, error.code, time.perf_counter() - started)
            return fault_response(error, start_response, counted=True)
        metrics.record(operation, "ok", time.perf_counter() - started)
        return response

    def _understood(self, request: Request):
        """The operation and how to answer it, once the request is known to be exactly one
        of ours (otherwise Unusual: nothing is done twice, spyne does it all)."""
        if request.header is None or request.operation is None:
            raise Unusual("not one of the streamed operations")
        if request.operation == "SendDocument":
            if request.document is None:
                raise Unusual("no Document")
            content = request.document.finish()
            return "SendDocument", lambda token, start: self._send(token, content, start)
        if request.operation == "AckDocument":
            ids = request.message_ids
            return "AckDocument", lambda token, start: self._ack(token, ids, start)
        max_count = _count(request.max_count)
        if request.operation == "GetAgencies":
            if max_count is not None and max_count > MAX_LISTING:
                raise Unusual("MaxCount above the contract's")
            parent, after = request.parent_code or None, request.after or None
            return "GetAgencies", lambda token, start: self._agencies(
                token, parent, after, max_count, start
            )
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

    def _agencies(
        self, token: UsernameToken, parent: str | None, after: str | None,
        count: int | None, start_response,
    ) -> Iterator[bytes]:  # fmt: skip
        self._run(lambda: self._hub.authenticate(token))

        # The first batch is read here, so that a database failure is still a fault.
        pieces = self._run(
            lambda: wire.agencies_response(self._directory.entries(parent, after, count))
        )
        start_response("200 OK", [("Content-Type", "text/xml; charset=utf-8")])
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


def _count(text: str | None) -> int | None:
    """MaxCount's value; Unusual unless it is an integer of at least 1, written as XML
    Schema writes one (Python's int() would also take other scripts' digits)."""
    if text is None:
        return None
    if not _INTEGER.fullmatch(text):
        raise Unusual("MaxCount is not an integer")
    count = int(text)
    if count < 1:
        raise Unusual("MaxCount below 1")
    return count


def _answer(body: bytes, start_response) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/xml; charset=utf-8"),
                              ("Content-Length", str(len(body)))])  # fmt: skip
    return [body]


def fault_response(
    error: GatewayError,
    start_response,
    *,
    counted=False,
    status="500 Internal Server Error",
    headers=(),
) -> list[bytes]:
    """A SOAP fault for ``error``, as spyne would answer it (counted as a refusal before
    any operation unless ``counted``); ``status`` and ``headers`` for a request that
    HTTP itself refuses."""
    if not counted:
        metrics.count_refusal(error.code)
    log_fault(to_fault(error))
    body = wire.fault_document(error)
    start_response(
        status,
        [
            ("Content-Type", "text/xml; charset=utf-8"),
            ("Content-Length", str(len(body))),
            ("Connection", "close"),
            *headers,
        ],
    )
    return [body]
