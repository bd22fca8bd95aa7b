import pytest

from gateway.envelope import BusinessType, MessageKind, parse_message
from gateway.envelope import parse as envelope_parse
from gateway.errors import DTDNotAllowed, InvalidDocument, XMLSyntax
from gateway.xmlpaths import Children
from tests.builders import G12, H31, H49, REAL, document, sample, status

LIMIT = 10 * 1024 * 1024


@pytest.fixture(autouse=True, params=["plain", "sparing"])
def parse_mode(request, monkeypatch):
    """Every test runs on both parses: the plain one small documents get, and the one
    that leaves attachment text out, which large documents get."""
    if request.param == "sparing":
        monkeypatch.setattr(envelope_parse, "SPARING_FROM", 0)


def parse(data: bytes):
    return parse_message(data, max_bytes=LIMIT)


def test_reads_the_routing_facts_of_our_sample():
    message = parse(sample("document-512.edxml"))
    assert message.kind is MessageKind.DOCUMENT
    assert message.sender.code == G12
    assert message.recipient_codes == (H31, H49)
    assert message.document_id == "000.00.00.G12,2013/02/20,512/BTTTT-ƯDCNTT"
    assert message.code_number == "512"
    assert message.code_notation == "BTTTT-ƯDCNTT"
    assert message.document_type_name == "Công văn"
    assert message.business_type is BusinessType.NEW
    assert [a.name for a in message.attachments] == ["cv512.pdf"]
    assert message.subject.startswith("Hướng dẫn kỹ thuật liên thông")


@pytest.mark.parametrize(
    "name, business_type",
    [
        ("edoc_new.edxml", BusinessType.NEW),
        ("edoc_revocation.edxml", BusinessType.REVOKE),
        ("edoc_update.edxml", BusinessType.UPDATE),
        ("edoc_replacement.edxml", BusinessType.REPLACE),
        ("dc0bdef0-c7a3-4aaf-b717-777303442973.edxml", BusinessType.NEW),
    ],
)
def test_accepts_real_documents_with_their_quirks(name, business_type):
    message = parse((REAL / name).read_bytes())
    assert message.kind is MessageKind.DOCUMENT
    assert message.business_type is business_type
    assert message.recipients
    assert not message.has_xml_signature  # the placeholder Signature is not XML-DSig


def test_accepts_a_three_group_agency_code_from_real_traffic():
    assert parse(sample("edoc_new.edxml")).recipient_codes == ("28.22.H17",)


def test_reads_replaced_document_ids():
    message = parse(sample("edoc_replacement.edxml"))
    assert message.replaced_document_ids


@pytest.mark.parametrize(
    "name, code",
    [(p.name, p.name.split("_")[-1][:2]) for p in sorted(REAL.glob("status_*.edxml"))],
)
def test_reads_real_status_messages(name, code):
    message = parse(sample(name))
    assert message.kind is MessageKind.STATUS
    assert message.status_code == code
    assert message.response_for.document_id == "000.00.00.G22,2015/09/30,7816/VPCP-TTĐT"


def test_the_malformed_real_message_is_an_xml_syntax_error():
    with pytest.raises(XMLSyntax):
        parse(sample("edoc.edxml"))


def test_built_documents_round_trip_vietnamese_text():
    message = parse(document(subject="Công văn số 15 về chuyển đổi số — ưu tiên"))
    assert message.subject == "Công văn số 15 về chuyển đổi số — ưu tiên"
    assert message.attachments[0].name == "công-văn.pdf"


def test_built_status_messages_parse():
    message = parse(status(H31, G12, "X,1", code="05"))
    assert (message.kind, message.sender.code, message.status_code) == (
        MessageKind.STATUS,
        H31,
        "05",
    )
    assert message.response_for.organ_code == G12


def test_an_invalid_agency_code_names_its_path():
    with pytest.raises(InvalidDocument) as caught:
        parse(document(recipients=("abc.def",)))
    assert caught.value.path == "/edXML/edXMLEnvelope/edXMLHeader/MessageHeader/To/OrganId"
    assert "abc.def" in caught.value.message


def test_an_agency_code_longer_than_35_characters_is_refused():
    with pytest.raises(InvalidDocument):
        parse(document(recipients=("1." * 18 + "A",)))


def test_a_document_without_recipients_is_refused():
    data = document().replace(b"<edXML:To>", b"<edXML:Cc>").replace(b"</edXML:To>", b"</edXML:Cc>")
    with pytest.raises(InvalidDocument, match="at least one To"):
        parse(data)


def test_a_document_without_document_id_is_refused():
    data = document().replace(b"DocumentId>", b"DocumentRef>")
    with pytest.raises(InvalidDocument, match="exactly one DocumentId"):
        parse(data)


def test_an_empty_document_id_is_refused():
    with pytest.raises(InvalidDocument):
        parse(document(document_id=" "))


def test_two_senders_are_refused():
    data = document()
    start = data.index(b"<edXML:From>")
    end = data.index(b"</edXML:From>") + len(b"</edXML:From>")
    data = data[:end] + data[start:end] + data[end:]
    with pytest.raises(InvalidDocument, match="exactly one From"):
        parse(data)


@pytest.mark.parametrize("element", ["edXMLEnvelope", "edXMLHeader", "MessageHeader"])
def test_a_second_header_is_refused(element):
    """Every field is read from the one header, never from another."""
    data = document()
    start = data.index(f"<edXML:{element}>".encode())
    end = data.index(f"</edXML:{element}>".encode()) + len(f"</edXML:{element}>")
    data = data[:end] + data[start:end] + data[end:]
    with pytest.raises(InvalidDocument, match=f"exactly one {element}, found 2"):
        parse(data)


def test_another_root_element_is_refused():
    with pytest.raises(InvalidDocument, match="root element"):
        parse(b"<edXML><x/></edXML>")


def test_an_unknown_business_type_is_refused():
    data = document().replace(b"<edXML:BussinessDocType>0<", b"<edXML:BussinessDocType>9<")
    with pytest.raises(InvalidDocument, match="BussinessDocType"):
        parse(data)


def test_unknown_elements_are_tolerated():
    data = document().replace(
        b"<edXML:Subject>",
        b"<edXML:Extension><edXML:Anything>x</edXML:Anything></edXML:Extension><edXML:Subject>",
    )
    assert parse(data).subject


def test_a_document_carrying_a_dtd_is_refused():
    data = document().replace(
        b"<edXML:edXML", b'<!DOCTYPE edXML [<!ENTITY x "y">]>\n<edXML:edXML', 1
    )
    with pytest.raises(DTDNotAllowed):
        parse(data)


@pytest.mark.parametrize("path", ["Code/CodeNumber", "Code", "Subject", "Missing/CodeNumber"])
def test_header_fields_are_found_as_findtext_finds_them(path):
    """The first match in document order, past a first Code without the field, a
    comment and a Code of another namespace."""
    from lxml import etree

    from gateway import ns

    ed = envelope_parse._ED
    header = etree.fromstring(
        f'<h xmlns="{ns.EDXML}"><Code><CodeNotation>A</CodeNotation></Code><!-- x -->'
        '<o:Code xmlns:o="urn:other"><CodeNumber>0</CodeNumber></o:Code>'
        "<Code> <CodeNumber> 12 </CodeNumber><CodeNumber>13</CodeNumber></Code>"
        "<Subject>Công văn</Subject></h>"
    )
    expected = (header.findtext(ed + path.replace("/", "/" + ed)) or "").strip()
    assert envelope_parse._find_text(Children(header), *path.split("/")) == expected
    assert path != "Code/CodeNumber" or expected == "12"
