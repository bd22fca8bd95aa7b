"""XML signatures on edXML (RSA and EC keys made here) and the certificates behind them."""

import base64
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from lxml import etree
from signxml import DigestAlgorithm, SignatureMethod, XMLSigner

from gateway import ns
from gateway.errors import SignatureInvalid
from gateway.security.keys import self_signed
from gateway.security.signatures import check_certificate, sign_edxml, verify_edxml
from tests.builders import document


@pytest.fixture(scope="module", params=["rsa", "ec"])
def pair(request):
    return self_signed("Bộ Thông tin và Truyền thông", kind=request.param)


def test_a_signed_document_verifies_and_keeps_its_content(pair):
    key, cert = pair
    original = document()
    signed = sign_edxml(original, key, cert)
    verified = verify_edxml(signed, cert.decode())
    assert not verified.weak
    assert "sha256" in verified.algorithm
    header = etree.fromstring(signed).find(f"{{{ns.EDXML}}}edXMLEnvelope/{{{ns.EDXML}}}edXMLHeader")
    assert etree.QName(header[-1]).localname == "Signature"
    assert "Về việc triển khai liên thông văn bản điện tử".encode() in signed


@pytest.mark.parametrize(
    "tamper",
    [
        lambda d: d.replace("Về việc".encode(), b"Ve viec"),  # a header field
        lambda d: d.replace(b"000.00.00.H49", b"000.00.00.H48", 1),  # a recipient
        lambda d: d.replace(b"JVBERi0xLjQ", b"JVBERi0xLjU"),  # the attachment
        lambda d: _flip_signature_value(d),  # the signature value
    ],
    ids=["header-field", "recipient", "attachment", "signature-value"],
)
def test_tampering_anywhere_breaks_the_signature(pair, tamper):
    key, cert = pair
    signed = sign_edxml(document(), key, cert)
    changed = tamper(signed)
    assert changed != signed
    with pytest.raises(SignatureInvalid):
        verify_edxml(changed, cert.decode())


def _flip_signature_value(data: bytes) -> bytes:
    root = etree.fromstring(data)
    value = root.find(f".//{{{ns.XMLDSIG}}}SignatureValue")
    raw = bytearray(base64.b64decode(value.text))
    raw[len(raw) // 2] ^= 0xFF
    value.text = base64.b64encode(bytes(raw)).decode()
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def test_a_swapped_certificate_does_not_verify(pair):
    key, cert = pair
    signed = sign_edxml(document(), key, cert)
    _, other = self_signed("someone else")
    with pytest.raises(SignatureInvalid):
        verify_edxml(signed, other.decode())


class OldSystemSigner(XMLSigner):
    """signxml refuses to make SHA-1 signatures; older systems still do."""

    def check_deprecated_methods(self):
        pass


def test_sha1_is_refused_unless_admitted_and_then_weak():
    key_pem, cert_pem = self_signed("old system", kind="rsa")
    root = etree.fromstring(document())
    header = root.find(f"{{{ns.EDXML}}}edXMLEnvelope/{{{ns.EDXML}}}edXMLHeader")
    etree.SubElement(header, etree.QName(ns.XMLDSIG, "Signature")).set("Id", "placeholder")
    signer = OldSystemSigner(
        signature_algorithm=SignatureMethod.RSA_SHA1, digest_algorithm=DigestAlgorithm.SHA1
    )
    key = serialization.load_pem_private_key(key_pem, password=None)
    signed = etree.tostring(signer.sign(root, key=key, cert=cert_pem.decode()))
    with pytest.raises(SignatureInvalid):
        verify_edxml(signed, cert_pem.decode())
    assert verify_edxml(signed, cert_pem.decode(), allow_sha1=True).weak


def _certificate(subject, issuer, key, issuer_key, *, days=30, offset=0):
    now = datetime.now(UTC) + timedelta(days=offset)
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=days))
        .sign(issuer_key, hashes.SHA256())
        .public_bytes(serialization.Encoding.PEM)
    )


def test_certificates_must_be_current_and_chain_to_the_trusted_cas():
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    agency_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca = _certificate("Root CA", "Root CA", ca_key, ca_key, days=3650)
    issued = _certificate("000.00.00.G12", "Root CA", agency_key, ca_key)
    check_certificate(issued, ca_bundle=ca)
    stranger = _certificate("000.00.00.G12", "Root CA", agency_key, agency_key)
    with pytest.raises(ValueError, match="chain"):
        check_certificate(stranger, ca_bundle=ca)
    expired = _certificate("000.00.00.G12", "Root CA", agency_key, ca_key, days=1, offset=-10)
    with pytest.raises(ValueError, match="validity"):
        check_certificate(expired, ca_bundle=ca)
    check_certificate(stranger, ca_bundle=None)  # without a bundle, any current one
