"""Encryption of the few secrets the hub must hold in clear (PasswordDigest agencies)."""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken


class SecretBox:
    """Encrypts and decrypts short secrets under the hub key (a Fernet key)."""

    def __init__(self, hub_key: str):
        if not hub_key:
            raise ValueError(
                "PasswordDigest needs a hub key: set LIENTHONG_HUB_KEY "
                "(make one with `lienthong-gateway generate-key`)."
            )
        self._fernet = Fernet(hub_key.encode("ascii"))

    @staticmethod
    def generate_key() -> str:
        return Fernet.generate_key().decode("ascii")

    def encrypt(self, secret: str) -> bytes:
        return self._fernet.encrypt(secret.encode("utf-8"))

    def decrypt(self, token: bytes) -> str | None:
        try:
            return self._fernet.decrypt(token).decode("utf-8")
        except InvalidToken:
            return None
