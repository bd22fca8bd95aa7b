"""The gateway's one error tree.

Each error a caller can cause carries a stable fault code (``Client.*``, and SOAP's own
``VersionMismatch`` and ``MustUnderstand``); the server's own failures are ``Server.*``.
The SOAP layer turns any :class:`GatewayError` into a SOAP fault with that code and the
message; the catalogue below is also the README's fault table.
"""

from __future__ import annotations

from gateway.ns import SOAP11_ENV


class AdminError(Exception):
    """An operator's command that cannot be carried out; the message says why."""


class GatewayError(Exception):
    """Root of every error the gateway reports to a caller."""

    code = "Server.Internal"
    default_message = "The gateway failed to process the request."

    def __init__(self, message: str | None = None):
        self.message = message or self.default_message
        super().__init__(self.message)


class AuthenticationFailed(GatewayError):
    code = "Client.Authentication"
    default_message = "Authentication failed."


class InvalidDocument(GatewayError):
    code = "Client.InvalidDocument"
    default_message = "The document does not conform to the edXML schema."

    def __init__(self, message: str | None = None, path: str | None = None):
        self.path = path
        full = message or self.default_message
        if path:
            full = f"{full} (at {path})"
        super().__init__(full)


class VersionMismatch(GatewayError):
    """SOAP 1.1's own fault for an Envelope in another namespace (SOAP 1.1, 4.4.1)."""

    code = "VersionMismatch"
    default_message = f"The Envelope must be in the SOAP 1.1 namespace {SOAP11_ENV}."


class MustUnderstand(GatewayError):
    """SOAP 1.1's own fault for a header entry meant for the service and marked
    ``mustUnderstand`` that the service does not understand (SOAP 1.1, 4.2.3)."""

    code = "MustUnderstand"
    default_message = "A header entry marked mustUnderstand is not understood here."


class InvalidRequest(GatewayError):
    code = "Client.InvalidRequest"
    default_message = "The request does not conform to the service contract."


class UnknownRecipient(GatewayError):
    code = "Client.UnknownRecipient"
    default_message = "A recipient is not a registered, active agency."


class SenderMismatch(GatewayError):
    code = "Client.SenderMismatch"
    default_message = "The document's sender is not the authenticated agency."


class Duplicate(GatewayError):
    code = "Client.Duplicate"
    default_message = "A different document with this DocumentId was already sent."


class UnknownDocument(GatewayError):
    code = "Client.UnknownDocument"
    default_message = "No document with this DocumentId was exchanged with this agency."


class SignatureInvalid(GatewayError):
    code = "Client.SignatureInvalid"
    default_message = (
        "The document's XML signature does not verify against the sender's certificate."
    )


class SignatureRequired(GatewayError):
    code = "Client.SignatureRequired"
    default_message = "This hub requires documents from this agency to be signed."


class TooLarge(GatewayError):
    code = "Client.TooLarge"
    default_message = "The request is larger than the gateway accepts."


class XMLSyntax(GatewayError):
    code = "Client.XMLSyntax"
    default_message = "The XML is not well-formed."


class DTDNotAllowed(GatewayError):
    code = "Client.DTDNotAllowed"
    default_message = "Document type declarations and entities are not allowed."


class EmptyRequest(GatewayError):
    code = "Client.EmptyRequest"
    default_message = "The request body is empty."


class Busy(GatewayError):
    code = "Server.Busy"
    default_message = "The hub is busy; retry after the number of seconds in RetryAfter."

    def __init__(self, message: str | None = None, retry_after: int = 1):
        self.retry_after = max(1, int(retry_after))
        super().__init__(message)


class Unavailable(GatewayError):
    code = "Server.Unavailable"
    default_message = "The gateway's database is unavailable; try again later."


CATALOGUE: tuple[type[GatewayError], ...] = (
    AuthenticationFailed,
    InvalidDocument,
    InvalidRequest,
    VersionMismatch,
    MustUnderstand,
    UnknownRecipient,
    SenderMismatch,
    Duplicate,
    UnknownDocument,
    SignatureInvalid,
    SignatureRequired,
    TooLarge,
    XMLSyntax,
    DTDNotAllowed,
    EmptyRequest,
    Busy,
    Unavailable,
    GatewayError,
)
"""Every fault the gateway can answer with, as documented in the README."""
