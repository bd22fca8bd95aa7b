"""The one function that turns untrusted bytes into an XML tree.

No DTD is loaded, no entity is resolved, nothing is fetched from the network,
and the input's size and nesting depth are bounded. A document that declares a
DOCTYPE at all is refused: neither SOAP nor edXML has any use for one.
"""

from __future__ import annotations

from io import BytesIO

from lxml import etree

from gateway.errors import DTDNotAllowed, EmptyRequest, TooLarge, XMLSyntax

_PARSER_OPTIONS = dict(
    resolve_entities=False,
    no_network=True,
    load_dtd=False,
    dtd_validation=False,
    huge_tree=True,  # text nodes over 10 MB (base64 attachments); depth is bounded below
    remove_comments=False,
)


def parse_xml(data: bytes, *, max_bytes: int, max_depth: int) -> etree._Element:
    """Parse ``data`` into its root element or raise a :mod:`gateway.errors` error."""
    if not data or not data.strip():
        raise EmptyRequest()
    if len(data) > max_bytes:
        raise TooLarge(f"The XML is {len(data)} bytes; at most {max_bytes} are accepted.")
    depth = 0
    root = None
    try:
        events = etree.iterparse(BytesIO(data), events=("start", "end"), **_PARSER_OPTIONS)
        for event, element in events:
            if event == "start":
                depth += 1
                if depth > max_depth:
                    raise XMLSyntax(f"The XML is nested deeper than {max_depth} levels.")
                if root is None:
                    root = element
                    _refuse_doctype(root)
            else:
                depth -= 1
    except etree.XMLSyntaxError as exc:
        if "DOCTYPE" in str(exc) or "Entity" in str(exc) or "entity" in str(exc):
            raise DTDNotAllowed() from exc
        raise XMLSyntax(f"The XML is not well-formed: {exc}") from exc
    if root is None:
        raise XMLSyntax("The XML has no root element.")
    _refuse_doctype(root)
    return root


def _refuse_doctype(root: etree._Element) -> None:
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise DTDNotAllowed()
