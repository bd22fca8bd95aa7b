"""Who is calling: a WS-Security UsernameToken checked against the agency directory."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from collections import OrderedDict
from datetime import datetime, timedelta

from gateway.errors import AuthenticationFailed
from gateway.hub.model import Agency
from gateway.security.passwords import verify_password
from gateway.security.secretbox import SecretBox
from gateway.security.wsse import UsernameToken, digest_matches


class PasswordCache:
    """Passwords that verified lately, so an agency's next requests skip scrypt.

    scrypt is slow on purpose (tens of milliseconds); paying it on every SOAP request
    would cap the hub's rate. Kept per process, keyed by agency and stored hash (a new
    password drops the entry), holding only an HMAC of the password under a key that
    never leaves the process.
    """

    def __init__(self, size: int = 4096):
        self._key = secrets.token_bytes(32)
        self._known: OrderedDict[tuple[str, str], bytes] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def verify(self, code: str, password: str, stored: str) -> bool:
        mac = hmac.new(self._key, password.encode("utf-8"), hashlib.sha256).digest()
        with self._lock:
            known = self._known.get((code, stored))
        if known is not None and hmac.compare_digest(known, mac):
            return True
        if not verify_password(password, stored):
            return False
        with self._lock:
            self._known[(code, stored)] = mac
            self._known.move_to_end((code, stored))
            while len(self._known) > self._size:
                self._known.popitem(last=False)
        return True


def check_token(
    token: UsernameToken,
    agency: Agency | None,
    *,
    now: datetime,
    skew: timedelta,
    secret_box: SecretBox | None,
    passwords: PasswordCache,
) -> None:
    """Raise AuthenticationFailed unless ``token`` proves it is ``agency``.

    Every failure looks the same to the caller: no hint of which part was wrong.
    """
    if agency is None or not agency.active:
        raise AuthenticationFailed()
    if token.created is not None and abs(now - token.created) > skew:
        raise AuthenticationFailed()
    if token.expires is not None and token.expires < now:
        raise AuthenticationFailed()
    if token.nonce is not None and token.created is None:
        raise AuthenticationFailed()
    if token.digest:
        if not (agency.allow_digest and agency.digest_secret and secret_box):
            raise AuthenticationFailed()
        secret = secret_box.decrypt(agency.digest_secret)
        if secret is None or not digest_matches(token, secret):
            raise AuthenticationFailed()
    elif not passwords.verify(agency.code, token.password, agency.password_hash):
        raise AuthenticationFailed()
