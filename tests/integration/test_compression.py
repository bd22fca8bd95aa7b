"""gzip on every request path: large answers compressed for the clients that ask, and
requests the clients compressed inflated."""

import base64
import gzip
import os
import tempfile
import uuid
import zlib

import pytest
from lxml import etree

from gateway import ns
from gateway.settings import Settings
from gateway.soap.compression import accepts_gzip, compressing
from tests.builders import G12, H31, H49, document
from tests.wsgi import REQUEST_PATHS, InProcessHub, envelope, hub_on_path, send_body

PASSWORD = "pw"
GZIP = {"Accept-Encoding": "gzip, deflate"}
LARGE = Settings().gzip_from_bytes


@pytest.fixture(scope="module", params=REQUEST_PATHS)
def hub(request, tmp_path_factory):
    path = tmp_path_factory.mktemp("gzip") / "hub.db"
    with hub_on_path(request.param, path, (G12, H31, H49), PASSWORD) as hub:
        yield hub


def fetched_document(body: bytes) -> bytes:
    [encoded] = etree.fromstring(body).iterfind(f".//{{{ns.GATEWAY}}}Document")
    return base64.b64decode(encoded.text)


def test_a_large_document_is_gzipped_only_for_who_asks(hub):
    sent = document(document_id=f"G12,{uuid.uuid4().hex}", attachment=os.urandom(LARGE))
    assert hub.call(envelope(send_body(sent), G12, PASSWORD)).status == 200
    fetch = "<lt:GetDocuments><lt:MaxCount>1</lt:MaxCount></lt:GetDocuments>"

    asked = hub.call(envelope(fetch, H31, PASSWORD), headers=GZIP)
    assert asked.headers["Content-Encoding"] == "gzip"
    assert asked.headers["Vary"] == "Accept-Encoding"
    assert "Content-Length" not in asked.headers
    unzipped = gzip.decompress(asked.body)
    assert fetched_document(unzipped) == sent
    assert len(asked.body) < 0.8 * len(unzipped)  # base64 of random bytes: 6 bits in 8

    plain = hub.call(envelope(fetch, H49, PASSWORD))
    assert "Content-Encoding" not in plain.headers
    assert int(plain.headers["Content-Length"]) == len(plain.body)
    assert fetched_document(plain.body) == sent


def test_small_answers_and_faults_are_sent_as_they_are(hub):
    small = document(document_id=f"G12,{uuid.uuid4().hex}", recipients=(H31,))
    answer = hub.call(envelope(send_body(small), G12, PASSWORD), headers=GZIP)
    assert answer.status == 200 and "Content-Encoding" not in answer.headers
    fault = hub.call(envelope(send_body(small), G12, "wrong"), headers=GZIP)
    assert fault.fault_code == "Client.Authentication"
    assert "Content-Encoding" not in fault.headers


def test_the_directory_listing_is_read_alike_either_way(hub):
    asked = hub.call(envelope("<lt:GetAgencies/>", H31, PASSWORD), headers=GZIP)
    body = asked.body
    if hub.gateway.settings.streaming:  # written as it is read, its length not known ahead
        assert asked.headers["Content-Encoding"] == "gzip"
        body = gzip.decompress(body)
    else:  # spyne's whole answer, and a small one
        assert "Content-Encoding" not in asked.headers
    assert body == hub.call(envelope("<lt:GetAgencies/>", H31, PASSWORD)).body


def gzip_members(data: bytes) -> bytes:
    """``data`` as two gzip members one after the other, as gzip allows."""
    return gzip.compress(data[:100]) + gzip.compress(data[100:])


@pytest.mark.parametrize(("coding", "compress"), [
    ("gzip", gzip.compress), ("x-gzip", gzip.compress), ("GZIP", gzip_members),
    ("deflate", zlib.compress),
])  # fmt: skip
def test_a_compressed_request_is_read_as_if_sent_as_it_is(hub, coding, compress):
    """Large enough to be read in pieces, with Vietnamese text kept exactly."""
    sent = document(
        document_id=f"G12,{uuid.uuid4().hex}", recipients=(H49,),
        subject="Về việc triển khai liên thông văn bản", attachment=os.urandom(1_500_000),
    )  # fmt: skip
    request = compress(envelope(send_body(sent), G12, PASSWORD))
    answer = hub.call(request, headers={"Content-Encoding": coding})
    assert answer.status == 200, answer.body
    fetch = "<lt:GetDocuments><lt:MaxCount>1</lt:MaxCount></lt:GetDocuments>"
    fetched = hub.call(envelope(fetch, H49, PASSWORD))
    assert fetched_document(fetched.body) == sent
    [message_id] = etree.fromstring(fetched.body).iterfind(f".//{{{ns.GATEWAY}}}MessageId")
    ack = f"<lt:AckDocument><lt:MessageIds>{message_id.text}</lt:MessageIds></lt:AckDocument>"
    acked = hub.call(gzip.compress(envelope(ack, H49, PASSWORD)),
                     headers={"Content-Encoding": "gzip"})  # fmt: skip
    assert etree.fromstring(acked.body).findtext(f".//{{{ns.GATEWAY}}}Acknowledged") == "1"


def test_an_operation_spyne_answers_is_read_inflated_too(hub):
    request = envelope("<lt:GetStatistics/>", G12, PASSWORD)
    answer = hub.call(gzip.compress(request), headers={"Content-Encoding": "gzip"})
    assert answer.status == 200, answer.body
    response = etree.fromstring(answer.body).find(f".//{{{ns.GATEWAY}}}GetStatisticsResponse")
    assert response is not None


def test_a_large_compressed_request_for_spyne_is_read_again_from_its_spool(hub, monkeypatch):
    """The front hands spyne the inflated spool itself, not a copy of it."""
    attachment = os.urandom(1_500_000)
    body = send_body(document(document_id=f"G12,{uuid.uuid4().hex}", attachment=attachment))
    request = envelope(body.replace("</lt:SendDocument>", "<lt:Other/></lt:SendDocument>"),
                       G12, PASSWORD)  # fmt: skip
    spools = []
    with monkeypatch.context() as patch:
        patch.setattr(tempfile, "SpooledTemporaryFile",
                      counted(tempfile.SpooledTemporaryFile, spools))  # fmt: skip
        answer = hub.call(gzip.compress(request), headers={"Content-Encoding": "gzip"})
    as_it_is = hub.call(request.replace(b"<wsse:Nonce>", b"<wsse:Nonce>A"))
    assert answer.fault_code == as_it_is.fault_code == "Client.InvalidRequest"
    assert etree.fromstring(answer.body).findtext(".//faultstring") == etree.fromstring(
        as_it_is.body
    ).findtext(".//faultstring")
    assert len(spools) == 1  # the inflated body


def counted(factory, made: list):
    def make(*args, **kwargs):
        made.append(factory(*args, **kwargs))
        return made[-1]

    return make


def test_a_compressed_request_gets_the_fault_it_would_get_as_it_is(hub):
    request = envelope(send_body(document(document_id=f"G12,{uuid.uuid4().hex}")), G12, "wrong")
    answer = hub.call(gzip.compress(request), headers={"Content-Encoding": "gzip"})
    assert answer.fault_code == "Client.Authentication"


def test_an_operator_can_turn_compression_off(tmp_path):
    hub = InProcessHub(f"sqlite:///{tmp_path / 'hub.db'}", gzip_from_bytes=0)
    hub.gateway.directory.add(H31, H31, PASSWORD)
    asked = hub.call(envelope("<lt:GetAgencies/>", H31, PASSWORD), headers=GZIP)
    assert asked.status == 200 and "Content-Encoding" not in asked.headers
    hub.gateway.engine.dispose()


def test_an_answer_started_late_is_compressed_all_the_same():
    """WSGI lets an application call start_response at its first piece."""
    piece = b"<x/>" * 40_000

    def late(environ, start_response):
        start_response("200 OK", [("Content-Length", str(len(piece)))])
        yield piece

    def small(environ, start_response):
        start_response("200 OK", [("Content-Length", "4")])
        return [b"<x/>"]

    environ, given = {"HTTP_ACCEPT_ENCODING": "gzip"}, {}
    answer = compressing(late, environ, lambda status, headers, exc_info=None: given.update(
        headers=dict(headers)), threshold=1024)  # fmt: skip
    assert gzip.decompress(b"".join(answer)) == piece
    assert given["headers"]["Content-Encoding"] == "gzip"
    as_it_is = compressing(small, environ, lambda *args: None, threshold=1024)
    assert as_it_is == [b"<x/>"]  # the application's own list, not wrapped


@pytest.mark.parametrize(("header", "accepted"), [
    ("gzip", True), ("deflate, gzip", True), ("GZIP;q=0.5", True), ("x-gzip", True),
    ("*", True), ("gzip;q=0", False), ("gzip; q=0.0", False), ("deflate, br", False),
    ("", False), ("gzip;q=nonsense", False), ("identity", False),
])  # fmt: skip
def test_accept_encoding_is_read_as_http_says(header, accepted):
    assert accepts_gzip({"HTTP_ACCEPT_ENCODING": header}) is accepted
