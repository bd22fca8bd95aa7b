"""Hostile requests: each gets its catalogue fault as SOAP, and the store is unchanged."""

import functools
import gzip
import io
import uuid
import zlib

import pytest
from lxml import etree

from gateway import ns
from tests.builders import G12, H31, H49, document
from tests.wsgi import REQUEST_PATHS, InProcessHub, envelope, hub_on_path, send_body

PASSWORD = "pw"
XXE_FILE = b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>'
XXE_NETWORK = b'<!DOCTYPE x [<!ENTITY e SYSTEM "http://127.0.0.1:9/e">]><x>&e;</x>'
LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">'
    b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">'
    b"]><l>&c;&c;&c;&c;</l>"
)
QUADRATIC = b'<!DOCTYPE q [<!ENTITY big "' + b"x" * 100_000 + b'">]><q>' + b"&big;" * 500 + b"</q>"


@pytest.fixture(scope="module", params=REQUEST_PATHS)
def hub(request, tmp_path_factory):
    """The endpoint on each request path: the same refusals."""
    path = tmp_path_factory.mktemp("hostile") / "hub.db"
    with hub_on_path(
        request.param, path, (G12, H31, H49), PASSWORD,
        max_request_bytes=2 * 2**20, max_recipients=500,
    ) as hub:  # fmt: skip
        yield hub


def signed_in(body: str) -> bytes:
    return envelope(body, G12, PASSWORD)


def edxml_with(prefix: bytes) -> bytes:
    return prefix + document().split(b"?>", 1)[1]


CASES = {
    "xxe-file": (lambda: XXE_FILE, "Client.DTDNotAllowed"),
    "xxe-network": (lambda: XXE_NETWORK, "Client.DTDNotAllowed"),
    "billion-laughs": (lambda: LAUGHS, "Client.DTDNotAllowed"),
    "quadratic-blowup": (lambda: QUADRATIC, "Client.DTDNotAllowed"),
    "doctype": (lambda: b"<!DOCTYPE x>" + signed_in("<lt:GetDocuments/>"), "Client.DTDNotAllowed"),
    "deep-nesting": (lambda: b"<a>" * 10_000 + b"</a>" * 10_000, "Client.XMLSyntax"),
    "empty": (lambda: b"", "Client.EmptyRequest"),
    "whitespace": (lambda: b"   \n", "Client.EmptyRequest"),
    "truncated": (lambda: signed_in("<lt:GetDocuments/>")[:-30], "Client.XMLSyntax"),
    "non-xml": (lambda: b"\x00\x01binary\xff", "Client.XMLSyntax"),
    "json": (lambda: b'{"SendDocument": {}}', "Client.XMLSyntax"),
    "bad-base64": (lambda: signed_in(
        "<lt:SendDocument><lt:Document>@@@!</lt:Document></lt:SendDocument>"),
        "Client.InvalidRequest"),
    "edxml-with-dtd": (lambda: signed_in(send_body(edxml_with(
        b'<!DOCTYPE edXML [<!ENTITY a "b">]>'))), "Client.DTDNotAllowed"),
    "edxml-with-entities": (lambda: signed_in(send_body(edxml_with(
        b'<!DOCTYPE edXML [<!ENTITY e SYSTEM "file:///etc/passwd">]>'))), "Client.DTDNotAllowed"),
    "over-long-subject": (lambda: signed_in(send_body(document(subject="Ư" * 200_001))),
                          "Client.InvalidDocument"),
    "over-long-document-id": (lambda: signed_in(send_body(document(document_id="G" * 300))),
                              "Client.InvalidDocument"),
    "absurd-max-count": (lambda: signed_in("<lt:GetDocuments><lt:MaxCount>"
                                   + "9" * 40 + "</lt:MaxCount></lt:GetDocuments>"),
                         "Client.InvalidRequest"),
    "negative-max-count": (lambda: signed_in("<lt:GetDocuments><lt:MaxCount>-1</lt:MaxCount>"
                                     "</lt:GetDocuments>"), "Client.InvalidRequest"),
    "thousands-of-recipients": (lambda: signed_in(send_body(document(
        recipients=tuple(f"000.00.{n // 100:02}.H{n % 100:02}" for n in range(3000)),
        attachment=None))), "Client.InvalidDocument"),
    "unknown-operation": (lambda: signed_in("<lt:DropTables/>"), "Client.InvalidRequest"),
    "not-an-envelope": (lambda: b"<Letter/>", "Client.InvalidRequest"),
    "envelope-without-namespace": (lambda: b"<Envelope><Body/></Envelope>", "VersionMismatch"),
    "soap-1.2": (lambda: signed_in("<lt:GetDocuments/>").replace(
        ns.SOAP11_ENV.encode(), ns.SOAP12_ENV.encode()), "VersionMismatch"),
    "no-credentials": (lambda: envelope(send_body(document())), "Client.Authentication"),
    "header-not-understood": (lambda: with_header_entry('mustUnderstand="1"'), "MustUnderstand"),
    "header-not-understood-true": (lambda: with_header_entry('mustUnderstand="true"'),
                                   "MustUnderstand"),
}  # fmt: skip


def with_header_entry(attributes: str) -> bytes:
    """A valid SendDocument whose header also holds a WS-Addressing Action with
    ``attributes`` (in the SOAP envelope's namespace)."""
    entry = (
        f'<wsa:Action xmlns:wsa="http://www.w3.org/2005/08/addressing" '
        f'xmlns:s="{ns.SOAP11_ENV}" s:{attributes.replace(" ", " s:")}>urn:send</wsa:Action>'
    )
    unique = document(document_id=f"G12,{uuid.uuid4().hex}")
    return signed_in(send_body(unique)).replace(
        b"<soapenv:Header>", b"<soapenv:Header>" + entry.encode()
    )


@pytest.mark.parametrize("attributes", [
    'mustUnderstand="0"',
    'mustUnderstand="1" actor="http://example.org/another-node"',
])  # fmt: skip
def test_a_header_entry_not_meant_for_the_hub_is_left_alone(hub, attributes):
    before = hub.row_counts()
    response = hub.call(with_header_entry(attributes))
    assert response.status == 200, response.body
    assert hub.row_counts()["documents"] == before["documents"] + 1


def test_a_security_header_marked_must_understand_is_understood(hub):
    unique = document(document_id=f"G12,{uuid.uuid4().hex}")
    body = signed_in(send_body(unique)).replace(
        b"<wsse:Security ", b'<wsse:Security soapenv:mustUnderstand="1" '
    )
    assert b'mustUnderstand="1"' in body
    assert hub.call(body).status == 200


@functools.cache
def gzip_bomb() -> bytes:
    """256 MiB of zeros in about 256 KB of gzip."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    zeros = bytes(2**20)
    return b"".join(compressor.compress(zeros) for _ in range(256)) + compressor.flush()


COMPRESSED_CASES = {
    "gzip-bomb": (gzip_bomb, "gzip", "Client.TooLarge"),
    "deflate-bomb": (lambda: zlib.compress(bytes(64 * 2**20), 9), "deflate", "Client.TooLarge"),
    "not-gzip": (lambda: signed_in("<lt:GetDocuments/>"), "gzip", "Client.InvalidRequest"),
    "truncated-gzip": (lambda: gzip.compress(signed_in("<lt:GetDocuments/>"))[:-12], "gzip",
                       "Client.InvalidRequest"),
    "after-the-deflate-stream": (lambda: zlib.compress(signed_in("<lt:GetDocuments/>"))
                                 + b"more", "deflate", "Client.InvalidRequest"),
    "gzip-of-nothing": (lambda: gzip.compress(b""), "gzip", "Client.EmptyRequest"),
    "gzipped-xxe": (lambda: gzip.compress(XXE_FILE), "gzip", "Client.DTDNotAllowed"),
    "gzipped-laughs": (lambda: gzip.compress(LAUGHS), "x-gzip", "Client.DTDNotAllowed"),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_hostile_request_gets_its_fault_and_stores_nothing(hub, name):
    make_body, code = CASES[name]
    before = hub.row_counts()
    response = hub.call(make_body())  # built now: its WS-Security Created must be fresh
    assert response.status == 500
    assert response.headers["Content-Type"].startswith("text/xml")
    assert response.fault_code == code
    assert hub.row_counts() == before


@pytest.mark.parametrize("name", sorted(COMPRESSED_CASES))
def test_each_hostile_compressed_request_gets_its_fault_and_stores_nothing(hub, name):
    make_body, coding, code = COMPRESSED_CASES[name]
    before = hub.row_counts()
    response = hub.call(make_body(), headers={"Content-Encoding": coding})
    assert response.status == 500
    assert response.fault_code == code
    assert hub.row_counts() == before


def test_a_bomb_is_refused_before_it_is_read_whole(hub):
    bomb = gzip_bomb()
    stream = io.BytesIO(bomb)
    response = hub.call(bomb, stream=stream, headers={"Content-Encoding": "gzip"})
    assert response.fault_code == "Client.TooLarge"
    assert stream.tell() < len(bomb) / 2  # 2 MiB inflate from its first piece


def test_a_coding_the_hub_does_not_know_is_refused_with_415(hub):
    before = hub.row_counts()
    response = hub.call(signed_in(send_body(document())), headers={"Content-Encoding": "br"})
    assert response.status == 415
    assert response.headers["Accept-Encoding"] == "gzip, deflate"
    assert response.fault_code == "Client.InvalidRequest"
    assert hub.row_counts() == before


def test_a_body_over_the_limit_is_refused_without_reading_it(hub):
    class Unreadable:
        def read(self, *args):
            raise AssertionError("the body was read")

        readline = read

    before = hub.row_counts()
    response = hub.call(b"", content_length=3 * 2**20, stream=Unreadable())
    assert response.fault_code == "Client.TooLarge"
    assert hub.row_counts() == before


def test_a_valid_request_is_still_served(hub):
    before = hub.row_counts()
    response = hub.call(signed_in(send_body(document())))
    assert response.status == 200
    assert hub.row_counts()["documents"] == before["documents"] + 1


@pytest.mark.parametrize("method", ["GET", "HEAD", "PUT", "DELETE", "PATCH"])
def test_the_endpoint_takes_soap_only_by_post(hub, method):
    before = hub.row_counts()
    response = hub.call(signed_in(send_body(document())), method=method)
    assert response.status == 405
    assert response.headers["Allow"] == "POST, OPTIONS"
    assert response.fault_code == "Client.InvalidRequest"
    assert b"/soap?wsdl" in response.body
    assert hub.row_counts() == before


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_the_wsdl_is_there_for_get_and_head(hub, method):
    wsdl = hub.call(b"", method=method, query="wsdl")
    assert wsdl.status == 200
    assert etree.fromstring(wsdl.body).tag == f"{{{ns.WSDL}}}definitions"
    assert wsdl.headers["Content-Length"] == str(len(wsdl.body))
    assert hub.call(b"", method="PUT", query="wsdl").headers["Allow"] == (
        "GET, HEAD, POST, OPTIONS"
    )


def test_options_says_what_each_address_allows(hub):
    assert hub.call(b"", method="OPTIONS").status == 204
    assert hub.call(b"", method="OPTIONS").headers["Allow"] == "POST, OPTIONS"
    assert hub.call(b"", method="OPTIONS", query="wsdl").headers["Allow"] == (
        "GET, HEAD, POST, OPTIONS"
    )


def test_the_contract_files_are_only_read(hub):
    assert hub.call(b"", method="GET", path="/wsdl/edxml.xsd").status == 200
    posted = hub.call(b"<x/>", path="/wsdl/edxml.xsd")
    assert (posted.status, posted.headers["Allow"]) == (405, "GET, HEAD")
    assert posted.fault_code == "Client.InvalidRequest"


def test_requests_beyond_what_a_worker_handles_at_once_are_busy(tmp_path):
    hub = InProcessHub(f"sqlite:///{tmp_path / 'busy.db'}", max_in_flight=1)
    hub.app._in_flight.acquire()  # one request is being handled
    try:
        response = hub.call(signed_in("<lt:GetDocuments/>"))
    finally:
        hub.app._in_flight.release()
    assert response.fault_code == "Server.Busy"
    assert etree.fromstring(response.body).findtext(f".//{{{ns.GATEWAY}}}RetryAfter") == "1"
    hub.gateway.engine.dispose()


@pytest.mark.parametrize("coding", ["", "gzip"])
def test_a_body_cut_short_of_its_content_length_is_refused(hub, coding):
    whole = signed_in(send_body(document()))
    body = gzip.compress(whole) if coding else whole
    before = hub.row_counts()
    response = hub.call(
        body, content_length=len(body) + 100, headers={"Content-Encoding": coding or "identity"}
    )
    assert response.status == 500
    assert response.fault_code == "Client.InvalidRequest"
    assert f"after {len(body)} of the {len(body) + 100} bytes".encode() in response.body
    assert hub.row_counts() == before


@pytest.mark.parametrize("length", ["²", "٣", "-1", "4k"])
def test_a_content_length_that_is_not_a_number_is_refused(hub, length):
    before = hub.row_counts()
    response = hub.call(signed_in(send_body(document())), content_length=length)
    assert response.fault_code == "Client.InvalidRequest"
    assert b"Content-Length is not a number" in response.body
    assert hub.row_counts() == before
