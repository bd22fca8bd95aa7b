"""The edXML exchange format: read, check and build messages (pure; lxml only)."""

from gateway.envelope.build import AttachmentFile, build_document, build_status
from gateway.envelope.model import (
    Attachment,
    BusinessType,
    EdxmlMessage,
    MessageKind,
    Organ,
    ResponseFor,
)
from gateway.envelope.parse import parse_message

__all__ = [
    "Attachment",
    "AttachmentFile",
    "BusinessType",
    "EdxmlMessage",
    "MessageKind",
    "Organ",
    "ResponseFor",
    "build_document",
    "build_status",
    "parse_message",
]
