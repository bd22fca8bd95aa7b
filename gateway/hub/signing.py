"""Whether a document's signature is acceptable from its sender, and how it is marked."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from gateway.envelope import EdxmlMessage
from gateway.errors import GatewayError, SignatureInvalid, SignatureRequired
from gateway.hub.model import Agency
from gateway.security.signatures import check_certificate, verify_edxml
from gateway.settings import Settings

UNSIGNED, VALID, WEAK = "none", "valid", "weak"


def signature_mark(
    agency: Agency,
    message: EdxmlMessage,
    content: bytes,
    *,
    settings: Settings,
    ca_bundle: bytes | None,
    now: datetime,
) -> str:
    """``none``, ``valid`` or ``weak``; SignatureInvalid or SignatureRequired otherwise.

    A signature is an XML-DSig ``Signature`` in the edXML header; the placeholder
    signatures some systems put in the edXML namespace count as none.
    """
    if not message.has_xml_signature:
        if settings.require_signatures or agency.signature_policy == "required":
            raise SignatureRequired(
                f"Documents from {agency.code} must carry an XML signature in edXMLHeader."
            )
        return UNSIGNED
    if not agency.certificate:
        raise SignatureInvalid(
            f"The document is signed, but no certificate is registered for {agency.code}."
        )
    try:
        check_certificate(agency.certificate, ca_bundle=ca_bundle, now=now)
    except ValueError as exc:
        message = f"The certificate of {agency.code} is not acceptable: {exc}."
        raise SignatureInvalid(message) from exc
    verified = verify_edxml(content, agency.certificate, allow_sha1=settings.allow_sha1_signatures)
    return WEAK if verified.weak else VALID


@dataclass(frozen=True)
class Verdict:
    """A signature's mark, or the refusal, worked out against one certificate."""

    certificate: str | None
    mark: str = ""
    refusal: GatewayError | None = None


class SignatureChecks:
    """Signatures verified before the transaction that stores their document.

    Verifying an XML signature costs about half a millisecond of CPU, as long as the rest
    of a SendDocument's transaction, and on SQLite every other request waits for that
    transaction. So a signed document is verified first against the certificate its
    sender had at its last document (``ahead``); the transaction then uses that verdict
    if the sender still has that certificate, and verifies again only if not (``mark``).
    """

    def __init__(self, settings: Settings, ca_bundle: bytes | None):
        self._settings = settings
        self._ca_bundle = ca_bundle
        self._senders: dict[str, Agency] = {}
        """Each sender as the last transaction that checked its signature found it."""

    def ahead(self, message: EdxmlMessage, content: bytes, now: datetime) -> Verdict | None:
        """The verdict on a signed message from a sender seen before; None otherwise."""
        sender = self._senders.get(message.sender.code)
        if sender is None or not message.has_xml_signature:
            return None
        try:
            return Verdict(sender.certificate, mark=self._mark(sender, message, content, now))
        except GatewayError as refusal:
            return Verdict(sender.certificate, refusal=refusal)

    def mark(
        self, sender: Agency, message: EdxmlMessage, content: bytes, now: datetime,
        ahead: Verdict | None,
    ) -> str:  # fmt: skip
        """``signature_mark`` for ``sender`` as the transaction reads it: ``ahead``'s
        verdict if it was worked out against the same certificate."""
        self._senders[sender.code] = sender
        if ahead is None or ahead.certificate != sender.certificate:
            return self._mark(sender, message, content, now)
        if ahead.refusal is not None:
            raise ahead.refusal
        return ahead.mark

    def _mark(self, sender: Agency, message: EdxmlMessage, content: bytes, now: datetime) -> str:
        return signature_mark(
            sender, message, content, settings=self._settings, ca_bundle=self._ca_bundle,
            now=now,
        )  # fmt: skip
