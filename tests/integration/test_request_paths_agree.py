"""Generated requests, each sent to the endpoint on every request path: the same answers.

The requests are the contract's operations written the ways clients write them, and
the ways they get them wrong: other prefixes and default namespaces, comments and white
space anywhere, stray attributes and elements, base64 wrapped, cut by a comment or
damaged, integers in other forms, header entries added or missing, wrong passwords.
The hubs answer the same sequence, so they hold the same messages throughout, and every
answer is compared: status, fault code and message, and the body with its generated
ids and times left out. A difference names the first request on which the paths part.
"""

from __future__ import annotations

import base64
import random
import re
import uuid

import pytest
from lxml import etree

from gateway import ns
from gateway.soap import streaming
from gateway.soap.protocol import HardenedSoap11
from tests.builders import G12, H31, H49, document
from tests.wsgi import REQUEST_PATHS, InProcessHub, envelope

PASSWORD = "pw"
REQUESTS_PER_SEED = 300
COUNTS = ("5", " 5 ", "+5", "05", "5.0", "", "-1", "0", "1e2", "9" * 20, "100", "101", "1",
          "\n3\n", "٣", "five", "1000", "2147483648", "3\u00a0")  # fmt: skip
"""MaxCount texts: integers as XML Schema writes them, and what only Python reads as one."""
XSI = "http://www.w3.org/2001/XMLSchema-instance"
FIELD_ATTRIBUTES = (' a="1"', ' xml:lang="vi"', ' lt:x="1"', f' xsi:nil="false" xmlns:xsi="{XSI}"')


class Requests:
    """Random requests from one seed."""

    def __init__(self, seed: int):
        self._random = random.Random(seed)

    def chance(self, probability: float) -> bool:
        return self._random.random() < probability

    def pick(self, *choices):
        return self._random.choice(choices)

    def request(self) -> str:
        """A request in which "{ID}" stands for a MessageId the hub last handed out."""
        operation = self.pick(self.send, self.send, self.fetch, self.fetch, self.ack, self.ack,
                              self.agencies)  # fmt: skip
        name, agency, fields = operation()
        if self.chance(0.05):
            fields.append(self.field("Extra", "1"))
        prefix = self.pick("lt:", "lt:", "lt:", "y:")
        declaration = f' xmlns:y="{ns.GATEWAY}"' if prefix == "y:" else ""
        attribute = self.pick(*[""] * 20, ' a="b"')
        inner = self.gap().join(fields)
        opened = f"<{prefix}{name}{declaration}{attribute}>"
        body = f"{opened}{self.gap()}{inner}{self.gap()}</{prefix}{name}>"
        if self.chance(0.03):
            body += "<lt:GetDocuments/>"
        password = PASSWORD if self.chance(0.97) else "wrong"
        return self.around(envelope(self.gap() + body + self.gap(), agency, password).decode())

    def send(self):
        edxml = document(recipients=(self.pick(H31, H49),), document_id=f"G12,{uuid.uuid4().hex}")
        fields = [self.field("Document", self.base64(edxml))]
        if self.chance(0.05):
            fields.append(self.field("Document", self.base64(edxml)))
        return "SendDocument", G12, fields

    def fetch(self):
        fields = [self.field("MaxCount", self.count())] if self.chance(0.8) else []
        if self.chance(0.05):
            fields.append(self.field("MaxCount", "2"))
        return "GetDocuments", self.pick(H31, H49), fields

    def ack(self):
        ids = [
            "{ID}",
            "{ID}",
            " {ID} ",
            "{ID}\n",
            "{ID}&#13;",
            "<!--c-->{ID}",
            "nope",
            "",
            "a" * 40,
        ]
        fields = [self.field("MessageIds", self.pick(*ids)) for _ in range(self.pick(0, 1, 1, 2))]
        return "AckDocument", self.pick(H31, H49), fields

    def agencies(self):
        codes = ("000.00.00.G12", " 000.00.00.G12 ", "g12", "", "H31.X", "ĐÂ", "x" * 36, "G12\r")
        fields = [
            self.field(name, self.pick(*codes) if name != "MaxCount" else self.count())
            for name in ("ParentCode", "After", "MaxCount")
            if self.chance(0.4)
        ]
        if self.chance(0.1):
            fields.reverse()
        return "GetAgencies", G12, fields

    def field(self, tag: str, text: str) -> str:
        prefix = self.pick("lt:", "lt:", "lt:", "x:", "")
        declaration = {"x:": f' xmlns:x="{ns.GATEWAY}"', "": f' xmlns="{ns.GATEWAY}"'}.get(
            prefix, ""
        )
        attribute = self.pick(*[""] * 20, *FIELD_ATTRIBUTES)
        if self.chance(0.05):
            return f"<{prefix}{tag}{declaration}{attribute}/>"
        return (
            f"<{prefix}{tag}{declaration}{attribute}>{self.gap()}{text}{self.gap()}</{prefix}{tag}>"
        )

    def gap(self) -> str:
        """Nothing mostly; else white space, a comment or a processing instruction."""
        if not self.chance(0.3):
            return ""
        if self.chance(0.02):
            return "<?pi x?>"
        return self.pick(" ", "\n", "\t", "<!-- c -->", " <!--x--> ", "\r\n  ")

    def base64(self, content: bytes) -> str:
        encoded = base64.b64encode(content).decode()
        return self.pick(
            *[encoded] * 14,
            "\n".join(encoded[i : i + 76] for i in range(0, len(encoded), 76)),
            encoded.rstrip("="),
            f"<![CDATA[{encoded}]]>",
            encoded[:10] + "&#65;" + encoded[11:],
            encoded[:20] + "<!--c-->" + encoded[20:],
            encoded + "@",
            "",
            f" {encoded} \r\n",
            encoded[:40] + " " + encoded[40:],
        )

    def count(self) -> str:
        return self.pick(*COUNTS)

    def around(self, text: str) -> str:
        """Variations of the envelope and of its WS-Security header (none, mostly)."""
        for variations, unchanged in ((ENVELOPE_VARIATIONS, 30), (HEADER_VARIATIONS, 24)):
            if not self.chance(unchanged / (unchanged + len(variations))):
                text = self.pick(*variations)(text)
        return text


def swap(old: str, new: str, pattern: bool = False):
    """A variation: the first ``old`` (a regular expression with ``pattern``) made ``new``."""
    if pattern:
        return lambda text: re.sub(old, new, text, count=1, flags=re.DOTALL)
    return lambda text: text.replace(old, new, 1)


ENVELOPE_VARIATIONS = [
    swap("<soapenv:Body>", '<soapenv:Body a="1">'),
    swap("<soapenv:Header>", "<soapenv:Header><!--c-->"),
    swap("</soapenv:Header>", '<x:O xmlns:x="urn:x" soapenv:mustUnderstand="1"/></soapenv:Header>'),
    swap("</soapenv:Header>", '<x:O xmlns:x="urn:x">t</x:O></soapenv:Header>'),
    lambda text: '<?xml version="1.0" encoding="utf-8"?>\n' + text,
    lambda text: text + "<!--tail-->",
    lambda text: text + "<?pi?>",
    swap("</soapenv:Body>", "</soapenv:Body><x/>"),
    swap("</soapenv:Envelope>", "<soapenv:Body/></soapenv:Envelope>"),
    lambda text: text.replace("soapenv:", "S:").replace("xmlns:soapenv=", "xmlns:S="),
]
HEADER_VARIATIONS = [
    swap("<wsse:Username>(.*)</wsse:Username>", "<wsse:Username> \\1\n</wsse:Username>", True),
    swap("<wsse:Security ", '<wsse:Security soapenv:mustUnderstand="1" '),
    swap("<wsse:Nonce>[^<]*</wsse:Nonce>", "", True),
    swap("<wsu:Created>[^<]*</wsu:Created>", "", True),
    lambda text: text.replace("wsse:", "o:").replace("xmlns:wsse=", "xmlns:o="),
    swap("000.00.00.", "&#48;00.00.00."),
    swap("<soapenv:Header>", '<soapenv:Header xmlns:z="urn:z"> '),
    swap("</soapenv:Header>", f'<wsse:Security xmlns:wsse="{ns.WSSE}"/></soapenv:Header>'),
    swap(" Type=", ' a="1" Type='),
    swap("<wsse:UsernameToken>", '<wsse:UsernameToken wsu:Id="t1">'),
    swap("<soapenv:Header>.*</soapenv:Header>", "", True),
]


class PathHub:
    """A hub on one request path, and the MessageIds it last handed out."""

    def __init__(self, request_path: str, folder):
        self.request_path = request_path
        self.hub = InProcessHub(f"sqlite:///{folder / request_path.replace(' ', '-')}.db",
                                streaming=request_path != "spyne")  # fmt: skip
        for code in (G12, H31, H49):
            self.hub.gateway.directory.add(code, code, PASSWORD)
        self.message_ids = ["none"]

    def answer(self, request: str, monkeypatch) -> tuple:
        body = request.replace("{ID}", self.message_ids[0]).encode()
        with monkeypatch.context() as patch:
            if self.request_path == "streaming in pieces":
                patch.setattr(streaming, "WHOLE_UP_TO", -1)
            response = self.hub.call(body)
        text = etree.tostring(etree.fromstring(response.body), method="c14n").decode()
        self.message_ids = re.findall(r"<tns:MessageId>([^<]*)<", text) or self.message_ids
        for generated in (r"[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}",
                          r"\d{4}-\d\d-\d\dT[\d:.]+(Z|[+-]\d\d:\d\d)?",
                          r"G12,[0-9a-f]{32}"):  # fmt: skip
            text = re.sub(generated, "…", text)
        return response.status, response.fault_code, text


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_request_path_answers_every_request_alike(tmp_path, monkeypatch, seed):
    hubs = [PathHub(request_path, tmp_path) for request_path in REQUEST_PATHS]
    requests = Requests(seed)
    for number in range(REQUESTS_PER_SEED):
        request = requests.request()
        answers = {hub.request_path: hub.answer(request, monkeypatch) for hub in hubs}
        assert len(set(answers.values())) == 1, (number, request, answers)
    for hub in hubs:
        hub.hub.gateway.engine.dispose()


def test_an_error_spyne_lets_escape_is_answered_as_a_fault(tmp_path, monkeypatch):
    """The server would otherwise send a bare HTTP 500, which no SOAP client reads."""
    hub = PathHub("spyne", tmp_path)

    def failing(*_):
        raise ValueError("an error in spyne's reading")

    monkeypatch.setattr(HardenedSoap11, "decompose_incoming_envelope", failing)
    status, code, body = hub.answer(envelope("<lt:GetDocuments/>", H31, PASSWORD).decode(),
                                    monkeypatch)  # fmt: skip
    assert (status, code) == (500, "Server.Internal")
    assert "The gateway failed to process the request." in body
    hub.hub.gateway.engine.dispose()
