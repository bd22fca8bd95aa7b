"""Test data: edXML messages and the paths of the sample files."""

from __future__ import annotations

from pathlib import Path

from gateway.envelope import AttachmentFile, Organ, ResponseFor, build_document, build_status

DATA = Path(__file__).parent / "data"
REAL = DATA / "real"

G12 = "000.00.00.G12"
H31 = "000.00.00.H31"
H49 = "000.00.00.H49"


def document(
    sender: str = G12,
    recipients: tuple[str, ...] = (H31, H49),
    document_id: str = "000.00.00.G12,2024/05/01,15/BTTTT-VP",
    subject: str = "Về việc triển khai liên thông văn bản điện tử",
    attachment: bytes | None = b"%PDF-1.4 n\xe1\xbb\x99i dung",
    **kwargs,
) -> bytes:
    attachments = (
        [AttachmentFile("công-văn.pdf", attachment, "application/pdf", "Công văn")]
        if attachment is not None
        else []
    )
    return build_document(
        sender=Organ(sender, "Bộ Thông tin và Truyền thông"),
        recipients=[Organ(code, f"Cơ quan {code}") for code in recipients],
        document_id=document_id,
        subject=subject,
        attachments=attachments,
        timestamp=kwargs.pop("timestamp", "2024/05/01 08:00:00"),
        **kwargs,
    )


def status(sender: str, original_sender: str, document_id: str, code: str = "03") -> bytes:
    return build_status(
        sender=Organ(sender, "UBND tỉnh"),
        response_for=ResponseFor(original_sender, document_id),
        status_code=code,
        description="Đã tiếp nhận",
        staff="Lê Văn C",
        timestamp="2024/05/01 09:00:00",
    )


def sample(name: str) -> bytes:
    path = DATA / name
    if not path.exists():
        path = REAL / name
    return path.read_bytes()
