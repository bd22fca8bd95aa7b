"""Whether a document's signature is acceptable from its sender, and how it is marked."""

from __future__ import annotations

from datetime import datetime

from gateway.envelope import EdxmlMessage
from gateway.errors import SignatureInvalid, SignatureRequired
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
