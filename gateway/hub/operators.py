"""The hub's operators: who may open the dashboard, and their sign-in sessions."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

from gateway.errors import AdminError
from gateway.hub.ports import UnitOfWork
from gateway.security.passwords import hash_password, verify_password

SESSION_HOURS = 8


class OperatorError(AdminError):
    """An administrative request about operators that cannot be carried out."""


class Operators:
    def __init__(self, uow_factory: Callable[[], UnitOfWork], clock: Callable[[], datetime]):
        self._uow = uow_factory
        self._clock = clock

    def add(self, name: str, password: str) -> None:
        if not name.strip() or not password:
            raise OperatorError("An operator needs a name and a password.")
        with self._uow() as uow:
            if uow.operators.password_hash(name) is not None:
                raise OperatorError(f"Operator {name} exists already.")
            uow.operators.add(name, hash_password(password))
            uow.commit()

    def sign_in(self, name: str, password: str) -> str | None:
        """A new session token, or None for wrong credentials."""
        with self._uow() as uow:
            stored = uow.operators.password_hash(name)
            if stored is None or not verify_password(password, stored):
                return None
            token = secrets.token_urlsafe(32)
            expires = self._clock() + timedelta(hours=SESSION_HOURS)
            uow.operators.open_session(_digest(token), name, expires)
            uow.commit()
        return token

    def operator(self, token: str | None) -> str | None:
        """Who a session token belongs to, while it is valid."""
        if not token:
            return None
        with self._uow() as uow:
            return uow.operators.session_operator(_digest(token), self._clock())

    def sign_out(self, token: str) -> None:
        with self._uow() as uow:
            uow.operators.close_session(_digest(token))
            uow.commit()


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()
