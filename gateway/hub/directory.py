"""The agency directory: who may use the hub, and with which credentials."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from gateway.envelope.model import is_agency_code
from gateway.hub.model import Agency
from gateway.hub.ports import UnitOfWork
from gateway.security.passwords import hash_password
from gateway.security.secretbox import SecretBox


class DirectoryError(ValueError):
    """An administrative request that cannot be carried out (shown to the operator)."""


class Directory:
    def __init__(self, uow_factory: Callable[[], UnitOfWork], secret_box: SecretBox | None):
        self._uow = uow_factory
        self._secret_box = secret_box

    def add(self, code: str, name: str, password: str, *, allow_digest: bool = False) -> Agency:
        if not is_agency_code(code):
            raise DirectoryError(
                f"{code!r} is not an agency code: digits, A-Z and dots, at most 35 characters."
            )
        if not password:
            raise DirectoryError("An agency needs a password.")
        secret = None
        if allow_digest:
            if self._secret_box is None:
                raise DirectoryError(
                    "--allow-digest needs a hub key: set LIENTHONG_HUB_KEY "
                    "(`lienthong-gateway generate-key` makes one)."
                )
            secret = self._secret_box.encrypt(password)
        agency = Agency(
            code=code,
            name=name,
            password_hash=hash_password(password),
            allow_digest=allow_digest,
            digest_secret=secret,
        )
        with self._uow() as uow:
            if uow.agencies.get(code) is not None:
                raise DirectoryError(f"Agency {code} is already registered.")
            uow.agencies.add(agency)
            uow.commit()
        return agency

    def set_active(self, code: str, active: bool) -> None:
        with self._uow() as uow:
            agency = uow.agencies.get(code)
            if agency is None:
                raise DirectoryError(f"No agency {code} is registered.")
            uow.agencies.update(replace(agency, active=active))
            uow.commit()

    def list(self) -> list[Agency]:
        with self._uow() as uow:
            return sorted(uow.agencies.list(), key=lambda agency: agency.code)
