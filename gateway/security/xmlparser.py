"""The one function that turns untrusted bytes into an XML tree.

No DTD is loaded, no entity is resolved, nothing is fetched from the network,
and the input's size and nesting depth are bounded. A document that declares a
DOCTYPE at all is refused: neither SOAP nor edXML has any use for one.
"""

from __future__ import annotations

import functools

from lxml import etree

from gateway.errors import DTDNotAllowed, EmptyRequest, GatewayError, TooLarge, XMLSyntax

_PARSER_OPTIONS = dict(
    resolve_entities=False,
    no_network=True,
    load_dtd=False,
    dtd_validation=False,
    huge_tree=True,  # text nodes over 10 MB (base64 attachments); depth is bounded below
    remove_comments=False,
)


def parse_xml(
    data: bytes, *, max_bytes: int, max_depth: int, skip_text_under: str | None = None
) -> etree._Element:
    """Parse ``data`` into its root element or raise a :mod:`gateway.errors` error.

    With ``skip_text_under`` (a tag), the text inside elements of that tag is left out
    of the tree as it is read: a large base64 attachment nobody reads costs nothing.
    """
    if not data or data.isspace():  # (strip() would copy the whole input)
        raise EmptyRequest()
    if len(data) > max_bytes:
        raise TooLarge(f"The XML is {len(data)} bytes; at most {max_bytes} are accepted.")
    if skip_text_under is not None:
        return _parse_sparing(data, max_depth, skip_text_under)
    try:
        # One call into libxml2 for the whole input: an event-by-event parse hands the
        # interpreter lock back and forth, and costs four times as much beside other
        # threads.
        root = etree.fromstring(data, etree.XMLParser(**_PARSER_OPTIONS))
    except etree.XMLSyntaxError as exc:
        raise _refusal(exc, max_depth) from exc
    if root is None:
        raise XMLSyntax("The XML has no root element.")
    _refuse_doctype(root)
    if nested_deeper_than(max_depth)(root):
        raise XMLSyntax(f"The XML is nested deeper than {max_depth} levels.")
    return root


@functools.cache
def nested_deeper_than(depth: int) -> etree.XPath:
    """Whether a tree has an element more than ``depth`` levels down."""
    return etree.XPath("boolean(" + "/*" * (depth + 1) + ")")


def _refusal(exc: etree.LxmlError, max_depth: int) -> GatewayError:
    """The catalogue error for what libxml2 refused."""
    text = str(exc)
    if "Excessive depth" in text:  # libxml2's own bound, far beyond ours
        return XMLSyntax(f"The XML is nested deeper than {max_depth} levels.")
    if "DOCTYPE" in text or "Entity" in text or "entity" in text:
        return DTDNotAllowed()
    return XMLSyntax(f"The XML is not well-formed: {exc}")


def _refuse_doctype(root: etree._Element) -> None:
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise DTDNotAllowed()


class _SparingTarget:
    """Builds the tree, dropping text under one tag and refusing DOCTYPEs and depth."""

    def __init__(self, max_depth: int, skipped: str):
        self._builder = etree.TreeBuilder()
        self._max_depth = max_depth
        self._skipped = skipped
        self._depth = 0
        self._skipping_from: int | None = None
        self.refusal: GatewayError | None = None
        """Why the target stopped the parse (lxml may report it as another error)."""

    def _refuse(self, error: GatewayError):
        self.refusal = error
        raise error

    def start(self, tag, attrib, nsmap=None):
        self._depth += 1
        if self._depth > self._max_depth:
            self._refuse(XMLSyntax(f"The XML is nested deeper than {self._max_depth} levels."))
        if tag == self._skipped and self._skipping_from is None:
            self._skipping_from = self._depth
        self._builder.start(tag, attrib, tree_nsmap(nsmap))

    def end(self, tag):
        if self._skipping_from == self._depth:
            self._skipping_from = None
        self._depth -= 1
        self._builder.end(tag)

    def data(self, text):
        if self._skipping_from is None:
            self._builder.data(text)

    def comment(self, text):
        self._builder.comment(text)

    def pi(self, target, data=None):
        self._builder.pi(target, data)

    def doctype(self, *_):
        self._refuse(DTDNotAllowed())

    def close(self):
        return self._builder.close()


def tree_nsmap(nsmap) -> dict | None:
    """A parser target's namespace map as a TreeBuilder takes it (None, not "", for the
    default namespace)."""
    return {prefix or None: uri for prefix, uri in nsmap.items()} if nsmap else None


FEED_BYTES = 2**16


def _parse_sparing(data: bytes, max_depth: int, skipped: str) -> etree._Element:
    target = _SparingTarget(max_depth, skipped)
    parser = etree.XMLParser(target=target, **_PARSER_OPTIONS)
    view = memoryview(data)
    try:
        for start in range(0, len(view), FEED_BYTES):
            parser.feed(bytes(view[start : start + FEED_BYTES]))
        root = parser.close()
    except (etree.LxmlError, ValueError, GatewayError) as exc:
        if target.refusal is not None:
            raise target.refusal from exc
        if isinstance(exc, GatewayError):
            raise
        if isinstance(exc, ValueError):  # lxml's verdict on some malformed names
            raise XMLSyntax(f"The XML is not well-formed: {exc}") from exc
        raise _refusal(exc, max_depth) from exc
    if root is None:
        raise XMLSyntax("The XML has no root element.")
    return root
