"""WS-Security UsernameToken: read it from a SOAP header, check a password digest."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime

from gateway import ns
from gateway.errors import AuthenticationFailed
from gateway.xmlpaths import Children

_WSSE = f"{{{ns.WSSE}}}"
_WSU = f"{{{ns.WSU}}}"
_SECURITY, _TOKEN, _TIMESTAMP = _WSSE + "Security", _WSSE + "UsernameToken", _WSU + "Timestamp"


@dataclass(frozen=True)
class UsernameToken:
    username: str
    password: str
    digest: bool
    nonce: bytes | None = None
    created: datetime | None = None
    created_text: str = ""
    expires: datetime | None = None
    address: str | None = None
    """The IP address the request came from, as the SOAP layer saw it."""


def read_username_token(header, address: str | None = None) -> UsernameToken:
    """The UsernameToken of ``wsse:Security`` in a SOAP header (the first of each), of a
    request from ``address``; AuthenticationFailed if there is none."""
    security = Children(Children(header).first(_SECURITY))
    token = security.first(_TOKEN)
    if token is None:
        raise AuthenticationFailed()
    fields = Children(token)
    password = fields.first(_WSSE + "Password")
    username = (fields.text(_WSSE + "Username") or "").strip()
    if not username or password is None:
        raise AuthenticationFailed()
    password_type = password.get("Type", ns.WSSE_PASSWORD_TEXT)
    if password_type not in (ns.WSSE_PASSWORD_TEXT, ns.WSSE_PASSWORD_DIGEST):
        raise AuthenticationFailed()
    nonce_text = fields.text(_WSSE + "Nonce")
    created_text = (fields.text(_WSU + "Created") or "").strip()
    if not created_text:
        created_text = (security.text(_TIMESTAMP, _WSU + "Created") or "").strip()
    expires_text = security.text(_TIMESTAMP, _WSU + "Expires")
    return UsernameToken(
        username=username,
        password=password.text or "",
        digest=password_type == ns.WSSE_PASSWORD_DIGEST,
        nonce=_decode_nonce(nonce_text) if nonce_text else None,
        created=_parse_time(created_text) if created_text else None,
        created_text=created_text,
        expires=_parse_time(expires_text) if expires_text else None,
        address=address,
    )


def password_digest(nonce: bytes, created: str, secret: str) -> str:
    """Base64(SHA-1(nonce + created + secret)), as the UsernameToken profile defines."""
    raw = hashlib.sha1(nonce + created.encode("utf-8") + secret.encode("utf-8")).digest()
    return base64.b64encode(raw).decode("ascii")


def digest_matches(token: UsernameToken, secret: str) -> bool:
    if token.nonce is None or not token.created_text:
        return False
    expected = password_digest(token.nonce, token.created_text, secret)
    return hmac.compare_digest(expected.encode(), token.password.strip().encode())


def _decode_nonce(text: str) -> bytes:
    try:
        return base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise AuthenticationFailed() from None


def _parse_time(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise AuthenticationFailed() from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value
