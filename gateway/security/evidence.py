"""The evidence chain's arithmetic: record hashes, signed checkpoints, offline proofs.

Pure functions shared by the hub (which appends and checks the chain) and the connector
(which checks a proof with nothing but the hub's certificate).
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from gateway.security.signatures import load_certificate

GENESIS = "0" * 64
"""The previous hash of the first record."""

RECORD_FIELDS = (
    "seq", "at", "kind", "agency", "document_id", "message_id", "status_code", "detail",
    "content_sha256", "prev_hash",
)  # fmt: skip


_CANONICAL = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))
"""The fixed form of a record (``json.dumps`` with these options builds one per call)."""


def record_hash(record: dict) -> str:
    """SHA-256 over the record's fields (including the previous hash) in a fixed form."""
    canonical = {name: plain(record[name]) for name in RECORD_FIELDS}
    return hashlib.sha256(_CANONICAL.encode(canonical).encode("utf-8")).hexdigest()


def checkpoint_message(seq: int, head_hash: str, at: datetime) -> bytes:
    return f"lienthong-checkpoint:{seq}:{head_hash}:{plain(at)}".encode("ascii")


class CheckpointSigner:
    """Signs checkpoints of the chain head with the hub's own key."""

    def __init__(self, key_pem: bytes, cert_pem: bytes):
        self._key = serialization.load_pem_private_key(key_pem, password=None)
        self.certificate_pem = cert_pem.decode("ascii")
        load_certificate(cert_pem)

    def sign(self, seq: int, head_hash: str, at: datetime) -> str:
        message = checkpoint_message(seq, head_hash, at)
        if isinstance(self._key, rsa.RSAPrivateKey):
            signature = self._key.sign(message, padding.PKCS1v15(), hashes.SHA256())
        else:
            signature = self._key.sign(message, ec.ECDSA(hashes.SHA256()))
        return base64.b64encode(signature).decode("ascii")


def checkpoint_is_signed(checkpoint: dict, cert_pem: str) -> bool:
    """Whether the hub certificate's key signed this checkpoint."""
    public_key = load_certificate(cert_pem).public_key()
    message = checkpoint_message(checkpoint["seq"], checkpoint["head_hash"], checkpoint["at"])
    signature = base64.b64decode(checkpoint["signature"])
    try:
        if isinstance(public_key, rsa.RSAPublicKey):
            public_key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
        else:
            public_key.verify(signature, message, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True


def verify_proof(proof: dict, cert_pem: str) -> list[str]:
    """Problems with a proof exported by ``audit proof``; an empty list means it holds.

    The proof's records are consecutive from the first that concerns the document up to a
    signed checkpoint. Records about the document carry all their fields and their hash is
    recomputed; the others carry only their hashes. Each must link to the one before.
    """
    problems = []
    records = proof.get("records", [])
    checkpoint = proof.get("checkpoint")
    if not records or not checkpoint:
        return ["the proof has no records or no checkpoint"]
    previous = None
    for record in records:
        if previous is not None:
            if record["seq"] != previous["seq"] + 1:
                problems.append(f"record {previous['seq'] + 1} is missing")
            if record["prev_hash"] != previous["record_hash"]:
                problems.append(f"record {record['seq']} does not follow record {previous['seq']}")
        if "kind" in record and record_hash(record) != record["record_hash"]:
            problems.append(f"record {record['seq']} has been altered")
        previous = record
    if (previous["seq"], previous["record_hash"]) != (checkpoint["seq"], checkpoint["head_hash"]):
        problems.append("the records do not end at the signed checkpoint")
    if not checkpoint_is_signed(checkpoint, cert_pem):
        problems.append("the checkpoint is not signed by the hub's certificate")
    return problems


def plain(value):
    """A field as it enters a hash: datetimes as UTC ISO strings, the rest unchanged."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    return value
