import pytest

from gateway.errors import DTDNotAllowed, EmptyRequest, TooLarge, XMLSyntax
from gateway.security.xmlparser import parse_xml


def parse(data: bytes, max_bytes: int = 1_000_000, max_depth: int = 64):
    return parse_xml(data, max_bytes=max_bytes, max_depth=max_depth)


@pytest.mark.parametrize(
    "data",
    [
        b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>',
        b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "http://127.0.0.1:9/x">]><a>&x;</a>',
        b'<!DOCTYPE a SYSTEM "http://127.0.0.1:9/a.dtd"><a/>',
        b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">'
        b'<!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]><l>&d;&d;&d;&d;</l>',
        b'<!DOCTYPE a [<!ENTITY big "' + b"x" * 50_000 + b'">]><a>' + b"&big;" * 100 + b"</a>",
        b"<!DOCTYPE a><a/>",
    ],
    ids=["xxe-file", "xxe-network", "external-dtd", "billion-laughs", "quadratic", "doctype"],
)
def test_document_type_declarations_are_refused(data):
    with pytest.raises(DTDNotAllowed):
        parse(data)


def test_entity_text_never_reaches_the_tree():
    with pytest.raises(DTDNotAllowed):
        parse(b'<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/hostname">]><a>&x;</a>')


@pytest.mark.parametrize("data", [b"", b"   \n"])
def test_an_empty_body_is_its_own_error(data):
    with pytest.raises(EmptyRequest):
        parse(data)


@pytest.mark.parametrize("data", [b"<a><b>", b"not xml", b"<a></b>", b"\xff\xfe<a/>"])
def test_broken_xml_is_a_syntax_error(data):
    with pytest.raises(XMLSyntax):
        parse(data)


def test_deep_nesting_is_refused():
    with pytest.raises(XMLSyntax, match="nested deeper"):
        parse(b"<a>" * 5000 + b"</a>" * 5000)


def test_nesting_up_to_the_limit_is_accepted():
    assert parse(b"<a>" * 64 + b"</a>" * 64).tag == "a"


def test_input_over_the_size_limit_is_refused_before_parsing():
    with pytest.raises(TooLarge):
        parse(b"<a>" + b"x" * 100 + b"</a>", max_bytes=50)


def test_a_text_node_over_ten_megabytes_is_accepted():
    root = parse(b"<a>" + b"A" * (11 * 1024 * 1024) + b"</a>", max_bytes=20 * 1024 * 1024)
    assert len(root.text) == 11 * 1024 * 1024
