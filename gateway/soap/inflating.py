"""Requests sent compressed (``Content-Encoding: gzip`` or ``deflate``).

A compressed request is inflated into a spool before anything reads it as SOAP, so the
streaming front and spyne see it as if it had been sent as it is, with its length known,
and every fault is the one that request would get uncompressed. Inflating stops at the
hub's request size limit, counted on the inflated bytes (a few kilobytes of gzip can
inflate to gigabytes) and on the compressed ones. A body that is not what its
Content-Encoding says is refused as Client.InvalidRequest; a coding the hub does not
know, with 415 Unsupported Media Type and the codings it does.
"""

from __future__ import annotations

import tempfile
import zlib

from gateway.errors import EmptyRequest, GatewayError, InvalidRequest, TooLarge
from gateway.soap.bodies import declared_length, refuse_cut_short
from gateway.soap.reading import SPOOL_IN_MEMORY
from gateway.soap.streaming import SPOOLED_BODY, fault_response

GZIP_BITS = 16 + zlib.MAX_WBITS
WINDOW_BITS = {"gzip": GZIP_BITS, "x-gzip": GZIP_BITS, "deflate": zlib.MAX_WBITS}
"""zlib's framing for each content coding: gzip's header and trailer, or zlib's (RFC 9110
§8.4.1)."""
ACCEPTED = "gzip, deflate"
PIECE_BYTES = 2**16


class Inflating:
    """A WSGI application in front of ``app`` that inflates compressed requests."""

    def __init__(self, app, max_request_bytes: int):
        self._app = app
        self._limit = max_request_bytes

    def __call__(self, environ, start_response):
        coding = environ.get("HTTP_CONTENT_ENCODING", "").strip().lower()
        if coding in ("", "identity"):
            return self._app(environ, start_response)
        if coding not in WINDOW_BITS:
            refusal = InvalidRequest(
                f"The request's Content-Encoding {coding[:40]!r} is not supported; send it as "
                f"it is, or compressed with one of: {ACCEPTED}."
            )
            return fault_response(
                refusal, start_response,
                status="415 Unsupported Media Type", headers=[("Accept-Encoding", ACCEPTED)],
            )  # fmt: skip
        try:
            body, length = self._inflate(environ, coding)
        except GatewayError as error:
            return fault_response(error, start_response)
        plain = {k: v for k, v in environ.items() if k != "HTTP_CONTENT_ENCODING"}
        plain.update({"wsgi.input": body, "CONTENT_LENGTH": str(length), SPOOLED_BODY: True})
        return self._app(plain, start_response)

    def _inflate(self, environ, coding: str):
        """The request's body inflated into a spool, and its length."""
        stream = environ["wsgi.input"]
        remaining = declared_length(environ)
        spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)
        inflater = zlib.decompressobj(WINDOW_BITS[coding])
        read = 0
        while remaining != 0:
            piece = stream.read(PIECE_BYTES if remaining is None else min(PIECE_BYTES, remaining))
            if not piece:
                break
            read += len(piece)
            if remaining is not None:
                remaining -= len(piece)
            if read > self._limit:
                raise TooLarge(f"The request is over {self._limit} bytes; at most that "
                               "many are accepted.")  # fmt: skip
            inflater = self._feed(inflater, piece, coding, spool)
        if remaining:
            refuse_cut_short(read, read + remaining)
        if read and not inflater.eof:
            raise InvalidRequest(f"The request's {coding} data end before their stream does.")
        length = spool.tell()
        if length == 0:
            raise EmptyRequest()
        spool.seek(0)
        return spool, length

    def _feed(self, inflater, piece: bytes, coding: str, spool):
        """Inflate ``piece`` into ``spool``, a bounded output at a time; the inflater for
        what follows (gzip allows several members one after another)."""
        while piece:
            if inflater.eof:
                if coding == "deflate":
                    raise InvalidRequest("The request has data after its deflate stream.")
                inflater = zlib.decompressobj(WINDOW_BITS[coding])
            try:
                spool.write(inflater.decompress(piece, PIECE_BYTES))
            except zlib.error as error:
                raise InvalidRequest(
                    f"The request's body is not valid {coding} data ({error})."
                ) from error
            if spool.tell() > self._limit:
                raise TooLarge(f"The request is over {self._limit} bytes once inflated; at "
                               "most that many are accepted.")  # fmt: skip
            piece = inflater.unconsumed_tail or inflater.unused_data
        return inflater
