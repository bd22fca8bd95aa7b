"""The streaming front against spyne alone: the same answers, and limits kept early."""

import base64
import io

import pytest
from lxml import etree

from gateway import ns
from gateway.hub import directory
from gateway.soap import streaming, wire
from gateway.soap.application import GatewaySoapServer
from tests.builders import G12, H31, H49, document
from tests.wsgi import InProcessHub, envelope, send_body

PASSWORD = "pw"
T = f"{{{ns.GATEWAY}}}"


class CountingStream(io.BytesIO):
    """A request body that remembers how much of it was read."""

    taken = 0

    def read(self, size=-1):
        data = super().read(size)
        self.taken += len(data)
        return data


def make_hub(tmp_path, name: str, **settings) -> InProcessHub:
    hub = InProcessHub(f"sqlite:///{tmp_path / name}.db", quota_per_minute=0, **settings)
    for code in (G12, H31, H49):
        hub.gateway.directory.add(code, code, PASSWORD)
    return hub


@pytest.fixture(autouse=True, params=["whole", "in pieces"])
def reading(request, monkeypatch):
    """Small requests are parsed whole and then walked, large ones read in pieces:
    every test here runs both ways."""
    if request.param == "in pieces":
        monkeypatch.setattr(streaming, "WHOLE_UP_TO", -1)


@pytest.fixture
def hubs(tmp_path):
    pair = make_hub(tmp_path, "streaming"), make_hub(tmp_path, "spyne", streaming=False)
    yield pair
    for hub in pair:
        hub.gateway.engine.dispose()


def outcome(response) -> tuple:
    """What a client sees: the status, and the fault or the answer's stable parts."""
    root = etree.fromstring(response.body)
    if response.status != 200:
        return response.status, response.fault_code, root.findtext(".//faultstring")
    return response.status, [
        (e.tag, e.text if e.tag not in (T + "MessageId", T + "ReceivedAt") else "")
        for e in root.iter()
        if len(e) == 0
    ]


REQUESTS = {
    "a document": (G12, send_body(document(recipients=(H31,), document_id="S,1"))),
    "the same again": (G12, send_body(document(recipients=(H31,), document_id="S,1"))),
    "other bytes, same id": (G12, send_body(document(recipients=(H49,), document_id="S,1"))),
    "an unknown recipient": (G12, send_body(document(recipients=("000.00.00.Z99",)))),
    "another sender's document": (G12, send_body(document(sender=H49))),
    "not base64": (G12, "<lt:SendDocument><lt:Document>@@@</lt:Document></lt:SendDocument>"),
    "wrapped base64": (
        G12,
        "<lt:SendDocument><lt:Document>"
        + base64.encodebytes(document(recipients=(H49,), document_id="S,2")).decode()
        + "</lt:Document></lt:SendDocument>",
    ),
    "base64 and more": (G12, "<lt:SendDocument><lt:Document>QQ==@</lt:Document></lt:SendDocument>"),
    "a comment in base64": (
        G12,
        send_body(document(recipients=(H49,), document_id="S,3")).replace("==<", "=<!--c-->=<"),
    ),  # fmt: skip
    "an empty Document": (G12, "<lt:SendDocument><lt:Document/></lt:SendDocument>"),
    "a comment before the operation": (H49, "<!-- c --><lt:GetDocuments/>"),
    "no Document": (G12, "<lt:SendDocument/>"),
    "two Documents": (
        G12,
        "<lt:SendDocument><lt:Document>QQ==</lt:Document>" * 2 + "</lt:SendDocument>",
    ),  # fmt: skip
    "not edXML": (G12, send_body(b"<html/>")),
    "an unknown element": (G12, "<lt:SendDocument><lt:Other/></lt:SendDocument>"),
    "fetch": (H31, "<lt:GetDocuments><lt:MaxCount>5</lt:MaxCount></lt:GetDocuments>"),
    "fetch zero": (H31, "<lt:GetDocuments><lt:MaxCount>0</lt:MaxCount></lt:GetDocuments>"),
    "fetch too many": (H31, "<lt:GetDocuments><lt:MaxCount>500</lt:MaxCount></lt:GetDocuments>"),
    "fetch words": (H31, "<lt:GetDocuments><lt:MaxCount>ten</lt:MaxCount></lt:GetDocuments>"),
    "fetch default": (H49, "<lt:GetDocuments/>"),
    "fetch in other digits": (
        H31,
        "<lt:GetDocuments><lt:MaxCount>٣</lt:MaxCount></lt:GetDocuments>",
    ),
    "fetch with a no-break space": (
        H31,
        "<lt:GetDocuments><lt:MaxCount>3\u00a0</lt:MaxCount></lt:GetDocuments>",
    ),  # fmt: skip
    "acknowledge strangers": (
        H31,
        "<lt:AckDocument><lt:MessageIds>x</lt:MessageIds>"
        "<lt:MessageIds> y&amp;z&gt; </lt:MessageIds><lt:MessageIds/>"
        "<lt:MessageIds>Công văn</lt:MessageIds></lt:AckDocument>",
    ),
    "acknowledge nothing": (H31, "<lt:AckDocument/>"),
    "acknowledge a carriage return": (
        H31,
        "<lt:AckDocument><lt:MessageIds>a&#13;b</lt:MessageIds></lt:AckDocument>",
    ),  # fmt: skip
    "acknowledge too many": (
        H31,
        "<lt:AckDocument>" + "<lt:MessageIds>m</lt:MessageIds>" * 1001 + "</lt:AckDocument>",
    ),  # fmt: skip
    "acknowledge too many different": (
        H31,
        "<lt:AckDocument>"
        + "".join(f"<lt:MessageIds>m{n}</lt:MessageIds>" for n in range(1001))
        + "</lt:AckDocument>",
    ),
    "an unknown element in AckDocument": (
        H31,
        "<lt:AckDocument><lt:MessageIds><lt:x/></lt:MessageIds></lt:AckDocument>",
    ),  # fmt: skip
    "the directory": (H31, "<lt:GetAgencies/>"),
    "a page of the directory": (
        H31,
        "<lt:GetAgencies><lt:After>000.00.00.G12</lt:After><lt:MaxCount>1</lt:MaxCount>"
        "</lt:GetAgencies>",
    ),  # fmt: skip
    "children": (
        H31,
        "<lt:GetAgencies><lt:ParentCode>000.00.00.G12</lt:ParentCode></lt:GetAgencies>",
    ),
    "an empty ParentCode": (H31, "<lt:GetAgencies><lt:ParentCode/></lt:GetAgencies>"),
    "a ParentCode in lower case": (
        H31,
        "<lt:GetAgencies><lt:ParentCode>abc</lt:ParentCode></lt:GetAgencies>",
    ),  # fmt: skip
    "a page too large": (H31, "<lt:GetAgencies><lt:MaxCount>10001</lt:MaxCount></lt:GetAgencies>"),
    "a page of none": (H31, "<lt:GetAgencies><lt:MaxCount>0</lt:MaxCount></lt:GetAgencies>"),
    "the directory's fields out of order": (
        H31,
        "<lt:GetAgencies><lt:MaxCount>1</lt:MaxCount><lt:After>A</lt:After></lt:GetAgencies>",
    ),  # fmt: skip
}


SPYNE_FIRST = {"Client.InvalidRequest", "Client.XMLSyntax"}
"""What the contract's own path refuses before it reads the credentials: a request that
does not fit the schema is not read further."""


def test_both_paths_give_the_same_answers(hubs):
    for name, (agency, body) in REQUESTS.items():
        answers = [outcome(hub.call(envelope(body, agency, PASSWORD))) for hub in hubs]
        assert answers[0] == answers[1], name
    for agency, body in [
        *REQUESTS.values(),
        (G12, "<lt:SendDocument><lt:Document/></lt:SendDocument>"),
    ]:
        wrong_password = envelope(body, agency, "nope")  # whatever else is wrong with it
        answers = [outcome(hub.call(wrong_password)) for hub in hubs]
        assert answers[0] == answers[1], body[:80]
        assert answers[0][1] == "Client.Authentication" or answers[0][1] in SPYNE_FIRST, body[:80]


def test_an_acknowledgement_gives_the_same_bytes_both_ways(hubs):
    answers = []
    for hub in hubs:
        sent = document(recipients=(H31,), document_id="ack-1")
        assert hub.call(envelope(send_body(sent), G12, PASSWORD)).status == 200
        fetched = etree.fromstring(hub.call(envelope("<lt:GetDocuments/>", H31, PASSWORD)).body)
        [message_id] = [e.text for e in fetched.iter(T + "MessageId")]
        ack = (
            f"<lt:AckDocument><lt:MessageIds>{message_id}</lt:MessageIds>"
            "<lt:MessageIds>elsewhere</lt:MessageIds></lt:AckDocument>"
        )
        answers.append(hub.call(envelope(ack, H31, PASSWORD)))
        assert hub.call(envelope(ack, H31, PASSWORD)).status == 200  # again: still fine
    assert answers[0].body == answers[1].body
    assert answers[0].headers == answers[1].headers
    assert b"<tns:Acknowledged>1</tns:Acknowledged>" in answers[0].body


def never_through_spyne(monkeypatch) -> None:
    """Fail the test if any request reaches spyne."""

    def spyne(server, environ, start_response):
        raise AssertionError("the streaming front handed the request to spyne")

    monkeypatch.setattr(GatewaySoapServer, "__call__", spyne)


def test_the_delivery_operations_never_reach_spyne(hubs, monkeypatch):
    streaming, _ = hubs
    never_through_spyne(monkeypatch)
    sent = document(recipients=(H31,), document_id="direct-1")
    for agency, body in [
        (G12, send_body(sent)),
        (H31, "<lt:GetDocuments><lt:MaxCount>1</lt:MaxCount></lt:GetDocuments>"),
        (H31, "<lt:AckDocument><lt:MessageIds>m</lt:MessageIds></lt:AckDocument>"),
    ]:
        assert streaming.call(envelope(body, agency, PASSWORD)).status == 200


def test_the_directory_gives_the_same_bytes_both_ways_whatever_its_batches(hubs, monkeypatch):
    monkeypatch.setattr(directory, "LISTING_BATCH", 2)
    monkeypatch.setattr(wire, "WRITE_BYTES", 100)
    for hub in hubs:
        agencies = hub.gateway.directory
        agencies.add("000.00.00.A01", "Bộ Nội vụ & <Văn thư>\r\nLưu trữ", PASSWORD)
        agencies.import_names([(f"000.00.{n:02d}.A01", f"Sở số {n}") for n in range(1, 8)])
        agencies.set_endpoint("000.00.03.A01", "https://vanban.example.gov.vn/soap?a=1&b=2")
        agencies.set_active("000.00.04.A01", False)
    for body in (
        "<lt:GetAgencies/>",
        "<lt:GetAgencies><lt:ParentCode>000.00.00.A01</lt:ParentCode></lt:GetAgencies>",
        "<lt:GetAgencies><lt:After>000.00.02.A01</lt:After><lt:MaxCount>3</lt:MaxCount>"
        "</lt:GetAgencies>",
        "<lt:GetAgencies><lt:After>000.00.07.A01</lt:After><lt:MaxCount>3</lt:MaxCount>"
        "</lt:GetAgencies>",
        "<lt:GetAgencies><lt:After>ZZZ</lt:After></lt:GetAgencies>",
    ):
        answers = [hub.call(envelope(body, H31, PASSWORD)) for hub in hubs]
        assert answers[0].status == answers[1].status == 200
        assert answers[0].body == answers[1].body, body
    listed = etree.fromstring(answers_of(hubs[0], "<lt:GetAgencies/>"))
    codes = [e.text for e in listed.iter(T + "Code")]
    assert codes == sorted(codes) and len(codes) == 11  # 8 here, G12, H31, H49
    [name] = [e.text for e in listed.iter(T + "Name") if e.text.startswith("Bộ Nội vụ")]
    assert name == "Bộ Nội vụ & <Văn thư>\r\nLưu trữ"


def answers_of(hub, body: str) -> bytes:
    return hub.call(envelope(body, H31, PASSWORD)).body


@pytest.mark.parametrize("flaw", ["@@", "QQ===", "QQ==QQ==", "Q"])
def test_base64_that_is_not_is_refused_without_spyne(hubs, monkeypatch, flaw):
    """Not handed to spyne, which would read it whole and store what it could make of it;
    refused once the caller is signed in, as spyne refuses a Document of nothing."""
    streaming, _ = hubs
    never_through_spyne(monkeypatch)
    encoded = base64.b64encode(document(recipients=(H31,), attachment=bytes(1_200_000)))
    body = f"<lt:SendDocument><lt:Document>{encoded.decode()}{flaw}</lt:Document></lt:SendDocument>"
    before = streaming.row_counts()
    assert streaming.call(envelope(body, G12, "nope")).fault_code == "Client.Authentication"
    refused = streaming.call(envelope(body, G12, PASSWORD))
    assert refused.fault_code == "Client.InvalidRequest"
    assert b"must be the base64 encoding" in refused.body
    assert streaming.row_counts() == before


def test_the_directory_never_reaches_spyne_and_pages_through_it(hubs, monkeypatch):
    streaming, _ = hubs
    never_through_spyne(monkeypatch)
    streaming.gateway.directory.import_names([(f"000.00.{n:02d}.B02", "Xã") for n in range(25)])
    codes, after = [], ""
    while True:
        page = f"<lt:After>{after}</lt:After><lt:MaxCount>10</lt:MaxCount>"
        listed = etree.fromstring(answers_of(streaming, f"<lt:GetAgencies>{page}</lt:GetAgencies>"))
        page_codes = [e.text for e in listed.iter(T + "Code")]
        codes += page_codes
        if len(page_codes) < 10:
            break
        after = page_codes[-1]
    assert len(codes) == 28 and codes == sorted(set(codes))


def test_a_default_namespace_in_the_header_is_read_as_well(hubs, monkeypatch):
    streaming, _ = hubs
    never_through_spyne(monkeypatch)
    body = envelope("<lt:GetDocuments/>", H31, PASSWORD).replace(b"wsse:", b"")
    body = body.replace(b'<Security xmlns:wsse="', b'<Security xmlns="')
    assert streaming.call(body).status == 200


def test_a_document_over_the_limit_is_refused_without_reading_the_rest(tmp_path):
    hub = make_hub(tmp_path, "limit", max_document_bytes=2**20, max_request_bytes=2**25)
    big = document(recipients=(H31,), attachment=bytes(range(256)) * 12_000)  # ~4 MB
    body = envelope(send_body(big), G12, PASSWORD)
    before = hub.row_counts()
    stream = CountingStream(body)
    response = hub.call(body, stream=stream)
    assert response.fault_code == "Client.TooLarge"
    assert stream.taken < len(body) / 2
    assert hub.row_counts() == before
    hub.gateway.engine.dispose()


def test_a_large_document_goes_through_both_ways_byte_exact(tmp_path):
    hub = make_hub(tmp_path, "large")
    big = document(recipients=(H31,), attachment=bytes(range(256)) * 12_000)
    assert hub.call(envelope(send_body(big), G12, PASSWORD)).status == 200
    response = hub.call(envelope("<lt:GetDocuments/>", H31, PASSWORD))
    [content] = etree.fromstring(response.body).iter(T + "Document")
    assert base64.b64decode(content.text) == big
    assert int(response.headers["Content-Length"]) == len(response.body)
    hub.gateway.engine.dispose()


def test_a_replayed_request_is_refused_whatever_the_operation(hubs):
    for hub in hubs:
        for agency, body in [
            (G12, send_body(document(recipients=(H31,), document_id="replay-1"))),
            (H31, "<lt:GetDocuments/>"),
            (H31, "<lt:AckDocument><lt:MessageIds>m</lt:MessageIds></lt:AckDocument>"),
        ]:
            request = envelope(body, agency, PASSWORD)  # one nonce
            assert hub.call(request).status == 200
            assert hub.call(request).fault_code == "Client.Authentication"


def test_comments_and_processing_instructions_are_read_as_by_spyne(hubs):
    """A comment is nothing; a processing instruction is refused (SOAP forbids them)."""
    fetch = (
        "<lt:GetDocuments><!-- a note --><lt:MaxCount>2<!-- x -->0</lt:MaxCount></lt:GetDocuments>"
    )
    with_pi = "<lt:GetDocuments><?x y?></lt:GetDocuments>"
    verdicts = []
    for body in (fetch, with_pi):
        answers = [outcome(hub.call(envelope(body, H31, PASSWORD))) for hub in hubs]
        assert answers[0] == answers[1], body
        verdicts.append(answers[0][:2])
    assert verdicts[0][0] == 200
    assert verdicts[1] == (500, "Client.XMLSyntax")


def test_a_comment_inside_a_message_id_is_nothing(hubs):
    """spyne alone read only the text before the comment, and acknowledged nothing."""
    for hub in hubs:
        assert (
            hub.call(envelope(send_body(document(recipients=(H31,))), G12, PASSWORD)).status == 200
        )
        fetched = hub.call(envelope("<lt:GetDocuments/>", H31, PASSWORD))
        message_id = etree.fromstring(fetched.body).findtext(f".//{T}MessageId")
        cut = f"{message_id[:5]}<!-- c -->{message_id[5:]}"
        acked = hub.call(envelope(f"<lt:AckDocument><lt:MessageIds>{cut}</lt:MessageIds>"
                                  "</lt:AckDocument>", H31, PASSWORD))  # fmt: skip
        assert etree.fromstring(acked.body).findtext(f".//{T}Acknowledged") == "1"


def test_an_undeclared_prefix_in_the_header_is_refused_both_ways(hubs):
    """lxml's event parser reads on past it; its tree parser, and so spyne, refuse it."""
    request = envelope("<lt:GetDocuments/>", H31, PASSWORD).replace(
        b"<wsse:Security ", b'<wsse:Security soap:mustUnderstand="1" '
    )
    answers = [outcome(hub.call(request)) for hub in hubs]
    assert answers[0] == answers[1]
    assert answers[0][:2] == (500, "Client.XMLSyntax")
