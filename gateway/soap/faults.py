"""Gateway errors as SOAP faults, and spyne's own faults mapped onto the same catalogue."""

from __future__ import annotations

import logging
import re

from lxml.builder import ElementMaker
from spyne import Fault

from gateway import ns
from gateway.errors import (
    CATALOGUE,
    Busy,
    GatewayError,
    InvalidDocument,
    InvalidRequest,
    TooLarge,
    XMLSyntax,
)

log = logging.getLogger("gateway.faults")
_DETAIL = ElementMaker(namespace=ns.GATEWAY, nsmap={"lt": ns.GATEWAY})

_SPYNE_CODES = {
    "Client.XMLSyntaxError": XMLSyntax,
    "Client.RequestTooLong": TooLarge,
}
"""spyne's fault codes that have a counterpart in our catalogue; other Client ones are
InvalidRequest."""


def to_fault(error: GatewayError) -> Fault:
    """The SOAP fault for ``error``: its stable code, its message, and a detail element."""
    detail = _DETAIL.FaultDetail(_DETAIL.Code(error.code))
    if isinstance(error, InvalidDocument) and error.path:
        detail.append(_DETAIL.Path(error.path))
    if isinstance(error, Busy):
        detail.append(_DETAIL.RetryAfter(str(error.retry_after)))
    return Fault(faultcode=error.code, faultstring=error.message, detail=detail)


def normalize(fault: Fault) -> Fault:
    """Map a fault raised inside spyne onto our catalogue; ours pass through."""
    code = fault.faultcode or ""
    code = code.split(":", 1)[-1]
    if _is_ours(code):
        return fault
    if code in _SPYNE_CODES:
        return to_fault(_SPYNE_CODES[code](_plain(fault.faultstring)))
    if code.startswith("Client"):
        return to_fault(InvalidRequest(_plain(fault.faultstring)))
    return to_fault(GatewayError())


def log_fault(fault: Fault) -> None:
    code = (fault.faultcode or "").split(":", 1)[-1]
    if code.startswith("Server"):
        log.error("failed: %s: %s", code, fault.faultstring)
    else:
        log.warning("refused: %s: %s", code, fault.faultstring)


_LIBXML_PREFIX = re.compile(r"^.*?:ERROR:\w+:\w+: ")
_OUR_CODES = frozenset(error.code for error in CATALOGUE)


def _is_ours(code: str) -> bool:
    return code in _OUR_CODES


def _plain(text) -> str:
    """spyne's fault strings, without libxml2's location prefix or a bytes repr."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    text = _LIBXML_PREFIX.sub("", str(text or "").strip())
    return text[:500] if text else "The request does not conform to the service contract."
