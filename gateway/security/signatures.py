"""XML signatures on edXML documents (signxml), and the certificates that check them.

A document is signed as a whole (reference URI "") with an enveloped signature placed
last in ``edXMLHeader``, exclusive canonicalisation, and RSA-SHA256 or ECDSA-SHA256
chosen by the key. The signed bytes travel base64-encoded and are never re-serialised,
so the signature survives the hub.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature as CryptoInvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from lxml import etree
from signxml import (
    CanonicalizationMethod,
    DigestAlgorithm,
    InvalidInput,
    InvalidSignature,
    SignatureMethod,
    XMLSigner,
    XMLVerifier,
)
from signxml.verifier import SignatureConfiguration

from gateway import ns
from gateway.errors import SignatureInvalid

_PARSER = dict(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True)
_HEADER = f"{{{ns.EDXML}}}edXMLEnvelope/{{{ns.EDXML}}}edXMLHeader"
_STRONG = frozenset(
    getattr(SignatureMethod, f"{kind}_SHA{bits}")
    for kind in ("RSA", "ECDSA")
    for bits in (256, 384, 512)
)
_SHA1 = frozenset({SignatureMethod.RSA_SHA1, SignatureMethod.ECDSA_SHA1})


@dataclass(frozen=True)
class Verified:
    algorithm: str
    weak: bool
    """Signed with SHA-1: admitted only where the hub's settings allow it."""


def sign_edxml(document: bytes, key_pem: bytes, cert_pem: bytes) -> bytes:
    """``document`` with an enveloped XML signature last in its edXMLHeader."""
    key = serialization.load_pem_private_key(key_pem, password=None)
    if isinstance(key, rsa.RSAPrivateKey):
        algorithm = SignatureMethod.RSA_SHA256
    elif isinstance(key, ec.EllipticCurvePrivateKey):
        algorithm = SignatureMethod.ECDSA_SHA256
    else:
        raise ValueError("only RSA and EC keys can sign edXML documents")
    root = etree.fromstring(document, etree.XMLParser(**_PARSER))
    header = root.find(_HEADER)
    if header is None:
        raise ValueError("not an edXML document: no edXMLEnvelope/edXMLHeader")
    placeholder = etree.SubElement(
        header, etree.QName(ns.XMLDSIG, "Signature"), nsmap={"ds": ns.XMLDSIG}
    )
    placeholder.set("Id", "placeholder")
    signer = XMLSigner(
        signature_algorithm=algorithm,
        digest_algorithm=DigestAlgorithm.SHA256,
        c14n_algorithm=CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0,
    )
    signed = signer.sign(root, key=key, cert=cert_pem.decode("ascii"))
    return etree.tostring(signed, xml_declaration=True, encoding="UTF-8")


def verify_edxml(document: bytes, cert_pem: str, *, allow_sha1: bool = False) -> Verified:
    """Check the signature against ``cert_pem``; SignatureInvalid unless it covers everything."""
    methods = _STRONG | _SHA1 if allow_sha1 else _STRONG
    digests = frozenset(d for d in DigestAlgorithm if allow_sha1 or d is not DigestAlgorithm.SHA1)
    config = SignatureConfiguration(
        location=f"./{{{ns.EDXML}}}edXMLEnvelope/{{{ns.EDXML}}}edXMLHeader/",
        signature_methods=methods,
        digest_algorithms=digests,
    )
    try:
        result = XMLVerifier().verify(
            document,
            x509_cert=cert_pem,
            expect_config=config,
            parser=etree.XMLParser(**_PARSER),
        )
    except (InvalidSignature, InvalidInput, ValueError) as exc:
        raise SignatureInvalid(f"The XML signature does not verify: {exc}") from exc
    if etree.QName(result.signed_xml).localname != "edXML":
        raise SignatureInvalid("The XML signature must cover the whole edXML document.")
    method = result.signature_xml.find(f".//{{{ns.XMLDSIG}}}SignatureMethod").get("Algorithm")
    return Verified(algorithm=method, weak=SignatureMethod(method) in _SHA1)


def load_certificate(pem: bytes | str) -> x509.Certificate:
    data = pem.encode("ascii") if isinstance(pem, str) else pem
    try:
        return x509.load_pem_x509_certificate(data)
    except ValueError as exc:
        raise ValueError(f"not a PEM X.509 certificate: {exc}") from exc


def check_certificate(
    pem: bytes | str, *, ca_bundle: bytes | None, now: datetime | None = None
) -> x509.Certificate:
    """The certificate, if it is current and (with a CA bundle) chains to a trusted CA."""
    certificate = load_certificate(pem)
    now = now or datetime.now(UTC)
    if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
        raise ValueError("the certificate is not within its validity period")
    if ca_bundle:
        _check_chain(certificate, x509.load_pem_x509_certificates(ca_bundle), now)
    return certificate


def _check_chain(certificate: x509.Certificate, trusted: list[x509.Certificate], now) -> None:
    current = certificate
    for _ in range(8):
        if current in trusted:
            return
        issuers = [ca for ca in trusted if ca.subject == current.issuer]
        for issuer in issuers:
            try:
                current.verify_directly_issued_by(issuer)
            except (ValueError, TypeError, CryptoInvalidSignature):
                continue
            if not issuer.not_valid_before_utc <= now <= issuer.not_valid_after_utc:
                raise ValueError("the issuing CA certificate is not within its validity period")
            current = issuer
            break
        else:
            raise ValueError("the certificate does not chain to a trusted CA")
    raise ValueError("the certificate chain is too long")
