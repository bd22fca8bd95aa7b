"""Signatures verified before the transaction, against the sender's last known certificate."""

from datetime import UTC, datetime, timedelta

import pytest

from gateway.envelope.parse import parse_message
from gateway.errors import SignatureInvalid, SignatureRequired
from gateway.hub import signing
from gateway.hub.model import Agency
from gateway.hub.signing import SignatureChecks
from gateway.security.keys import self_signed
from gateway.security.signatures import sign_edxml
from gateway.settings import Settings
from tests.builders import G12, document

NOW = datetime.now(UTC) + timedelta(days=1)  # within the certificates' validity (made later)


@pytest.fixture(scope="module")
def keys():
    return self_signed("G12"), self_signed("G12, renewed")


@pytest.fixture
def verified(monkeypatch):
    """The contents whose signature was verified, in order."""
    contents = []
    verify = signing.verify_edxml

    def counting(content, certificate, **options):
        contents.append(content)
        return verify(content, certificate, **options)

    monkeypatch.setattr(signing, "verify_edxml", counting)
    return contents


@pytest.fixture
def seen(keys, verified) -> SignatureChecks:
    """Checks that have verified G12's first signed document (in its transaction)."""
    checks = SignatureChecks(Settings(), ca_bundle=None)
    message, content = _signed(keys[0], "G12,1")
    checks.mark(_sender(keys[0][1]), message, content, NOW, None)
    verified.clear()
    return checks


def _signed(key_pair, document_id: str) -> tuple:
    key, cert = key_pair
    content = sign_edxml(document(document_id=document_id), key, cert)
    return parse_message(content, max_bytes=10**7), content


def _sender(cert: bytes | None, policy: str = "optional") -> Agency:
    certificate = cert.decode() if cert else None
    return Agency(G12, "G12", "hash", certificate=certificate, signature_policy=policy)


def test_a_sender_s_first_document_is_verified_in_the_transaction(keys, verified):
    checks = SignatureChecks(Settings(), ca_bundle=None)
    message, content = _signed(keys[0], "G12,1")
    assert checks.ahead(message, content, NOW) is None
    assert checks.mark(_sender(keys[0][1]), message, content, NOW, None) == "valid"
    assert verified == [content]


def test_later_documents_are_verified_ahead_and_not_again(keys, verified, seen):
    message, content = _signed(keys[0], "G12,2")
    ahead = seen.ahead(message, content, NOW)
    assert verified == [content]
    assert seen.mark(_sender(keys[0][1]), message, content, NOW, ahead) == "valid"
    assert verified == [content]


def test_a_refusal_worked_out_ahead_is_raised_in_the_transaction(keys, verified, seen):
    forged, content = _signed(keys[1], "G12,forged")  # signed with a key G12 does not have
    ahead = seen.ahead(forged, content, NOW)
    with pytest.raises(SignatureInvalid):
        seen.mark(_sender(keys[0][1]), forged, content, NOW, ahead)
    assert verified == [content]


def test_a_certificate_changed_meanwhile_is_verified_again(keys, verified, seen):
    renewed, content = _signed(keys[1], "G12,renewed")
    ahead = seen.ahead(renewed, content, NOW)
    assert ahead.refusal is not None  # against the old certificate
    assert seen.mark(_sender(keys[1][1]), renewed, content, NOW, ahead) == "valid"
    assert verified == [content, content]


def test_unsigned_documents_are_judged_in_the_transaction_by_the_sender_s_policy(keys, seen):
    content = document(document_id="G12,plain")
    message = parse_message(content, max_bytes=10**7)
    assert seen.ahead(message, content, NOW) is None
    assert seen.mark(_sender(keys[0][1]), message, content, NOW, None) == "none"
    with pytest.raises(SignatureRequired):
        seen.mark(_sender(keys[0][1], "required"), message, content, NOW, None)
