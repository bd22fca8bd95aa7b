"""Property-based fuzzing: mutated edXML and SOAP requests never escape the fault catalogue."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from gateway.envelope import parse_message
from gateway.errors import GatewayError
from tests.builders import G12, H31, H49, document, sample
from tests.wsgi import CODES, InProcessHub, envelope, send_body

SEEDS = [document(), sample("document-512.edxml"), sample("status_finish_06.edxml")]


@st.composite
def mutated(draw, seeds):
    """A seed with a few bytes deleted, replaced or inserted, or slices repeated."""
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, 6))):
        position = draw(st.integers(0, max(len(data) - 1, 0)))
        action = draw(st.sampled_from(["delete", "replace", "insert", "repeat", "truncate"]))
        if action == "delete":
            del data[position : position + draw(st.integers(1, 40))]
        elif action == "replace" and data:
            data[position] = draw(st.integers(0, 255))
        elif action == "insert":
            fragment = draw(st.sampled_from([b"<", b">", b"&", b"]]>", b"<!DOCTYPE x>", b"&#0;",
                                             b"\xff", b"</edXML:To>", b'"', b"\x00"]))  # fmt: skip
            data[position:position] = fragment
        elif action == "repeat":
            data[position:position] = data[position : position + draw(st.integers(1, 200))]
        else:
            del data[position:]
    return bytes(data)


@settings(max_examples=300, deadline=None)
@given(st.one_of(mutated(SEEDS), st.binary(max_size=500)))
def test_the_edxml_parser_raises_only_catalogue_errors(data):
    try:
        parse_message(data, max_bytes=1_000_000)
    except GatewayError as error:
        assert error.code in CODES


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    hub = InProcessHub(f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'hub.db'}")
    for code in (G12, H31, H49):
        hub.gateway.directory.add(code, code, "pw")
    yield hub
    hub.gateway.engine.dispose()


def requests():
    return [
        envelope(send_body(document()), G12, "pw"),
        envelope("<lt:GetDocuments><lt:MaxCount>5</lt:MaxCount></lt:GetDocuments>", H31, "pw"),
        envelope("<lt:AckDocument><lt:MessageIds>a</lt:MessageIds></lt:AckDocument>", H31, "pw"),
    ]


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_the_soap_endpoint_answers_every_mutation_with_soap(hub, data):
    body = data.draw(mutated(requests()))
    response = hub.call(body)
    assert response.status in (200, 500)
    assert response.headers["Content-Type"].startswith("text/xml")
    root = etree.fromstring(response.body)
    assert root.tag == "{http://schemas.xmlsoap.org/soap/envelope/}Envelope"
    if response.status == 500:
        assert response.fault_code in CODES
