"""Read an edXML message from bytes: parse safely, check the schema, extract the header."""

from __future__ import annotations

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
from gateway.xmlpaths import Children

_ED = f"{{{ns.EDXML}}}"
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
    # One envelope, header and message header: no field is read from another.
    envelope = _exactly_one(Children(root), root, "edXMLEnvelope")
    in_envelope = Children(envelope)
    edxml_header = _exactly_one(in_envelope, envelope, "edXMLHeader")
    in_edxml_header = Children(edxml_header)
    header = _exactly_one(in_edxml_header, edxml_header, "MessageHeader")
    fields = Children(header)
    sender = _organ(_exactly_one(fields, header, "From"))
    has_xml_signature = in_edxml_header.first(_SIGNATURE) is not None
    if fields.first(_ED + "StatusCode") is not None:
        return _status_message(fields, header, sender, has_xml_signature)
    return EdxmlMessage(
        kind=MessageKind.DOCUMENT,
        sender=sender,
        recipients=_unique(_recipients(fields, header)),
        document_id=_text(_exactly_one(fields, header, "DocumentId")),
        code_number=_find_text(fields, "Code", "CodeNumber"),
        code_notation=_find_text(fields, "Code", "CodeNotation"),
        subject=_find_text(fields, "Subject"),
        document_type=_find_text(fields, "DocumentType", "Type"),
        document_type_name=_find_text(fields, "DocumentType", "TypeName"),
        promulgation_date=_find_text(fields, "PromulgationInfo", "PromulgationDate"),
        **_business(in_edxml_header),
        attachments=_manifest(in_envelope),
        has_xml_signature=has_xml_signature,
    )


def _recipients(fields: Children, header) -> tuple[Organ, ...]:
    recipients = tuple(_organ(to) for to in fields.every(_ED + "To"))
    if not recipients:
        raise InvalidDocument("A document needs at least one To.", path=element_path(header))
    return recipients


def _status_message(fields: Children, header, sender: Organ, has_xml_signature: bool):
    response = _exactly_one(fields, header, "ResponseFor")
    about = Children(response)
    response_for = ResponseFor(
        organ_code=_find_text(about, "OrganId"),
        document_id=_find_text(about, "DocumentId"),
        code=_find_text(about, "Code"),
        promulgation_date=_find_text(about, "PromulgationDate"),
    )
    if not response_for.document_id:
        raise InvalidDocument(
            "A status message needs ResponseFor/DocumentId.", path=element_path(response)
        )
    return EdxmlMessage(
        kind=MessageKind.STATUS,
        sender=sender,
        recipients=tuple(_organ(to) for to in fields.every(_ED + "To")),
        document_id=response_for.document_id,
        status_code=_find_text(fields, "StatusCode"),
        status_description=_find_text(fields, "Description"),
        response_for=response_for,
        has_xml_signature=has_xml_signature,
    )


def _organ(element) -> Organ:
    """A From or To: its code and name."""
    organ = Children(element)
    return Organ(
        code=_text(_exactly_one(organ, element, "OrganId")),
        name=_find_text(organ, "OrganName"),
    )


def _exactly_one(children: Children, parent, name: str):
    """The one child ``name`` (in the edXML namespace) of ``parent``, whose ``children``
    these are; InvalidDocument if there are none or several."""
    found = children.every(_ED + name)
    if len(found) != 1:
        raise InvalidDocument(
            f"Expected exactly one {name}, found {len(found)}.", path=element_path(parent)
        )
    return found[0]


def _text(element) -> str:
    return (element.text or "").strip()


def _find_text(children: Children, name: str, below: str | None = None) -> str:
    """``findtext("name")`` or ``findtext("name/below")`` in the edXML namespace, stripped."""
    text = children.text(_ED + name, None if below is None else _ED + below)
    return (text or "").strip()


def _unique(organs: tuple[Organ, ...]) -> tuple[Organ, ...]:
    seen: dict[str, Organ] = {}
    for organ in organs:
        seen.setdefault(organ.code, organ)
    return tuple(seen.values())


def _business(in_edxml_header: Children) -> dict:
    """What the trace's Bussiness (or Business) block says: the business type, the
    document it is about and the documents it replaces."""
    trace = Children(in_edxml_header.first(_ED + "TraceHeaderList"))
    block = trace.first(_ED + "Bussiness")
    if block is None:
        block = trace.first(_ED + "Business")
    business = Children(block)
    return {
        "business_type": _business_type(business, block),
        "business_document_id": _find_text(business, "DocumentId"),
        "replaced_document_ids": _replaced_ids(business),
    }


def _business_type(business: Children, block) -> BusinessType:
    raw = _find_text(business, "BussinessDocType") or _find_text(business, "BusinessDocType")
    if not raw:
        return BusinessType.NEW
    try:
        return BusinessType(int(raw))
    except ValueError:
        raise InvalidDocument(
            f"BussinessDocType must be 0, 1, 2 or 3, not {raw!r}.", path=element_path(block)
        ) from None


def _replaced_ids(business: Children) -> tuple[str, ...]:
    found = []
    for replacements in business.every(_ED + "ReplacementInfoList"):
        for replacement in Children(replacements).every(_ED + "ReplacementInfo"):
            found += Children(replacement).every(_ED + "DocumentId")
    return tuple(text for element in found if (text := _text(element)))


def _manifest(in_envelope: Children) -> tuple[Attachment, ...]:
    return tuple(
        _attachment(Children(reference))
        for body in in_envelope.every(_ED + "edXMLBody")
        for manifest in Children(body).every(_ED + "edXMLManifest")
        for reference in Children(manifest).every(_ED + "Reference")
    )


def _attachment(reference: Children) -> Attachment:
    return Attachment(
        content_id=_find_text(reference, "ContentId"),
        name=_find_text(reference, "AttachmentName"),
        content_type=_find_text(reference, "ContentType"),
        description=_find_text(reference, "Description"),
    )
