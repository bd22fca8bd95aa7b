"""Who is calling: a WS-Security UsernameToken checked against the agency directory."""

from __future__ import annotations

from datetime import datetime, timedelta

from gateway.errors import AuthenticationFailed
from gateway.hub.model import Agency
from gateway.security.passwords import verify_password
from gateway.security.secretbox import SecretBox
from gateway.security.wsse import UsernameToken, digest_matches


def check_token(
    token: UsernameToken,
    agency: Agency | None,
    *,
    now: datetime,
    skew: timedelta,
    secret_box: SecretBox | None,
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
    elif not verify_password(token.password, agency.password_hash):
        raise AuthenticationFailed()
