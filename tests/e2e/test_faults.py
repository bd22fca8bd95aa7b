"""Every bad request gets its catalogue fault as a SOAP fault, and nothing is stored."""

import base64
import http.client
import socket
import uuid
from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest
import requests
from lxml import etree

from client.connector import Connector
from client.errors import HubFault
from gateway import ns
from tests.builders import G12, H31, H49, document, sample

ENVELOPE = (
    '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
    'xmlns:lt="urn:lienthong:gateway:1">{header}<soapenv:Body>{body}</soapenv:Body>'
    "</soapenv:Envelope>"
)


def security_header(agency, password, nonce=None, created=None):
    extra = ""
    if nonce:
        extra += f"<wsse:Nonce>{base64.b64encode(nonce).decode()}</wsse:Nonce>"
    if created:
        extra += f'<wsu:Created xmlns:wsu="{ns.WSU}">{created}</wsu:Created>'
    return (
        f'<soapenv:Header><wsse:Security xmlns:wsse="{ns.WSSE}"><wsse:UsernameToken>'
        f"<wsse:Username>{agency}</wsse:Username>"
        f'<wsse:Password Type="{ns.WSSE_PASSWORD_TEXT}">{password}</wsse:Password>'
        f"{extra}</wsse:UsernameToken></wsse:Security></soapenv:Header>"
    )


def post(hub, body: bytes, headers=None):
    return requests.post(
        hub.url,
        data=body,
        timeout=30,
        headers={"Content-Type": "text/xml; charset=utf-8", **(headers or {})},
    )


def fault_code(response) -> str:
    assert response.status_code == 500
    assert response.headers["Content-Type"].startswith("text/xml")
    root = etree.fromstring(response.content)
    return root.findtext(".//faultcode").split(":", 1)[-1]


def connect(hub, agency, password=None) -> Connector:
    return Connector(hub.url, agency, password or hub.passwords[agency])


def refused(call) -> str:
    with pytest.raises(HubFault) as caught:
        call()
    return caught.value.code


def test_wrong_password_or_unknown_agency_is_an_authentication_fault(hub):
    assert refused(lambda: connect(hub, G12, "wrong").fetch()) == "Client.Authentication"
    assert refused(lambda: connect(hub, "000.00.00.X01", "x").fetch()) == "Client.Authentication"


def test_a_request_without_credentials_is_an_authentication_fault(hub):
    body = ENVELOPE.format(header="", body="<lt:GetDocuments/>").encode()
    assert fault_code(post(hub, body)) == "Client.Authentication"


def test_a_soap_1_2_request_gets_soap_1_1_version_mismatch(hub):
    """A client set up for SOAP 1.2 is told so in SOAP 1.1, as SOAP 1.1 asks."""
    header = security_header(H31, hub.passwords[H31])
    body = ENVELOPE.format(header=header, body="<lt:GetDocuments/>").replace(
        ns.SOAP11_ENV, ns.SOAP12_ENV
    )
    response = post(hub, body.encode(), {"Content-Type": "application/soap+xml; charset=utf-8"})
    assert fault_code(response) == "VersionMismatch"
    assert "SOAP 1.2" in etree.fromstring(response.content).findtext(".//faultstring")


def test_a_header_the_hub_must_understand_and_does_not_refuses_the_request(hub):
    """As SOAP 1.1 says: a client that adds WS-Addressing, say, and marks it
    mustUnderstand, learns the hub does not speak it rather than being served without."""
    action = (
        '<wsa:Action xmlns:wsa="http://www.w3.org/2005/08/addressing" '
        'soapenv:mustUnderstand="1">urn:lienthong:GetDocuments</wsa:Action>'
    )
    header = security_header(H31, hub.passwords[H31]).replace(
        "<soapenv:Header>", "<soapenv:Header>" + action
    )
    response = post(hub, ENVELOPE.format(header=header, body="<lt:GetDocuments/>").encode())
    assert fault_code(response) == "MustUnderstand"
    assert "Action" in etree.fromstring(response.content).findtext(".//faultstring")
    understood = security_header(H31, hub.passwords[H31]).replace(
        "<wsse:Security ", '<wsse:Security soapenv:mustUnderstand="1" '
    )
    assert 'mustUnderstand="1"' in understood
    body = ENVELOPE.format(header=understood, body="<lt:GetDocuments/>").encode()
    assert post(hub, body).status_code == 200


def test_a_replayed_nonce_is_refused(hub):
    created = datetime.now(UTC).isoformat()
    header = security_header(H31, hub.passwords[H31], nonce=uuid.uuid4().bytes, created=created)
    body = ENVELOPE.format(header=header, body="<lt:GetDocuments/>").encode()
    assert post(hub, body).status_code == 200
    assert fault_code(post(hub, body)) == "Client.Authentication"


def test_a_stale_created_time_is_refused(hub):
    header = security_header(
        H31, hub.passwords[H31], nonce=uuid.uuid4().bytes, created="2020-01-01T00:00:00Z"
    )
    body = ENVELOPE.format(header=header, body="<lt:GetDocuments/>").encode()
    assert fault_code(post(hub, body)) == "Client.Authentication"


def test_unknown_recipient_and_sender_mismatch(hub):
    sender = connect(hub, G12)
    code = refused(lambda: sender.send(document(recipients=(H31, "000.00.00.Z99"))))
    assert code == "Client.UnknownRecipient"
    assert refused(lambda: connect(hub, H31).send(document())) == "Client.SenderMismatch"


@pytest.mark.parametrize(
    "data, code",
    [
        (sample("edoc.edxml"), "Client.XMLSyntax"),
        (b"not xml at all", "Client.XMLSyntax"),
        (
            b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>',
            "Client.DTDNotAllowed",
        ),
        (document(recipients=("lower.case",)), "Client.InvalidDocument"),
        (b"<edXML/>", "Client.InvalidDocument"),
    ],
    ids=["malformed-real", "non-xml", "xxe-in-edxml", "bad-code", "wrong-root"],
)
def test_bad_edxml_gets_its_fault(hub, data, code):
    assert refused(lambda: connect(hub, G12).send(data)) == code


def test_invalid_document_fault_carries_the_path(hub):
    header = security_header(G12, hub.passwords[G12])
    encoded = base64.b64encode(document(recipients=("x",))).decode()
    body = ENVELOPE.format(
        header=header,
        body=f"<lt:SendDocument><lt:Document>{encoded}</lt:Document></lt:SendDocument>",
    ).encode()
    response = post(hub, body)
    assert fault_code(response) == "Client.InvalidDocument"
    path = etree.fromstring(response.content).findtext(f".//{{{ns.GATEWAY}}}Path")
    assert path == "/edXML/edXMLEnvelope/edXMLHeader/MessageHeader/To/OrganId"


@pytest.mark.parametrize(
    "body, code",
    [
        (b"", "Client.EmptyRequest"),
        (b"<soap", "Client.XMLSyntax"),
        (b"<!DOCTYPE x><x/>", "Client.DTDNotAllowed"),
        (
            b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaa">'
            b'<!ENTITY b "&a;&a;&a;&a;">]><l>&b;</l>',
            "Client.DTDNotAllowed",
        ),
        (b"<a>" * 3000 + b"</a>" * 3000, "Client.XMLSyntax"),
        (b"<x/>", "Client.InvalidRequest"),
    ],
    ids=["empty", "truncated", "doctype", "billion-laughs", "deep", "not-soap"],
)
def test_hostile_soap_bodies_get_catalogue_faults(hub, body, code):
    assert fault_code(post(hub, body)) == code


def test_bad_base64_and_bad_max_count_are_invalid_requests(hub):
    header = security_header(G12, hub.passwords[G12])
    bad_base64 = ENVELOPE.format(
        header=header,
        body="<lt:SendDocument><lt:Document>%%%not-base64</lt:Document></lt:SendDocument>",
    ).encode()
    assert fault_code(post(hub, bad_base64)) == "Client.InvalidRequest"
    for value in ("0", "-5", "abc", "1000"):
        body = ENVELOPE.format(
            header=header,
            body=f"<lt:GetDocuments><lt:MaxCount>{value}</lt:MaxCount></lt:GetDocuments>",
        ).encode()
        assert fault_code(post(hub, body)) == "Client.InvalidRequest", value


def test_a_body_over_the_limit_is_refused_before_it_is_read(hub):
    limit = 40 * 2**20
    address = urlsplit(hub.url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=10)
    connection.putrequest("POST", address.path)
    connection.putheader("Content-Type", "text/xml; charset=utf-8")
    connection.putheader("Content-Length", str(limit + 1))
    connection.endheaders()
    connection.send(b"<" + b"x" * 1023)  # the rest is never sent: the hub must not wait for it
    response = connection.getresponse()
    assert response.status == 500
    root = etree.fromstring(response.read())
    assert root.findtext(".//faultcode") == "soap11env:Client.TooLarge"
    connection.close()


def test_a_body_cut_short_of_its_content_length_is_refused_and_not_stored(hub):
    encoded = base64.b64encode(document(document_id="000.00.00.G12,2024/05/03,7/CUT")).decode()
    body = ENVELOPE.format(
        header=security_header(G12, hub.passwords[G12]),
        body=f"<lt:SendDocument><lt:Document>{encoded}</lt:Document></lt:SendDocument>",
    ).encode()
    address = urlsplit(hub.url)
    with socket.create_connection((address.hostname, address.port), timeout=10) as sock:
        sock.sendall(
            f"POST {address.path} HTTP/1.1\r\nHost: {address.netloc}\r\n"
            f"Content-Type: text/xml; charset=utf-8\r\nContent-Length: {len(body) + 10}\r\n"
            "\r\n".encode()
            + body
        )
        sock.shutdown(socket.SHUT_WR)  # the client goes away ten bytes short
        response = http.client.HTTPResponse(sock)
        response.begin()
        assert response.status == 500
        root = etree.fromstring(response.read())
    assert root.findtext(".//faultcode") == "soap11env:Client.InvalidRequest"
    unknown = refused(lambda: connect(hub, G12).status("000.00.00.G12,2024/05/03,7/CUT"))
    assert unknown == "Client.UnknownDocument"


def test_a_document_over_the_limit_is_too_large(hub):
    big = document(attachment=b"\0" * (19 * 2**20))  # 25 MiB once base64-encoded
    assert refused(lambda: connect(hub, G12).send(big)) == "Client.TooLarge"


def test_the_wsdl_is_the_published_contract(hub):
    from pathlib import Path

    from gateway.soap.application import DEFAULT_ADDRESS

    contract = Path(__file__).parents[2] / "wsdl"
    served = requests.get(f"{hub.url}?wsdl", timeout=10).content
    assert hub.url.encode() in served
    assert (
        served.replace(hub.url.encode(), DEFAULT_ADDRESS.encode())
        == (contract / "lienthong.wsdl").read_bytes()
    )
    xsd = requests.get(hub.url.replace("/soap", "/wsdl/edxml.xsd"), timeout=10)
    assert xsd.content == (contract / "edxml.xsd").read_bytes()
    # the Host header of a request does not change the published address
    spoofed = requests.get(f"{hub.url}?wsdl", headers={"Host": "evil.example"}, timeout=10)
    assert b"evil.example" not in spoofed.content


def test_the_endpoint_answers_http_methods_as_http_says(hub):
    wsdl = requests.get(f"{hub.url}?wsdl", timeout=10)
    head = requests.head(f"{hub.url}?wsdl", timeout=10)
    assert (head.status_code, head.content) == (200, b"")
    assert head.headers["Content-Length"] == str(len(wsdl.content))
    browsed = requests.get(hub.url, timeout=10)
    assert (browsed.status_code, browsed.headers["Allow"]) == (405, "POST, OPTIONS")
    assert etree.fromstring(browsed.content).findtext(".//faultcode").endswith("InvalidRequest")
    options = requests.options(hub.url, timeout=10)
    assert (options.status_code, options.headers["Allow"]) == (204, "POST, OPTIONS")


def test_refused_requests_leave_the_store_unchanged(hub):
    recipient = connect(hub, H49)
    recipient.receive(lambda m: None, max_count=100)
    sender = connect(hub, G12)
    for bad in (document(recipients=(H49, "000.00.00.Z98")), sample("edoc.edxml")):
        with pytest.raises(HubFault):
            sender.send(bad)
    assert recipient.fetch() == []
