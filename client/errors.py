"""Errors the connector raises: a fault from the hub, or no hub to talk to."""

from __future__ import annotations


class ConnectorError(Exception):
    """Root of the connector's errors."""


class HubFault(ConnectorError):
    """The hub refused a request; ``code`` is its stable fault code (``Client.Duplicate``)."""

    def __init__(self, code: str, message: str, retry_after: int | None = None):
        self.code = code
        self.message = message
        self.retry_after = retry_after
        """Seconds the hub asked to wait (Server.Busy), if it said."""
        super().__init__(f"{code}: {message}")


class HubUnreachable(ConnectorError):
    """The hub could not be reached or did not answer over HTTP."""
