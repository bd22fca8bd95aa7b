"""A request's body against its Content-Length.

A body that ends before the length its Content-Length announces was cut short (the
client went away, or a proxy dropped the rest). Even when what arrived happens to be a
complete envelope, it is not read as a request: the hub answers Client.InvalidRequest,
on the streaming front, for a compressed body and on spyne's path alike. A
Content-Length that is not a number is refused before the body is read
(``application.GatewayWsgi``).
"""

from __future__ import annotations

from gateway.errors import InvalidRequest


def declared_length(environ) -> int | None:
    """The Content-Length the request announces, or None (chunked, or not a number in
    ASCII digits: Python's ``isdigit`` also takes "²" and "٣")."""
    length = (environ.get("CONTENT_LENGTH") or "").strip()
    return int(length) if length.isascii() and length.isdigit() else None


def refuse_cut_short(received: int, announced: int) -> None:
    """InvalidRequest when fewer bytes arrived than were announced."""
    if received < announced:
        raise InvalidRequest(
            f"The request ended after {received} of the {announced} bytes its "
            "Content-Length announces; send it again whole."
        )
