"""Who is calling: a WS-Security UsernameToken checked against the agency directory."""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import threading
from collections import OrderedDict
from datetime import datetime, timedelta

from gateway.errors import AuthenticationFailed
from gateway.hub.model import Agency
from gateway.security.networks import parse_networks, within
from gateway.security.passwords import verify_password
from gateway.security.secretbox import SecretBox
from gateway.security.wsse import UsernameToken, digest_matches
from gateway.settings import Settings

log = logging.getLogger("gateway.hub")


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
        self._latest: OrderedDict[str, bytes] = OrderedDict()
        """Each agency's password that verified last, whatever hash it was checked against."""
        self._size = size
        self._lock = threading.Lock()

    def verify(self, code: str, password: str, stored: str) -> bool:
        mac = self._mac(password)
        with self._lock:
            known = self._known.get((code, stored))
        if known is not None and hmac.compare_digest(known, mac):
            return True
        if not verify_password(password, stored):
            return False
        with self._lock:
            self._keep(self._known, (code, stored), mac)
            self._keep(self._latest, code, mac)
        return True

    def vouches_for(self, code: str, password: str) -> bool:
        """Whether ``password`` is the one that verified for ``code`` last: a sign,
        before the directory is read, that the caller is who it says. Not proof (the
        agency's password may have changed since): the caller is still signed in."""
        with self._lock:
            latest = self._latest.get(code)
        return latest is not None and hmac.compare_digest(latest, self._mac(password))

    def _mac(self, password: str) -> bytes:
        return hmac.new(self._key, password.encode("utf-8"), hashlib.sha256).digest()

    def _keep(self, entries: OrderedDict, key, mac: bytes) -> None:
        entries[key] = mac
        entries.move_to_end(key)
        while len(entries) > self._size:
            entries.popitem(last=False)


class SignInLockout:
    """The rule against guessing: ``max_failed_sign_ins`` wrong passwords in a row lock
    an agency's or an operator's sign-ins for ``sign_in_lockout_seconds``."""

    def __init__(self, settings: Settings):
        self._limit = settings.max_failed_sign_ins
        self._lasts = timedelta(seconds=settings.sign_in_lockout_seconds)

    def count_failure(self, repository, key: str, now: datetime, who: str) -> None:
        """Count a wrong password for ``key`` in ``repository`` (agencies or operators);
        log the lock it starts, if it does."""
        if self._limit <= 0:
            return
        until = now + self._lasts
        if repository.count_failed_sign_in(key, self._limit, until):
            log.warning(
                "%s gave %d wrong passwords in a row: sign-ins are refused until %s.",
                who, self._limit, until.isoformat(timespec="seconds"),
            )  # fmt: skip


def comes_from(agency: Agency, token: UsernameToken) -> bool:
    """Whether ``token``'s request came from one of the agency's networks (logged if not,
    for the operator to see why an agency cannot sign in)."""
    if within(token.address, parse_networks(agency.networks or "")):
        return True
    log.warning(
        "Agency %s signed in from %s, outside its networks (%s): refused.",
        agency.code, token.address or "an unknown address", agency.networks,
    )  # fmt: skip
    return False


class WrongCredentials(AuthenticationFailed):
    """The agency's password, or its digest, was wrong: counted towards a lock. The
    caller gets the same fault as for any other failure."""


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
        if secret is None:
            raise AuthenticationFailed()
        if not digest_matches(token, secret):
            raise WrongCredentials()
    elif not passwords.verify(agency.code, token.password, agency.password_hash):
        raise WrongCredentials()
