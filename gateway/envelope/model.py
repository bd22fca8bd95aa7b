"""An edXML message as the hub sees it: the header facts it routes and reports by."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

_AGENCY_CODE = re.compile(r"[0-9A-Z]+(\.[0-9A-Z]+)*")


def is_agency_code(code: str) -> bool:
    """Digits, A-Z and dots, at most 35 characters (Decision 20/2020/QD-TTg)."""
    return len(code) <= 35 and _AGENCY_CODE.fullmatch(code) is not None


class MessageKind(enum.StrEnum):
    DOCUMENT = "document"
    STATUS = "status"


class BusinessType(enum.IntEnum):
    """``Bussiness/BussinessDocType``: what a document does to an earlier one."""

    NEW = 0
    REVOKE = 1
    UPDATE = 2
    REPLACE = 3


@dataclass(frozen=True)
class Organ:
    code: str
    name: str = ""


@dataclass(frozen=True)
class Attachment:
    """One manifest reference: what an attachment is, not its bytes."""

    content_id: str
    name: str = ""
    content_type: str = ""
    description: str = ""


@dataclass(frozen=True)
class ResponseFor:
    """The document a status message is about."""

    organ_code: str
    document_id: str
    code: str = ""
    promulgation_date: str = ""


@dataclass(frozen=True)
class EdxmlMessage:
    kind: MessageKind
    sender: Organ
    recipients: tuple[Organ, ...] = ()
    document_id: str = ""
    code_number: str = ""
    code_notation: str = ""
    subject: str = ""
    document_type: str = ""
    document_type_name: str = ""
    promulgation_date: str = ""
    business_type: BusinessType = BusinessType.NEW
    business_document_id: str = ""
    """``Bussiness/DocumentId``: the earlier document a revoke or update concerns."""
    replaced_document_ids: tuple[str, ...] = ()
    attachments: tuple[Attachment, ...] = ()
    status_code: str = ""
    status_description: str = ""
    response_for: ResponseFor | None = None
    has_xml_signature: bool = False

    @property
    def recipient_codes(self) -> tuple[str, ...]:
        return tuple(organ.code for organ in self.recipients)
