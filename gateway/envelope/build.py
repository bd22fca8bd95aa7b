"""Write edXML messages: documents and status messages, for the connector and tests."""

from __future__ import annotations

import base64
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from lxml import etree
from lxml.builder import ElementMaker

from gateway import ns
from gateway.envelope.model import BusinessType, Organ, ResponseFor

E = ElementMaker(namespace=ns.EDXML, nsmap={"edXML": ns.EDXML})


@dataclass(frozen=True)
class AttachmentFile:
    name: str
    content: bytes
    content_type: str = "application/octet-stream"
    description: str = ""


def build_document(
    *,
    sender: Organ,
    recipients: Iterable[Organ],
    document_id: str,
    subject: str,
    code_number: str = "",
    code_notation: str = "",
    document_type: str = "1",
    document_type_name: str = "Công văn",
    promulgation_date: str = "",
    content: str = "",
    business_type: BusinessType = BusinessType.NEW,
    business_document_id: str = "",
    attachments: Iterable[AttachmentFile] = (),
    timestamp: str | None = None,
) -> bytes:
    """An edXML document message, UTF-8 encoded; ``timestamp`` defaults to now."""
    attachments = list(attachments)
    header = E.MessageHeader(
        _organ("From", sender),
        *(_organ("To", organ) for organ in recipients),
        E.DocumentId(document_id),
        E.Code(E.CodeNumber(code_number), E.CodeNotation(code_notation)),
        E.PromulgationInfo(E.Place(""), E.PromulgationDate(promulgation_date)),
        E.DocumentType(E.Type(document_type), E.TypeName(document_type_name)),
        E.Subject(subject),
        E.Content(content),
    )
    business = E.Bussiness(E.BussinessDocType(str(int(business_type))))
    if business_document_id:
        business.insert(0, E.DocumentId(business_document_id))
    trace = E.TraceHeaderList(
        E.TraceHeader(E.OrganId(sender.code), E.Timestamp(timestamp or _now())), business
    )
    manifest = E.edXMLManifest(
        *(
            E.Reference(
                E.ContentId(f"cid:{index}"),
                E.ContentType(a.content_type),
                E.Description(a.description),
                E.AttachmentName(a.name),
            )
            for index, a in enumerate(attachments, 1)
        ),
        version="1.0",
    )
    root = E.edXML(E.edXMLEnvelope(E.edXMLHeader(header, trace), E.edXMLBody(manifest)))
    if attachments:
        root.append(
            E.AttachmentEncoded(
                *(
                    E.Attachment(
                        E.ContentId(f"cid:{index}"),
                        E.AttachmentName(a.name),
                        E.Description(a.description),
                        E.ContentType(a.content_type),
                        E.ContentTransferEncoded(base64.b64encode(a.content).decode("ascii")),
                    )
                    for index, a in enumerate(attachments, 1)
                )
            )
        )
    return _serialize(root)


def build_status(
    *,
    sender: Organ,
    response_for: ResponseFor,
    status_code: str,
    description: str = "",
    staff: str = "",
    department: str = "",
    timestamp: str | None = None,
) -> bytes:
    """An edXML status message about ``response_for``, UTF-8 encoded."""
    header = E.MessageHeader(
        _organ("From", sender),
        E.ResponseFor(
            E.OrganId(response_for.organ_code),
            E.Code(response_for.code),
            E.PromulgationDate(response_for.promulgation_date),
            E.DocumentId(response_for.document_id),
        ),
        E.StaffInfo(E.Department(department), E.Staff(staff)),
        E.StatusCode(status_code),
        E.Description(description),
        E.Timestamp(timestamp or _now()),
    )
    return _serialize(E.edXML(E.edXMLEnvelope(E.edXMLHeader(header))))


def _organ(tag: str, organ: Organ):
    return E(tag, E.OrganId(organ.code), E.OrganName(organ.name))


def _now() -> str:
    return datetime.now().strftime("%Y/%m/%d %H:%M:%S")


def _serialize(root) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
