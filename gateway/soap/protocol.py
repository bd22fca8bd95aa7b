"""SOAP 1.1 with the request parsed by the gateway's hardened parser.

spyne's own parsing turns an empty body or a DOCTYPE under schema validation, and a
processing instruction anywhere, into a bare HTTP 500; here every such request becomes
a catalogue fault.
"""

from __future__ import annotations

from lxml import etree
from spyne.protocol.soap import Soap11
from spyne.server.http import HttpTransportContext

from gateway.errors import GatewayError, InvalidRequest, XMLSyntax
from gateway.security.xmlparser import parse_xml
from gateway.soap.faults import to_fault

_has_processing_instruction = etree.XPath("boolean(//processing-instruction())")


class HardenedSoap11(Soap11):
    def __init__(self, *, max_bytes: int, max_depth: int, **kwargs):
        super().__init__(**kwargs)
        self._max_bytes = max_bytes
        self._max_depth = max_depth

    def create_in_document(self, ctx, charset=None):
        try:
            if isinstance(ctx.transport, HttpTransportContext):
                if ctx.transport.get_request_method() != "POST":
                    raise InvalidRequest("SOAP requests must be sent with POST.")
            data = b"".join(
                chunk if isinstance(chunk, bytes) else chunk.encode("utf-8")
                for chunk in ctx.in_string
            )
            root = parse_xml(data, max_bytes=self._max_bytes, max_depth=self._max_depth)
            if _has_processing_instruction(root):
                raise XMLSyntax("A SOAP message must not contain processing instructions.")
        except GatewayError as error:
            raise to_fault(error) from error
        ctx.in_document = (root, {})
