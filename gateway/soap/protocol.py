"""SOAP 1.1 with the request parsed by the gateway's hardened parser.

spyne's own parsing turns an empty body or a DOCTYPE under schema validation, and a
processing instruction anywhere, into a bare HTTP 500; here every such request becomes
a catalogue fault. Comments are taken out of the tree, their neighbouring texts joined,
as the streaming front reads them: spyne reads only an element's text before its first
comment, and a comment before the operation stops its schema check with an error.
A Document is decoded as the streaming front decodes it: spyne's own decoder passes
over what is not base64 and stops at the first padding, storing other bytes than were
sent.
"""

from __future__ import annotations

from lxml import etree
from spyne.protocol.soap import Soap11

from gateway import ns
from gateway.errors import GatewayError, VersionMismatch, XMLSyntax
from gateway.security.xmlparser import parse_xml
from gateway.soap.faults import to_fault
from gateway.soap.reading import Base64Spool

_has_processing_instruction = etree.XPath("boolean(//processing-instruction())")
_has_comment = etree.XPath("boolean(//comment())")


class HardenedSoap11(Soap11):
    def __init__(self, *, max_bytes: int, max_depth: int, max_document_bytes: int, **kwargs):
        super().__init__(**kwargs)
        self._max_bytes = max_bytes
        self._max_depth = max_depth
        self._max_document_bytes = max_document_bytes

    def create_in_document(self, ctx, charset=None):
        try:
            data = b"".join(
                chunk if isinstance(chunk, bytes) else chunk.encode("utf-8")
                for chunk in ctx.in_string
            )
            root = parse_xml(data, max_bytes=self._max_bytes, max_depth=self._max_depth)
            if _has_processing_instruction(root):
                raise XMLSyntax("A SOAP message must not contain processing instructions.")
            _check_version(root)
            if _has_comment(root):
                etree.strip_tags(root, etree.Comment)
        except GatewayError as error:
            raise to_fault(error) from error
        ctx.in_document = (root, {})

    def byte_array_from_element(self, ctx, cls, element):
        """The bytes of base64 text; b"" if it is not base64, which the operation
        refuses once the caller is signed in."""
        document = Base64Spool(self._max_document_bytes)
        try:
            document.write(element.text or "")
        except GatewayError as error:
            raise to_fault(error) from error
        return (document.finish(),)


def _check_version(root: etree._Element) -> None:
    """VersionMismatch for an Envelope of another SOAP version, or of none: SOAP 1.1
    answers it with that fault rather than as a request it does not understand."""
    name = etree.QName(root)
    if name.localname != "Envelope" or name.namespace == ns.SOAP11_ENV:
        return
    if name.namespace == ns.SOAP12_ENV:
        raise VersionMismatch(
            "This service speaks SOAP 1.1, not SOAP 1.2: send the Envelope in the namespace "
            f"{ns.SOAP11_ENV}, as text/xml (the WSDL's binding says so)."
        )
    raise VersionMismatch()
