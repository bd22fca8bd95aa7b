"""The hub's operators: who may open the dashboard, and their sign-in sessions."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

from gateway.errors import AdminError
from gateway.hub.authentication import SignInLockout
from gateway.hub.ports import UnitOfWork
from gateway.security.passwords import hash_password, verify_password
from gateway.settings import Settings

SESSION_HOURS = 8


class OperatorError(AdminError):
    """An administrative request about operators that cannot be carried out."""


class Operators:
    def __init__(
        self,
        uow_factory: Callable[[], UnitOfWork],
        clock: Callable[[], datetime],
        settings: Settings,
    ):
        self._uow = uow_factory
        self._clock = clock
        self._lockout = SignInLockout(settings)

    def add(self, name: str, password: str) -> None:
        if not name.strip() or not password:
            raise OperatorError("An operator needs a name and a password.")
        with self._uow() as uow:
            if uow.operators.get(name) is not None:
                raise OperatorError(f"Operator {name} exists already.")
            uow.operators.add(name, hash_password(password))
            uow.commit()

    def sign_in(self, name: str, password: str) -> str | None:
        """A new session token; None for wrong credentials, or for an operator locked
        after ``max_failed_sign_ins`` wrong passwords in a row, whatever the password."""
        now = self._clock()
        with self._uow() as uow:
            account = uow.operators.get(name)
            if account is None or account.locked(now):
                return None
            if not verify_password(password, account.password_hash):
                self._lockout.count_failure(uow.operators, name, now, f"Operator {name}")
                uow.commit()
                return None
            if account.failed_sign_ins:
                uow.operators.clear_failed_sign_ins(name)
            token = secrets.token_urlsafe(32)
            uow.operators.open_session(_digest(token), name, now + timedelta(hours=SESSION_HOURS))
            uow.commit()
        return token

    def unlock(self, name: str) -> None:
        """Let the operator sign in again at once, and forget their wrong passwords."""
        with self._uow() as uow:
            if uow.operators.get(name) is None:
                raise OperatorError(f"No operator {name}.")
            uow.operators.clear_failed_sign_ins(name)
            uow.commit()

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
