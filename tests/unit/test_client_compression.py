"""The connector's transport: large requests gzipped, small ones sent as they are."""

import gzip

import requests

from client.compression import COMPRESS_FROM, CompressingTransport


class RecordingSession(requests.Session):
    """A session that records what would be posted instead of posting it."""

    def __init__(self):
        super().__init__()
        self.posted = []

    def post(self, url, data=None, headers=None, **kwargs):
        self.posted.append((data, headers))
        response = requests.Response()
        response.status_code = 200
        return response


def test_large_requests_are_gzipped_and_small_ones_are_not():
    session = RecordingSession()
    transport = CompressingTransport(session=session)
    large = "<Envelope>Công văn ".encode() + b"A" * COMPRESS_FROM + b"</Envelope>"
    transport.post("http://hub/soap", large, {"SOAPAction": '""'})
    transport.post("http://hub/soap", b"<Envelope/>", {"SOAPAction": '""'})

    (sent, headers), (small, small_headers) = session.posted
    assert headers == {"SOAPAction": '""', "Content-Encoding": "gzip"}
    assert gzip.decompress(sent) == large
    assert len(sent) < len(large) / 10
    assert small == b"<Envelope/>" and "Content-Encoding" not in small_headers


def test_the_threshold_is_the_callers():
    session = RecordingSession()
    CompressingTransport(session=session, compress_from=0).post("http://hub/soap", "<x/>", {})
    [(sent, headers)] = session.posted
    assert gzip.decompress(sent) == b"<x/>" and headers["Content-Encoding"] == "gzip"
