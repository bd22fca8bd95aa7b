"""The evidence chain's arithmetic and offline proofs."""

import copy
from datetime import UTC, datetime

from gateway.security.evidence import (
    GENESIS,
    CheckpointSigner,
    plain,
    record_hash,
    verify_proof,
)
from gateway.security.keys import self_signed


def chain(n: int) -> list[dict]:
    records, previous = [], GENESIS
    for seq in range(1, n + 1):
        record = {
            "seq": seq, "at": datetime(2026, 11, 25, 8, seq, tzinfo=UTC), "kind": "received",
            "agency": "000.00.00.G12", "document_id": f"G12,{seq}", "message_id": f"m{seq}",
            "status_code": "", "detail": "Công văn", "content_sha256": "ab" * 32,
            "prev_hash": previous,
        }  # fmt: skip
        record["record_hash"] = previous = record_hash(record)
        records.append({key: plain(value) for key, value in record.items()})
    return records


def proof_for(records, signer, about=(2,)):
    last = records[-1]
    at = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    checkpoint = {
        "seq": last["seq"], "head_hash": last["record_hash"], "at": plain(at),
        "signature": signer.sign(last["seq"], last["record_hash"], at),
    }  # fmt: skip
    shown = [
        r if r["seq"] in about else {k: r[k] for k in ("seq", "prev_hash", "record_hash")}
        for r in records[1:]
    ]
    return {"document_id": "G12,2", "records": shown, "checkpoint": checkpoint}


def test_the_hash_covers_every_field_and_is_stable():
    [record] = chain(1)
    assert record_hash(record) == record["record_hash"]
    for field in ("seq", "kind", "detail", "content_sha256", "prev_hash", "at"):
        changed = dict(record, **{field: "x" if field != "seq" else 9})
        assert record_hash(changed) != record["record_hash"]


def test_a_proof_verifies_with_the_hub_certificate_alone():
    key, cert = self_signed("hub")
    proof = proof_for(chain(5), CheckpointSigner(key, cert))
    assert verify_proof(proof, cert.decode()) == []


def test_altered_missing_or_foreign_proofs_fail():
    key, cert = self_signed("hub")
    proof = proof_for(chain(5), CheckpointSigner(key, cert))
    altered = copy.deepcopy(proof)
    altered["records"][0]["detail"] = "Khác"
    assert "record 2 has been altered" in verify_proof(altered, cert.decode())
    missing = copy.deepcopy(proof)
    del missing["records"][1]
    assert any("missing" in p for p in verify_proof(missing, cert.decode()))
    _, other = self_signed("not the hub")
    assert any("not signed" in p for p in verify_proof(proof, other.decode()))
