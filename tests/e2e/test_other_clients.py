"""End to end: the contract through SOAP stacks other than the connector's zeep.

Integrators generate clients from the WSDL with whatever their system runs on. suds
(Python) and node-soap (Node.js) read the published WSDL; a JAX-WS client is generated
by wsimport from the files in wsdl/ (Java), and an ASMX client by the wsdl tool (.NET,
on Mono); each signs in with its own
WS-Security UsernameToken and exchanges a document with the real gateway, and the
faults reach it as SOAP faults with the catalogue's codes.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest
from suds import WebFault
from suds.client import Client
from suds.wsse import Security, UsernameToken

from tests.builders import G12, H31, document
from tests.hubprocess import DIGEST_AGENCY

NODE_CLIENT = Path(__file__).parent / "node"
"""The node-soap script and its pinned dependencies."""
NODE_MODULES = Path(__file__).parents[2] / ".venv-node"
"""Where node-soap is installed once, beside the project's other caches."""
JAVA_CLIENT = Path(__file__).parent / "java" / "Exchange.java"
DOTNET_CLIENT = Path(__file__).parent / "dotnet" / "Exchange.cs"
CONTRACT = Path(__file__).parents[2] / "wsdl" / "lienthong.wsdl"


def unique_document(recipients=(H31,)) -> bytes:
    """A document of its own, with Vietnamese text in its subject."""
    document_id = f"000.00.00.G12,2024/05/01,{uuid.uuid4().hex[:8]}/BTTTT"
    return document(document_id=document_id, recipients=recipients,
                    subject="Về việc thử liên thông qua một SOAP khác")  # fmt: skip


class SudsAgency:
    """A suds client of the hub's WSDL, signed in as ``agency`` with a fresh token
    (nonce and time) for each call, as the hub refuses a nonce seen before."""

    def __init__(self, hub, agency: str, password: str | None = None):
        self._client = Client(f"{hub.url}?wsdl", cache=None)
        self._agency = agency
        self._password = hub.passwords[agency] if password is None else password

    def __getattr__(self, operation: str):
        def call(*args):
            token = UsernameToken(self._agency, self._password)
            token.setnonce(uuid.uuid4().hex)  # suds's own is a hash of the time
            token.setcreated()
            security = Security()
            security.tokens.append(token)
            self._client.set_options(wsse=security)
            return getattr(self._client.service, operation)(*args)

        return call


def test_suds_sends_fetches_and_acknowledges_byte_exact(hub):
    sender, recipient = SudsAgency(hub, G12), SudsAgency(hub, H31)
    edxml = unique_document()
    sent = sender.SendDocument(base64.b64encode(edxml).decode())
    [delivery] = sent.Deliveries
    assert (delivery.Recipient, delivery.State) == (H31, "pending")
    received = {m.MessageId: m for m in recipient.GetDocuments(100)}
    message = received[delivery.MessageId]
    assert base64.b64decode(message.Document) == edxml
    assert (message.Sender, message.Kind, message.DocumentId) == (G12, "document", sent.DocumentId)
    acked = recipient.AckDocument([delivery.MessageId])
    assert acked.Acknowledged == 1
    assert delivery.MessageId not in {m.MessageId for m in recipient.GetDocuments(100)}


def test_suds_gets_the_catalogue_fault_codes(hub):
    with pytest.raises(WebFault) as refused:
        SudsAgency(hub, G12, password="wrong").GetDocuments(1)
    assert refused.value.fault.faultcode.endswith("Client.Authentication")
    with pytest.raises(WebFault) as unknown:
        SudsAgency(hub, G12).SendDocument(
            base64.b64encode(unique_document(recipients=("000.00.00.Z99",))).decode()
        )
    assert unknown.value.fault.faultcode.endswith("Client.UnknownRecipient")


@pytest.fixture(scope="module")
def node_soap():
    """The node-soap script's command, node-soap installed once from its lock file;
    skipped where Node.js or the npm registry is out of reach."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("Node.js is not installed")
    lock = (NODE_CLIENT / "package-lock.json").read_bytes()
    installed = NODE_MODULES / "installed-lock.json"  # the lock of the last finished install
    if not installed.exists() or installed.read_bytes() != lock:
        NODE_MODULES.mkdir(exist_ok=True)
        for name in ("package.json", "package-lock.json"):
            shutil.copy(NODE_CLIENT / name, NODE_MODULES / name)
        try:
            done = subprocess.run(
                ["npm", "ci", "--no-audit", "--no-fund", "--silent", "--fetch-retries=1"],
                cwd=NODE_MODULES, capture_output=True, text=True, timeout=180,
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            pytest.skip("node-soap could not be installed in time")
        if done.returncode != 0:
            pytest.skip(f"node-soap could not be installed: {done.stderr[-300:]}")
        installed.write_bytes(lock)
    return ["node", str(NODE_CLIENT / "exchange.js")]


def node_call(
    command, hub, agency: str, operation: str, argument, password=None, digest=False
) -> dict:
    """One operation through node-soap (signed in with a PasswordDigest if ``digest``):
    its result, or the fault it raised."""
    done = subprocess.run(
        [*command, f"{hub.url}?wsdl", agency, password or hub.passwords[agency], operation,
         json.dumps(argument), "PasswordDigest" if digest else "PasswordText"],
        capture_output=True, text=True, timeout=60,
        env={**os.environ, "NODE_PATH": str(NODE_MODULES / "node_modules")},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def node_inbox(command, hub, agency: str) -> dict[str, dict]:
    """The messages GetDocuments leases to ``agency`` through node-soap, by MessageId
    (node-soap reads an empty response as null)."""
    got = node_call(command, hub, agency, "GetDocuments", {"MaxCount": 100})
    return {m["MessageId"]: m for m in (got["result"] or {}).get("ReceivedDocument", [])}


def test_node_soap_sends_fetches_and_acknowledges_byte_exact(hub, node_soap):
    edxml = unique_document()
    sent = node_call(node_soap, hub, G12, "SendDocument",
                     {"Document": base64.b64encode(edxml).decode()})  # fmt: skip
    [delivery] = sent["result"]["SendDocumentResult"]["Deliveries"]
    assert (delivery["Recipient"], delivery["State"]) == (H31, "pending")
    message = node_inbox(node_soap, hub, H31)[delivery["MessageId"]]
    assert base64.b64decode(message["Document"]) == edxml
    assert (message["Sender"], message["Kind"]) == (G12, "document")
    acked = node_call(node_soap, hub, H31, "AckDocument", {"MessageIds": [delivery["MessageId"]]})
    assert acked["result"]["AckDocumentResult"]["Acknowledged"] == 1
    assert delivery["MessageId"] not in node_inbox(node_soap, hub, H31)


def test_node_soap_gets_the_catalogue_fault_codes(hub, node_soap):
    refused = node_call(node_soap, hub, G12, "GetDocuments", {"MaxCount": 1}, password="wrong")
    assert refused["fault"]["faultcode"].endswith("Client.Authentication")


def test_node_soap_signs_in_with_a_password_digest(hub, node_soap):
    """node-soap computes the digest over its own nonce and Created time; the hub checks
    it for an agency allowed to use one."""
    signed_in = node_call(node_soap, hub, DIGEST_AGENCY, "GetDocuments", {"MaxCount": 1},
                          digest=True)  # fmt: skip
    assert "fault" not in signed_in
    refused = node_call(node_soap, hub, DIGEST_AGENCY, "GetDocuments", {"MaxCount": 1},
                        password="not-the-secret", digest=True)  # fmt: skip
    assert refused["fault"]["faultcode"].endswith("Client.Authentication")


@pytest.fixture(scope="module")
def jax_ws(tmp_path_factory):
    """The command of a JAX-WS client that wsimport generated from wsdl/ and javac
    compiled; skipped where the JDK or the JAX-WS tools (Debian's jaxws) are missing."""
    wsimport = shutil.which("wsimport")
    if wsimport is None or shutil.which("javac") is None or shutil.which("java") is None:
        pytest.skip("the JDK or JAX-WS's wsimport is not installed")
    runtime = Path(wsimport).resolve().parents[1] / "lib" / "jaxws-rt.jar"
    if not runtime.exists():
        pytest.skip("JAX-WS's runtime is not beside wsimport")
    libraries = f"{runtime.resolve().parent}/*"  # the runtime and the jars it names
    build = tmp_path_factory.mktemp("jax-ws")
    sources, classes = build / "sources", build / "classes"
    sources.mkdir(), classes.mkdir()
    _run(["wsimport", "-Xnocompile", "-quiet", "-p", "generated", "-d", sources, CONTRACT])
    _run(["javac", "-nowarn", "-encoding", "UTF-8", "-cp", libraries, "-d", classes,
          *(sources / "generated").glob("*.java"), JAVA_CLIENT])  # fmt: skip
    return ["java", "-cp", f"{classes}:{libraries}", "Exchange"]


def _run(command: list) -> None:
    done = subprocess.run(command, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr


def java_call(command, hub, agency: str, *args, password=None) -> list[list[str]]:
    """One operation through the JAX-WS client, which reads the served WSDL."""
    return client_call(command, f"{hub.url}?wsdl", hub, agency, *args, password=password)


def asmx_call(command, hub, agency: str, *args, password=None) -> list[list[str]]:
    """One operation through the ASMX client, which is given the hub's endpoint."""
    return client_call(command, hub.url, hub, agency, *args, password=password)


def client_call(command, address: str, hub, agency: str, *args, password=None):
    """One operation through a compiled client given the hub at ``address``: its output's
    lines, split into fields."""
    done = subprocess.run(
        [*command, address, agency, password or hub.passwords[agency], *map(str, args)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return [line.split() for line in done.stdout.splitlines()]


def test_jax_ws_sends_fetches_and_acknowledges_byte_exact(hub, jax_ws, tmp_path):
    edxml = unique_document()
    (tmp_path / "document.edxml").write_bytes(edxml)
    [[recipient, message_id, state]] = java_call(
        jax_ws, hub, G12, "send", tmp_path / "document.edxml"
    )
    assert (recipient, state) == (H31, "pending")
    inbox = {fields[0]: fields[1:] for fields in java_call(jax_ws, hub, H31, "get")}
    sender, kind, content = inbox[message_id]
    assert (sender, kind, base64.b64decode(content)) == (G12, "document", edxml)
    assert java_call(jax_ws, hub, H31, "ack", message_id) == [["1"]]
    assert message_id not in {fields[0] for fields in java_call(jax_ws, hub, H31, "get")}


def test_jax_ws_gets_the_catalogue_fault_codes(hub, jax_ws):
    refused = java_call(jax_ws, hub, G12, "get", password="wrong")
    assert refused == [["fault", "Client.Authentication"]]


@pytest.fixture(scope="module")
def asmx(tmp_path_factory):
    """The command of a .NET client: an ASMX proxy that the wsdl tool generated from
    wsdl/, compiled with the client's code on Mono; skipped where Mono's development
    tools (Debian's mono-devel) are missing."""
    if not all(shutil.which(tool) for tool in ("wsdl", "mcs", "mono")):
        pytest.skip("Mono's wsdl tool and C# compiler are not installed")
    build = tmp_path_factory.mktemp("asmx")
    _run(["wsdl", "-nologo", f"-out:{build / 'LienThongService.cs'}", CONTRACT])
    _run(["mcs", "-nologo", f"-out:{build / 'exchange.exe'}", "-r:System.Web.Services",
          "-r:System.Xml", build / "LienThongService.cs", DOTNET_CLIENT])  # fmt: skip
    return ["mono", build / "exchange.exe"]


def test_asmx_sends_fetches_and_acknowledges_byte_exact(hub, asmx, tmp_path):
    edxml = unique_document()
    (tmp_path / "document.edxml").write_bytes(edxml)
    [[recipient, message_id, state]] = asmx_call(
        asmx, hub, G12, "send", tmp_path / "document.edxml"
    )
    assert (recipient, state) == (H31, "pending")
    inbox = {fields[0]: fields[1:] for fields in asmx_call(asmx, hub, H31, "get")}
    sender, kind, content = inbox[message_id]
    assert (sender, kind, base64.b64decode(content)) == (G12, "document", edxml)
    assert asmx_call(asmx, hub, H31, "ack", message_id, "not-a-message") == [["1"]]
    assert message_id not in {fields[0] for fields in asmx_call(asmx, hub, H31, "get")}


def test_asmx_gets_the_catalogue_fault_codes(hub, asmx):
    refused = asmx_call(asmx, hub, G12, "get", password="wrong")
    assert refused == [["fault", "Client.Authentication"]]
