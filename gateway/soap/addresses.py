"""The address a request came from: the peer's, or, behind a trusted load balancer, the
one its ``X-Forwarded-For`` names."""

from __future__ import annotations

from gateway.security.networks import parse_networks, within


class ClientAddress:
    """Reads a request's client address from its WSGI environ.

    A proxy appends the address it heard from to ``X-Forwarded-For``. Read from the
    right, the entries that trusted proxies added are passed over; the first one left is
    the client (a client can write anything to the left of it, so nothing further left
    is believed). A request whose peer is not a trusted proxy is its own client.
    """

    def __init__(self, trusted_proxies: str):
        self._trusted = parse_networks(trusted_proxies)

    def __call__(self, environ) -> str | None:
        peer = environ.get("REMOTE_ADDR") or None
        if not self._trusted or not within(peer, self._trusted):
            return peer
        hops = [hop.strip() for hop in environ.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        for hop in reversed(hops):
            if hop and not within(hop, self._trusted):
                return hop
        return next((hop for hop in hops if hop), peer)
