"""A WS-Security UsernameToken that carries a fresh Nonce and Created on every request."""

from __future__ import annotations

import base64
import os

from zeep.wsse import utils
from zeep.wsse.username import UsernameToken

_BASE64 = (
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary"
)


class FreshUsernameToken(UsernameToken):
    """zeep's UsernameToken, with Nonce and Created added to PasswordText too.

    The hub refuses a reused nonce or a Created outside its allowed clock skew, so
    a captured request cannot be replayed later.
    """

    def _create_password_text(self):
        nonce = base64.b64encode(os.urandom(16)).decode("ascii")
        return [
            *super()._create_password_text(),
            utils.WSSE.Nonce(nonce, EncodingType=_BASE64),
            utils.WSU.Created(utils.get_timestamp()),
        ]
