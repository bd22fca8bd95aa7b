"""Signature checks at the hub and the evidence chain, on SQLite and PostgreSQL."""

import threading

import pytest
from sqlalchemy import func, select, text

from gateway.bootstrap import build_gateway
from gateway.errors import SignatureInvalid, SignatureRequired
from gateway.hub import audit as audit_module
from gateway.hub.audit import Audit
from gateway.security.evidence import verify_proof
from gateway.security.keys import self_signed
from gateway.security.signatures import sign_edxml
from gateway.settings import Settings
from gateway.store.tables import documents
from tests.builders import G12, H31, H49, document


@pytest.fixture(scope="module")
def hub_keys(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hub-keys")
    key, cert = self_signed("LienThong Gateway")
    (folder / "key.pem").write_bytes(key)
    (folder / "cert.pem").write_bytes(cert)
    return folder


@pytest.fixture(scope="module")
def agency_keys():
    return self_signed("Bộ Thông tin và Truyền thông", kind="rsa")


@pytest.fixture
def gateway(database_url, hub_keys, agency_keys):
    settings = Settings(
        db_url=database_url,
        hub_signing_key=str(hub_keys / "key.pem"),
        hub_certificate=str(hub_keys / "cert.pem"),
    )
    gw = build_gateway(settings)
    gw.directory.add(G12, "Bộ TT&TT", "pw", certificate=agency_keys[1].decode())
    gw.directory.add(H31, "Hưng Yên", "pw")
    gw.directory.add(H49, "Quảng Ninh", "pw")
    yield gw
    gw.engine.dispose()


def stored(gw) -> int:
    with gw.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(documents)).scalar()


def test_signed_documents_are_verified_and_marked(gateway, agency_keys):
    key, cert = agency_keys
    signed = sign_edxml(document(), key, cert)
    gateway.hub.send(G12, signed)
    [message] = gateway.hub.fetch(H31, 10)
    assert message.content == signed
    assert message.signature == "valid"


def test_a_bad_signature_stores_nothing(gateway, agency_keys):
    key, cert = agency_keys
    tampered = sign_edxml(document(), key, cert).replace("Về việc".encode(), b"Ve viec")
    with pytest.raises(SignatureInvalid):
        gateway.hub.send(G12, tampered)
    other_key, other_cert = self_signed("impostor")
    with pytest.raises(SignatureInvalid):
        gateway.hub.send(G12, sign_edxml(document(), other_key, other_cert))
    assert stored(gateway) == 0


def test_signatures_can_be_required_per_agency_and_for_the_hub(gateway, agency_keys, database_url):
    gateway.hub.send(G12, document(document_id="G12,unsigned-ok"))
    gateway.directory.set_signature_policy(G12, "required")
    with pytest.raises(SignatureRequired):
        gateway.hub.send(G12, document(document_id="G12,unsigned"))
    key, cert = agency_keys
    gateway.hub.send(G12, sign_edxml(document(document_id="G12,signed"), key, cert))
    strict = build_gateway(Settings(db_url=database_url, require_signatures=True))
    with pytest.raises(SignatureRequired):
        strict.hub.send(H31, document(sender=H31, recipients=(H49,), document_id="H31,1"))
    strict.engine.dispose()


def test_the_chain_stays_whole_under_concurrent_senders(gateway):
    def send(worker):
        for n in range(10):
            gateway.hub.send(G12, document(document_id=f"G12,{worker},{n}", attachment=None))

    threads = [threading.Thread(target=send, args=(w,)) for w in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    report = gateway.audit.verify()
    assert report.intact, report
    assert report.records == 6 * 10 * 2
    with gateway.engine.connect() as conn:
        seqs = conn.execute(text("SELECT seq FROM events ORDER BY seq")).scalars().all()
    assert seqs == list(range(1, 121))


@pytest.mark.parametrize(
    "tamper, broken_at",
    [
        ("UPDATE events SET detail = 'changed' WHERE seq = 5", 5),
        ("DELETE FROM events WHERE seq = 7", 7),
        ("UPDATE events SET seq = -3 WHERE seq = 3;"
         "UPDATE events SET seq = 3 WHERE seq = 4;"
         "UPDATE events SET seq = 4 WHERE seq = -3", 3),
        ("DELETE FROM events WHERE seq = 12", 12),
    ],
    ids=["edit", "delete", "reorder", "delete-last"],
)  # fmt: skip
def test_audit_names_the_first_broken_record(gateway, tamper, broken_at):
    for n in range(6):
        gateway.hub.send(G12, document(document_id=f"G12,{n}"))  # two records each
    assert gateway.audit.verify().intact
    with gateway.engine.begin() as conn:
        for statement in tamper.split(";"):
            conn.execute(text(statement))
    report = gateway.audit.verify()
    assert not report.intact
    assert report.broken_at == broken_at


def test_audit_walks_in_short_transactions_while_records_and_checkpoints_are_added(
    gateway, hub_keys, monkeypatch
):
    monkeypatch.setattr(audit_module, "BATCH", 4)
    for n in range(6):
        gateway.hub.send(G12, document(document_id=f"G12,{n}"))  # two records each
    gateway.hub.checkpoint()
    before = gateway.audit.verify()
    opened = []

    def unit_of_work():
        opened.append(True)
        if len(opened) <= 3:  # the hub goes on between the audit's transactions
            gateway.hub.send(G12, document(document_id=f"G12,late,{len(opened)}"))
            gateway.hub.checkpoint()
        return gateway.unit_of_work()

    audit = Audit(unit_of_work, (hub_keys / "cert.pem").read_text())
    report = audit.verify()
    assert report.intact, report
    assert (report.records, report.checkpoints) == (before.records + 6, before.checkpoints + 3)
    assert len(opened) == -(-report.records // 4) + 1  # a batch each, and the last look


def test_a_proof_of_a_documents_journey_verifies_offline(gateway, hub_keys):
    gateway.hub.send(G12, document(document_id="G12,proof", recipients=(H31,)))
    gateway.hub.send(G12, document(document_id="G12,other", recipients=(H49,)))
    [message] = gateway.hub.fetch(H31, 10)
    gateway.hub.acknowledge(H31, [message.message_id])
    gateway.hub.checkpoint()
    proof = gateway.audit.proof("G12,proof")
    about = [r["kind"] for r in proof["records"] if "kind" in r]
    assert about == ["received", "leased", "acknowledged"]
    cert = (hub_keys / "cert.pem").read_text()
    assert verify_proof(proof, cert) == []
    proof["records"][0]["agency"] = "000.00.00.X99"
    assert verify_proof(proof, cert)
    assert gateway.audit.verify().checkpoints >= 1


def test_sha1_signatures_pass_only_where_admitted_and_are_marked_weak(database_url):
    from cryptography.hazmat.primitives import serialization
    from lxml import etree

    from gateway import ns
    from tests.unit.test_signatures import OldSystemSigner

    key_pem, cert_pem = self_signed("old system", kind="rsa")
    root = etree.fromstring(document(document_id="G12,sha1", recipients=(H31,)))
    header = root.find(f"{{{ns.EDXML}}}edXMLEnvelope/{{{ns.EDXML}}}edXMLHeader")
    etree.SubElement(header, etree.QName(ns.XMLDSIG, "Signature")).set("Id", "placeholder")
    key = serialization.load_pem_private_key(key_pem, password=None)
    signer = OldSystemSigner(signature_algorithm="rsa-sha1", digest_algorithm="sha1")
    signed = etree.tostring(signer.sign(root, key=key, cert=cert_pem.decode()))
    for admit, expected in ((False, SignatureInvalid), (True, "weak")):
        gw = build_gateway(Settings(db_url=database_url, allow_sha1_signatures=admit))
        if not admit:
            gw.directory.add(G12, "G12", "pw", certificate=cert_pem.decode())
            gw.directory.add(H31, "H31", "pw")
            with pytest.raises(expected):
                gw.hub.send(G12, signed)
        else:
            gw.hub.send(G12, signed)
            [message] = gw.hub.fetch(H31, 10)
            assert message.signature == expected
        gw.engine.dispose()
