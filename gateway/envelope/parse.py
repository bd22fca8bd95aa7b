"""Read an edXML message from bytes: parse safely, check the schema, extract the header."""

from __future__ import annotations

import functools

from gateway import ns
from gateway.envelope.model import (
    Attachment,
    BusinessType,
    EdxmlMessage,
    MessageKind,
    Organ,
    ResponseFor,
)
from gateway.envelope.schema import element_path, validate
from gateway.errors import InvalidDocument
from gateway.security.xmlparser import parse_xml
from gateway.xmlpaths import ChildIndex

_ED = f"{{{ns.EDXML}}}"
_BUSINESS_BLOCKS = (_ED + "Bussiness", _ED + "Business")
_ENVELOPE, _HEADER, _BODY = (_ED + name for name in ("edXMLEnvelope", "edXMLHeader", "edXMLBody"))
_SIGNATURE = f"{{{ns.XMLDSIG}}}Signature"
SPARING_FROM = 2**20
"""Documents from this size on are parsed without their attachment text (it is never
read here). Below it, the plain parse is several times faster, and the text is small."""


def parse_message(data: bytes, *, max_bytes: int, max_depth: int = 64) -> EdxmlMessage:
    """Parse and check an edXML document or status message."""
    root = parse_xml(
        data,
        max_bytes=max_bytes,
        max_depth=max_depth,
        skip_text_under=_ED + "AttachmentEncoded" if len(data) >= SPARING_FROM else None,
    )
    if root.tag != _ED + "edXML":
        raise InvalidDocument(
            f"The root element must be edXML in the namespace {ns.EDXML}.",
            path=element_path(root),
        )
    validate(root)
    tree = ChildIndex()
    header = tree.first(root, _ENVELOPE, _HEADER, _ED + "MessageHeader")
    sender = _organ(tree, _exactly_one(tree, header, "From"))
    if tree.first(header, _ED + "StatusCode") is not None:
        return _status_message(tree, root, header, sender)
    return _document_message(tree, root, header, sender)


def _document_message(tree: ChildIndex, root, header, sender: Organ) -> EdxmlMessage:
    recipients = tuple(_organ(tree, to) for to in tree.children(header, _ED + "To"))
    if not recipients:
        raise InvalidDocument("A document needs at least one To.", path=element_path(header))
    document_id = _text(_exactly_one(tree, header, "DocumentId"))
    business = _business_block(tree, root)
    business_type = _business_type(tree, business)
    return EdxmlMessage(
        kind=MessageKind.DOCUMENT,
        sender=sender,
        recipients=_unique(recipients),
        document_id=document_id,
        code_number=_find_text(tree, header, "Code/CodeNumber"),
        code_notation=_find_text(tree, header, "Code/CodeNotation"),
        subject=_find_text(tree, header, "Subject"),
        document_type=_find_text(tree, header, "DocumentType/Type"),
        document_type_name=_find_text(tree, header, "DocumentType/TypeName"),
        promulgation_date=_find_text(tree, header, "PromulgationInfo/PromulgationDate"),
        business_type=business_type,
        business_document_id=_find_text(tree, business, "DocumentId"),
        replaced_document_ids=_replaced_ids(tree, business),
        attachments=_manifest(tree, root),
        has_xml_signature=_has_xml_signature(tree, root),
    )


def _status_message(tree: ChildIndex, root, header, sender: Organ) -> EdxmlMessage:
    response = _exactly_one(tree, header, "ResponseFor")
    response_for = ResponseFor(
        organ_code=_find_text(tree, response, "OrganId"),
        document_id=_find_text(tree, response, "DocumentId"),
        code=_find_text(tree, response, "Code"),
        promulgation_date=_find_text(tree, response, "PromulgationDate"),
    )
    if not response_for.document_id:
        raise InvalidDocument(
            "A status message needs ResponseFor/DocumentId.", path=element_path(response)
        )
    return EdxmlMessage(
        kind=MessageKind.STATUS,
        sender=sender,
        recipients=tuple(_organ(tree, to) for to in tree.children(header, _ED + "To")),
        document_id=response_for.document_id,
        status_code=_find_text(tree, header, "StatusCode"),
        status_description=_find_text(tree, header, "Description"),
        response_for=response_for,
        has_xml_signature=_has_xml_signature(tree, root),
    )


def _organ(tree: ChildIndex, element) -> Organ:
    return Organ(
        code=_text(_exactly_one(tree, element, "OrganId")),
        name=_find_text(tree, element, "OrganName"),
    )


def _exactly_one(tree: ChildIndex, parent, name: str):
    found = tree.children(parent, _ED + name)
    if len(found) != 1:
        raise InvalidDocument(
            f"Expected exactly one {name}, found {len(found)}.", path=element_path(parent)
        )
    return found[0]


def _text(element) -> str:
    return (element.text or "").strip()


def _find_text(tree: ChildIndex, parent, path: str) -> str:
    """``findtext(path)``, stripped: the text of the first element at ``path``."""
    return (tree.text(parent, *_qualified(path)) or "").strip()


@functools.cache
def _qualified(path: str) -> tuple[str, ...]:
    """``path``'s steps in the edXML namespace."""
    return tuple(_ED + step for step in path.split("/"))


def _unique(organs: tuple[Organ, ...]) -> tuple[Organ, ...]:
    seen: dict[str, Organ] = {}
    for organ in organs:
        seen.setdefault(organ.code, organ)
    return tuple(seen.values())


def _business_block(tree: ChildIndex, root):
    trace = tree.first(root, _ENVELOPE, _HEADER, _ED + "TraceHeaderList")
    for tag in _BUSINESS_BLOCKS:
        block = tree.first(trace, tag)
        if block is not None:
            return block
    return None


def _business_type(tree: ChildIndex, business) -> BusinessType:
    if business is None:
        return BusinessType.NEW
    raw = ""
    for tag in ("BussinessDocType", "BusinessDocType"):
        raw = raw or (tree.text(business, _ED + tag) or "").strip()
    if not raw:
        return BusinessType.NEW
    try:
        return BusinessType(int(raw))
    except ValueError:
        raise InvalidDocument(
            f"BussinessDocType must be 0, 1, 2 or 3, not {raw!r}.", path=element_path(business)
        ) from None


def _replaced_ids(tree: ChildIndex, business) -> tuple[str, ...]:
    if business is None:
        return ()
    ids = tree.every(
        business, _ED + "ReplacementInfoList", _ED + "ReplacementInfo", _ED + "DocumentId"
    )
    return tuple(found for e in ids if (found := _text(e)))


def _manifest(tree: ChildIndex, root) -> tuple[Attachment, ...]:
    references = tree.every(root, _ENVELOPE, _BODY, _ED + "edXMLManifest", _ED + "Reference")
    return tuple(
        Attachment(
            content_id=_find_text(tree, ref, "ContentId"),
            name=_find_text(tree, ref, "AttachmentName"),
            content_type=_find_text(tree, ref, "ContentType"),
            description=_find_text(tree, ref, "Description"),
        )
        for ref in references
    )


def _has_xml_signature(tree: ChildIndex, root) -> bool:
    return tree.first(root, _ENVELOPE, _HEADER, _SIGNATURE) is not None
