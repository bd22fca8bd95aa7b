"""gzip for large responses, to the clients that ask for it (``Accept-Encoding``).

A document travels base64-encoded, which gzip takes back by about a quarter, and the
directory's listing is XML, which it shrinks to a tenth or less. Small responses are
sent as they are: compressing them costs more CPU than it saves on the wire. The pieces
are compressed as they are written, so memory stays that of one piece.
"""

from __future__ import annotations

import itertools
import zlib
from collections.abc import Iterable, Iterator

LEVEL = 1
"""zlib's fastest level: on base64 and XML it gains nearly what the slower ones do."""
GZIP_HEADERS = [("Content-Encoding", "gzip"), ("Vary", "Accept-Encoding")]


def accepts_gzip(environ) -> bool:
    """Whether the request's ``Accept-Encoding`` admits gzip (``gzip``, ``x-gzip`` or ``*``
    with a q-value above 0)."""
    for offer in environ.get("HTTP_ACCEPT_ENCODING", "").split(","):
        name, *parameters = (part.strip() for part in offer.split(";"))
        if name.lower() not in ("gzip", "x-gzip", "*"):
            continue
        quality = 1.0
        for parameter in parameters:
            key, _, value = parameter.partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > 0:
            return True
    return False


def compressing(app, environ, start_response, threshold: int) -> Iterable[bytes]:
    """Call the WSGI ``app``; for a client that accepts gzip, compress its answer if it is
    a success of at least ``threshold`` bytes (0: never), or of a length not known ahead
    (written as it is read)."""
    if threshold <= 0 or not accepts_gzip(environ):
        return app(environ, start_response)
    started, chosen = [], []

    def start(status: str, headers: list, exc_info=None):
        started.append(True)
        length = next((v for k, v in headers if k.lower() == "content-length"), None)
        if status.startswith("200") and (length is None or int(length) >= threshold):
            headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
            headers += GZIP_HEADERS
            chosen.append(True)
        return start_response(status, headers, exc_info)

    body = app(environ, start)
    if started and not chosen:
        return body  # answered already, and as it is: nothing to wrap
    return _compressed_if_chosen(body, chosen)


def _compressed_if_chosen(body: Iterable[bytes], chosen: list) -> Iterator[bytes]:
    try:
        pieces = iter(body)
        first = next(pieces, b"")  # an application may start its response only now
        if chosen:
            yield from gzipped(itertools.chain((first,), pieces))
        else:
            yield first
            yield from pieces
    finally:
        close = getattr(body, "close", None)  # what the server would have called
        if close is not None:
            close()


def gzipped(pieces: Iterable[bytes]) -> Iterator[bytes]:
    """``pieces`` as one gzip stream, compressed piece by piece."""
    compressor = zlib.compressobj(LEVEL, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    for piece in pieces:
        compressed = compressor.compress(piece)
        if compressed:
            yield compressed
    yield compressor.flush()
