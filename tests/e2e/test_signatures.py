"""Signed documents and the evidence log, end to end: connector, hub, both command lines."""

import subprocess
import sys

import pytest

from client.connector import Connector
from client.errors import HubFault
from gateway.security.keys import self_signed
from tests.builders import G12, H31, document
from tests.hubprocess import run_admin, start_hub, stop_hub


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    folder = tmp_path_factory.mktemp("keys")
    made = run_admin({}, "generate-signing-key", str(folder / "hub"))
    assert made.returncode == 0, made.stderr
    key, cert = self_signed("Bộ Thông tin và Truyền thông", kind="ec")
    (folder / "g12-key.pem").write_bytes(key)
    (folder / "g12-cert.pem").write_bytes(cert)
    return folder


@pytest.fixture(scope="module")
def hub(tmp_path_factory, keys):
    tmp = tmp_path_factory.mktemp("signed-hub")
    running = start_hub(
        tmp,
        f"sqlite:///{tmp / 'hub.db'}",
        hub_signing_key=keys / "hub" / "hub-key.pem",
        hub_certificate=keys / "hub" / "hub-cert.pem",
    )
    added = running.admin("agency", "set-cert", G12, str(keys / "g12-cert.pem"))
    assert added.returncode == 0, added.stderr
    yield running
    stop_hub(running)


def connect(hub, agency, **kwargs) -> Connector:
    return Connector(hub.url, agency, hub.passwords[agency], **kwargs)


def test_a_signed_document_travels_and_the_recipient_verifies_it(hub, keys):
    signer = connect(
        hub, G12,
        key=(keys / "g12-key.pem").read_bytes(), cert=(keys / "g12-cert.pem").read_bytes(),
    )  # fmt: skip
    signer.send(document(document_id="G12,signed", recipients=(H31,)))
    [message] = connect(hub, H31).fetch(verify=True)
    assert (message.signature, message.verification) == ("valid", "valid")
    assert connect(hub, H31).certificate(G12) == (keys / "g12-cert.pem").read_text()


def test_a_document_signed_with_another_key_is_refused(hub):
    key, cert = self_signed("impostor")
    with pytest.raises(HubFault) as caught:
        connect(hub, G12, key=key, cert=cert).send(document(document_id="G12,forged"))
    assert caught.value.code == "Client.SignatureInvalid"


def test_the_command_lines_sign_verify_audit_and_prove(hub, keys, tmp_path):
    path = tmp_path / "doc.edxml"
    path.write_bytes(document(document_id="G12,cli", recipients=(H31,)))
    env = {**hub.env, "SECRET": hub.passwords[G12]}
    base = [sys.executable, "-m", "client.cli", "--url", hub.url, "--password-env", "SECRET"]
    sent = subprocess.run(
        [*base, "--agency", G12, "send", "--key", str(keys / "g12-key.pem"),
         "--cert", str(keys / "g12-cert.pem"), str(path)],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert sent.returncode == 0, sent.stderr
    env["SECRET"] = hub.passwords[H31]
    fetched = subprocess.run(
        [*base, "--agency", H31, "fetch", "--verify", "--ack", "--out", str(tmp_path / "in")],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert fetched.returncode == 0, fetched.stderr
    assert "[valid]" in fetched.stdout

    audit = hub.admin("audit", "verify")
    assert audit.returncode == 0, audit.stderr
    assert "intact" in audit.stdout
    proof = tmp_path / "proof.json"
    exported = hub.admin("audit", "proof", "G12,cli", "--out", str(proof))
    assert exported.returncode == 0, exported.stderr
    checked = subprocess.run(
        [sys.executable, "-m", "client.cli", "verify-proof", str(proof),
         "--hub-cert", str(keys / "hub" / "hub-cert.pem")],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stderr
    assert "proof holds" in checked.stdout and "acknowledged" in checked.stdout
    proof.write_text(proof.read_text().replace(G12, "000.00.00.X99"))
    forged = subprocess.run(
        [sys.executable, "-m", "client.cli", "verify-proof", str(proof),
         "--hub-cert", str(keys / "hub" / "hub-cert.pem")],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert forged.returncode == 1
