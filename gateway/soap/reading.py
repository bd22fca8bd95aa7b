"""Reading a request of the streamed operations: from its parsed tree when it is small,
in pieces as it arrives when it is large, by the same rules either way.

A request is one of SendDocument, GetDocuments, AckDocument or GetAgencies exactly as the
contract writes it, or it is Unusual: another operation, an unexpected element, attribute
or text, a processing instruction, a comment in the header, a DOCTYPE, a code that is
not one.
The Document's base64 is decoded as it is read, and one over the limit is refused
(TooLarge) at the point where the reading reaches the limit; text that is not base64
leaves the request with no document, which the front refuses.
"""

from __future__ import annotations

import binascii
import re
import tempfile
from collections.abc import Callable, Iterator

import pybase64
from lxml import etree

from gateway import ns
from gateway.errors import TooLarge
from gateway.hub.hub import MAX_ACK_IDS
from gateway.security.xmlparser import nested_deeper_than, tree_nsmap
from gateway.settings import Settings

SPOOL_IN_MEMORY = 2**20
"""Spools keep this much in memory before they move to a temporary file."""
PARSER_OPTIONS = dict(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True)
"""The same hardening as every parse: no DTD, no entities, no network."""

_ENVELOPE, _HEADER, _BODY = (
    f"{{{ns.SOAP11_ENV}}}{name}" for name in ("Envelope", "Header", "Body")
)
_OPERATIONS = {
    f"{{{ns.GATEWAY}}}{name}": name
    for name in ("SendDocument", "GetDocuments", "AckDocument", "GetAgencies")
}
"""The streamed operations' elements, and their names."""
_DOCUMENT, _MAX_COUNT, _MESSAGE_IDS, _PARENT_CODE, _AFTER = (
    f"{{{ns.GATEWAY}}}{name}"
    for name in ("Document", "MaxCount", "MessageIds", "ParentCode", "After")
)
_OWN_TEXT = {_MAX_COUNT: 100, _MESSAGE_IDS: 1000, _PARENT_CODE: 35, _AFTER: 35}
"""The elements whose text is collected, and the longest text each may have here."""
_OPTIONAL_FIELDS = {
    "GetDocuments": (_MAX_COUNT,),
    "GetAgencies": (_PARENT_CODE, _AFTER, _MAX_COUNT),
}
"""The fields these operations may have, each at most once and in this order."""
_CODE = re.compile(r"[0-9A-Z.]*")
"""What a code read here may hold; anything else goes to spyne, which takes it as it is."""
_XML_SPACE = b" \t\r\n"
_XML_SPACES = tuple(_XML_SPACE[i : i + 1] for i in range(len(_XML_SPACE)))


class Unusual(Exception):
    """Not a request of the streamed operations: spyne takes it."""


NOT_BASE64 = "Document must be the base64 encoding of an edXML message."


class Base64Spool:
    """Decodes base64 text as it arrives, up to ``limit`` bytes: kept in memory up to
    SPOOL_IN_MEMORY, in a temporary file past that.

    Text that is not base64 leaves no document (``finish`` gives b"", which the front
    refuses once the caller is signed in). It is not handed to spyne: spyne would read
    the whole request into memory several times over, then pass over the characters it
    does not know and stop at the first padding, storing other bytes than were sent."""

    def __init__(self, limit: int):
        self._pieces: list[bytes] = []
        """The decoded bytes, until they pass SPOOL_IN_MEMORY; then they go to a file."""
        self._file = None
        self.size = 0
        self._limit = limit
        self._pending = b""
        self._padded = False
        self._invalid = False

    def write(self, text: str) -> None:
        if self._invalid:
            return
        encoded = text.encode("ascii", "replace")
        if any(space in encoded for space in _XML_SPACES):  # a search is cheaper than a copy
            encoded = encoded.translate(None, _XML_SPACE)
        encoded = self._pending + encoded if self._pending else encoded
        if self._padded and encoded:
            return self._not_base64()  # it goes on after its padding
        whole = len(encoded) - len(encoded) % 4
        self._pending = encoded[whole:]
        self._decode(encoded[:whole])

    def finish(self) -> bytes:
        """The decoded bytes (read once, here, for the hub); b"" if they were not base64."""
        if self._pending:
            self._not_base64()  # its length is not a multiple of 4
        if self._invalid:
            return b""
        if self._file is None:
            return self._pieces[0] if len(self._pieces) == 1 else b"".join(self._pieces)
        self._file.seek(0)
        return self._file.read()

    def _decode(self, encoded: bytes) -> None:
        if not encoded:
            return
        self._padded = encoded.endswith(b"=")
        try:
            decoded = pybase64.b64decode(encoded, validate=True)
        except binascii.Error:
            return self._not_base64()
        self.size += len(decoded)
        if self.size > self._limit:
            raise TooLarge(f"The document is over {self._limit} bytes; at most {self._limit} "
                           "are accepted.")  # fmt: skip
        if self._file is not None:
            self._file.write(decoded)
        elif self.size <= SPOOL_IN_MEMORY:
            self._pieces.append(decoded)
        else:
            self._file = tempfile.TemporaryFile()
            self._file.writelines((*self._pieces, decoded))
            self._pieces = []

    def _not_base64(self) -> None:
        self._invalid, self._pending, self._pieces = True, b"", []
        if self._file is not None:
            self._file.close()
            self._file = None


class Request:
    """What a request of one of the streamed operations carries, once read."""

    def __init__(self):
        self.header: etree._Element | None = None
        self.operation: str | None = None
        """The operation's name."""
        self.document: Base64Spool | None = None
        self.message_ids: list[str] = []
        self._fields: dict[str, str] = {}
        """The optional fields' texts, by tag."""
        self._field = ""
        """The optional field being read."""

    @property
    def max_count(self) -> str | None:
        return self._fields.get(_MAX_COUNT)

    @property
    def parent_code(self) -> str | None:
        return self._fields.get(_PARENT_CODE)

    @property
    def after(self) -> str | None:
        return self._fields.get(_AFTER)

    def opened(self, tag: str, settings: Settings) -> Callable[[str], None]:
        """Take note of an element four levels down (an operation's field), and return
        what receives its text; Unusual if the operation has no such field here."""
        if tag == _DOCUMENT and self.operation == "SendDocument" and self.document is None:
            self.document = Base64Spool(settings.max_document_bytes)
            return self.document.write
        if tag == _MESSAGE_IDS and self.operation == "AckDocument":
            if len(self.message_ids) == MAX_ACK_IDS:
                raise Unusual("too many MessageIds")
            self.message_ids.append("")
            return self._add_to_message_id
        fields = _OPTIONAL_FIELDS.get(self.operation, ())
        if tag in fields and all(fields.index(seen) < fields.index(tag) for seen in self._fields):
            self._fields[tag] = ""
            self._field = tag
            return self._add_to_field
        raise Unusual(f"unexpected {tag}")

    def closed(self, tag: str) -> None:
        if tag == _MESSAGE_IDS and "\r" in self.message_ids[-1]:
            raise Unusual("a carriage return, which spyne writes back as a reference")
        if tag in (_PARENT_CODE, _AFTER) and not _CODE.fullmatch(self._fields[tag]):
            raise Unusual(f"{tag} is not a code")

    def _add_to_field(self, text: str) -> None:
        tag = self._field
        self._fields[tag] = _within(self._fields[tag] + text, tag)

    def _add_to_message_id(self, text: str) -> None:
        self.message_ids[-1] = _within(self.message_ids[-1] + text, _MESSAGE_IDS)


def _within(text: str, tag: str) -> str:
    if len(text) > _OWN_TEXT[tag]:
        raise Unusual(f"{tag} too long")
    return text


def _ignorable(text: str | None) -> None:
    """Text between elements may only be white space."""
    if text and text.strip():
        raise Unusual("unexpected text")


class RequestReader:
    """An lxml parser target that reads a request in pieces, as they arrive."""

    def __init__(self, settings: Settings):
        self._settings = settings
        self._depth = 0
        self._header: etree.TreeBuilder | None = None
        self._field: Callable[[str], None] | None = None
        self.request = Request()

    def start(self, tag, attrib, nsmap=None):
        self._depth += 1
        depth, request = self._depth, self.request
        if depth > self._settings.max_xml_depth:
            raise Unusual("too deep")
        if self._header is not None:
            self._header.start(tag, attrib, tree_nsmap(nsmap))
            return
        if depth == 1 and tag == _ENVELOPE or depth == 2 and tag == _BODY and not attrib:
            return
        if depth == 2 and tag == _HEADER and request.header is None and request.operation is None:
            self._header = etree.TreeBuilder()
            self._header.start(tag, attrib, tree_nsmap(nsmap))
            return
        if depth == 3 and request.operation is None and tag in _OPERATIONS and not attrib:
            request.operation = _OPERATIONS[tag]
            return
        if depth == 4 and not attrib:
            self._field = request.opened(tag, self._settings)
            return
        raise Unusual(f"unexpected {tag}")

    def end(self, tag):
        depth = self._depth
        self._depth -= 1
        if self._header is not None:
            self._header.end(tag)
            if depth == 2:
                self.request.header = self._header.close()
                self._header = None
        elif self._field is not None:
            self._field = None
            self.request.closed(tag)

    def data(self, text):
        if self._header is not None:
            self._header.data(text)
        elif self._field is not None:
            self._field(text)
        else:
            _ignorable(text)

    def comment(self, _text):
        if self._header is not None:
            raise Unusual("a comment in the header")

    def doctype(self, *_):
        raise Unusual("DOCTYPE")

    def pi(self, *_):
        raise Unusual("processing instruction")

    def close(self):
        return None


def read_tree(root: etree._Element, body: bytes, settings: Settings) -> Request:
    """The request in a parsed tree, read by RequestReader's rules in document order
    (so that a document over the limit is refused at the same point)."""
    if root.getroottree().docinfo.doctype:
        raise Unusual("DOCTYPE")
    if nested_deeper_than(settings.max_xml_depth)(root):
        return read_in_pieces(body, settings)  # rare: where the reader stops matters
    if root.tag != _ENVELOPE:
        raise Unusual(f"unexpected {root.tag}")
    _no_instruction_in(root.itersiblings(preceding=True))
    request = Request()
    _ignorable(root.text)
    for child in _elements_of(root):
        if child.tag == _HEADER and request.header is None and request.operation is None:
            if next(child.iter(etree.Comment, etree.ProcessingInstruction), None) is not None:
                raise Unusual("a comment or processing instruction in the header")
            request.header = child
        elif child.tag == _BODY and not child.attrib:
            _read_body(child, request, settings)
        else:
            raise Unusual(f"unexpected {child.tag}")
    _no_instruction_in(root.itersiblings())
    return request


def _read_body(body: etree._Element, request: Request, settings: Settings) -> None:
    _ignorable(body.text)
    for operation in _elements_of(body):
        if request.operation is not None or operation.tag not in _OPERATIONS or operation.attrib:
            raise Unusual(f"unexpected {operation.tag}")
        request.operation = _OPERATIONS[operation.tag]
        _ignorable(operation.text)
        for field in _elements_of(operation):
            if field.attrib:
                raise Unusual(f"unexpected {field.tag}")
            receive = request.opened(field.tag, settings)
            for text in _text_of(field):
                receive(text)
            request.closed(field.tag)


def _elements_of(parent: etree._Element) -> Iterator[etree._Element]:
    """``parent``'s child elements; comments are passed over, the text after each child
    must be white space, and a processing instruction is Unusual."""
    for child in parent:
        if isinstance(child, etree._ProcessingInstruction):
            raise Unusual("processing instruction")
        if not isinstance(child, etree._Comment):
            yield child
        _ignorable(child.tail)


def _text_of(field: etree._Element) -> Iterator[str]:
    """A field's text, in the pieces its comments cut it into; it holds no elements."""
    if field.text:
        yield field.text
    for child in field:
        if not isinstance(child, etree._Comment):
            raise Unusual(f"unexpected {child.tag}")
        if child.tail:
            yield child.tail


def _no_instruction_in(nodes) -> None:
    for node in nodes:
        if isinstance(node, etree._ProcessingInstruction):
            raise Unusual("processing instruction")


def read_in_pieces(body: bytes, settings: Settings) -> Request:
    """``body`` read through RequestReader, as a large request is."""
    reader = RequestReader(settings)
    parser = etree.XMLParser(target=reader, **PARSER_OPTIONS)
    parser.feed(body)
    parser.close()
    refuse_passed_over_errors(parser)
    return reader.request


def refuse_passed_over_errors(parser: etree.XMLParser) -> None:
    """Unusual if the parser has passed over an error so far: lxml's parser with a
    target reads on past an undeclared namespace prefix, which its tree parser refuses."""
    if parser.feed_error_log.filter_from_errors():
        raise Unusual("an error the parser passed over")
