"""End to end: the contract through SOAP stacks other than the connector's zeep.

Integrators generate clients from the WSDL with whatever their system runs on. suds
(Python) and node-soap (Node.js) read the published WSDL here, sign in with their own
WS-Security UsernameToken, and exchange a document with the real gateway; the faults
reach them as SOAP faults with the catalogue's codes.
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

NODE_CLIENT = Path(__file__).parent / "node"
"""The node-soap script and its pinned dependencies."""
NODE_MODULES = Path(__file__).parents[2] / ".venv-node"
"""Where node-soap is installed once, beside the project's other caches."""


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
            token.setnonce()
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


def node_call(command, hub, agency: str, operation: str, argument, password=None) -> dict:
    """One operation through node-soap: its result, or the fault it raised."""
    done = subprocess.run(
        [*command, f"{hub.url}?wsdl", agency, password or hub.passwords[agency], operation,
         json.dumps(argument)],
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
