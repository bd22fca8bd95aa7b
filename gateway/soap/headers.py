"""The SOAP header entries the service understands, and SOAP 1.1's rule for the others:
an entry meant for it (no actor, or the next one) and marked ``mustUnderstand="1"`` that
it does not understand refuses the whole request (SOAP 1.1, 4.2.3)."""

from __future__ import annotations

from lxml import etree

from gateway import ns
from gateway.errors import MustUnderstand

UNDERSTOOD = frozenset({f"{{{ns.WSSE}}}Security"})
_MUST_UNDERSTAND = f"{{{ns.SOAP11_ENV}}}mustUnderstand"
_ACTOR = f"{{{ns.SOAP11_ENV}}}actor"
_NEXT = "http://schemas.xmlsoap.org/soap/actor/next"


def check_understood(header: etree._Element | None) -> None:
    """MustUnderstand for the first entry of ``header`` (the SOAP Header) that must be
    understood here and is not."""
    if header is None:
        return
    for entry in header:
        if (
            isinstance(entry.tag, str)
            and entry.get(_MUST_UNDERSTAND, "0").strip() in ("1", "true")
            and entry.get(_ACTOR, _NEXT).strip() == _NEXT
            and entry.tag not in UNDERSTOOD
        ):
            name = etree.QName(entry)
            raise MustUnderstand(
                f"The header entry {name.localname} in {name.namespace or 'no namespace'} "
                "is marked mustUnderstand, and this service does not understand it (it "
                "understands wsse:Security)."
            )
