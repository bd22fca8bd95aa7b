"""SQL implementations of the directory's repositories: agencies, nonces, operators."""

from __future__ import annotations

import base64
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import Connection, bindparam, case, delete, insert, select, update

from gateway.hub.model import Agency, DirectoryEntry, OperatorAccount
from gateway.store.prepared import Prepared, PreparedIn
from gateway.store.sql import at, dialect, dialect_module
from gateway.store.tables import agencies, nonces, operator_sessions, operators

# Built once: every request looks agencies up, and building a statement costs more
# than SQLite takes to run it.
_AGENCY = Prepared(select(agencies).where(agencies.c.code == bindparam("code")))
_AGENCIES = PreparedIn(lambda condition: select(agencies).where(condition), agencies.c.code)
_LOCK_AGENCY = Prepared(
    select(agencies.c.code).where(agencies.c.code == bindparam("code")).with_for_update()
)
_ENTRIES = select(
    agencies.c.code, agencies.c.name, agencies.c.parent_code, agencies.c.active,
    agencies.c.certificate, agencies.c.endpoint,
).order_by(agencies.c.code)  # fmt: skip
_OPERATOR_ACCOUNTS = select(
    operators.c.name, operators.c.password_hash, operators.c.failed_sign_ins,
    operators.c.locked_until,
)  # fmt: skip
"""The columns of an OperatorAccount, in its order."""
NAMES_BATCH = 500
"""Codes looked up per query, well within every database's limit on parameters."""
_PURGE_NONCES = delete(nonces).where(nonces.c.expires_at < bindparam("now"))
_NEW_NONCE = Prepared(
    lambda d: dialect_module(d).insert(nonces).on_conflict_do_nothing(),
    columns=("agency", "nonce", "expires_at"),
)


class SqlAgencies:
    """Agencies, each read once per transaction: a send reads its caller, its sender and
    its recipients ahead in one query, then looks them up one by one."""

    def __init__(self, conn: Connection):
        self._conn = conn
        self._read: dict[str, Agency | None] = {}

    def get(self, code: str) -> Agency | None:
        if code not in self._read:
            row = _AGENCY.first(self._conn, {"code": code})
            self._read[code] = _agency(row) if row else None
        return self._read[code]

    def get_many(self, codes: Iterable[str]) -> dict[str, Agency]:
        codes = list(dict.fromkeys(codes))
        unread = [code for code in codes if code not in self._read]
        if len(unread) == 1:
            self.get(unread[0])
        elif unread:
            self._read.update(dict.fromkeys(unread))
            for row in _AGENCIES.rows(self._conn, unread):
                self._read[row.code] = _agency(row)
        return {code: found for code in codes if (found := self._read[code]) is not None}

    def add(self, agency: Agency) -> None:
        self._conn.execute(insert(agencies).values(**_agency_values(agency)))
        self._read.pop(agency.code, None)

    def update(self, agency: Agency) -> None:
        self._conn.execute(
            update(agencies).where(agencies.c.code == agency.code).values(**_agency_values(agency))
        )
        self._read.pop(agency.code, None)

    def count_failed_sign_in(self, code: str, limit: int, lock_until: datetime) -> bool:
        self._read.pop(code, None)
        return _count_failed_sign_in(
            self._conn, agencies, agencies.c.code == code, limit, lock_until
        )

    def clear_failed_sign_ins(self, code: str) -> None:
        self._read.pop(code, None)
        _clear_failed_sign_ins(self._conn, agencies, agencies.c.code == code)

    def lock(self, code: str) -> None:
        if self._conn.dialect.name != "sqlite":  # SQLite's write lock is held already
            _LOCK_AGENCY.run(self._conn, {"code": code})

    def list(self, parent_code: str | None = None) -> Sequence[Agency]:
        query = select(agencies)
        if parent_code is not None:
            query = query.where(agencies.c.parent_code == parent_code)
        return [_agency(row) for row in self._conn.execute(query)]

    def entries(
        self, parent_code: str | None, after: str | None, limit: int
    ) -> Sequence[DirectoryEntry]:
        query = _ENTRIES.limit(limit)
        if parent_code is not None:
            query = query.where(agencies.c.parent_code == parent_code)
        if after is not None:
            query = query.where(agencies.c.code > after)
        return [DirectoryEntry(*row) for row in self._conn.execute(query)]

    def names(self, codes: Iterable[str]) -> dict[str, str]:
        codes = sorted(codes)
        found = {}
        for start in range(0, len(codes), NAMES_BATCH):
            batch = codes[start : start + NAMES_BATCH]
            query = select(agencies.c.code, agencies.c.name).where(agencies.c.code.in_(batch))
            found.update((code, name) for code, name in self._conn.execute(query))
        return found

    def with_own_limits(self) -> Sequence[Agency]:
        query = select(agencies).where(
            agencies.c.quota_per_minute.is_not(None)
            | agencies.c.quota_bytes_per_day.is_not(None)
            | agencies.c.networks.is_not(None)
        )
        return [_agency(row) for row in self._conn.execute(query.order_by(agencies.c.code))]

    def locked(self, now: datetime) -> Sequence[Agency]:
        # Sorted here: ordered in SQL, SQLite would walk every agency by code rather
        # than the few ever locked through their index.
        query = select(agencies).where(agencies.c.locked_until > at(now))
        return sorted(map(_agency, self._conn.execute(query)), key=lambda agency: agency.code)

    def upsert_names(self, batch: Sequence[Agency]) -> int:
        if not batch:
            return 0
        statement = dialect(self._conn).insert(agencies)
        statement = statement.on_conflict_do_update(
            index_elements=[agencies.c.code],
            set_={"name": statement.excluded.name, "parent_code": statement.excluded.parent_code},
        )
        self._conn.execute(statement, [_agency_values(agency) for agency in batch])
        self._read.clear()
        return len(batch)


class SqlNonces:
    def __init__(self, conn: Connection):
        self._conn = conn

    def remember(self, agency: str, nonce: bytes, expires_at: datetime) -> bool:
        inserted = _NEW_NONCE.count(
            self._conn,
            {
                "agency": agency,
                "nonce": base64.b64encode(nonce).decode("ascii"),
                "expires_at": expires_at,
            },
        )
        return inserted == 1

    def purge(self, now: datetime) -> None:
        self._conn.execute(_PURGE_NONCES, {"now": now})


class SqlOperators:
    def __init__(self, conn: Connection):
        self._conn = conn

    def add(self, name: str, password_hash: str) -> None:
        self._conn.execute(insert(operators).values(name=name, password_hash=password_hash))

    def get(self, name: str) -> OperatorAccount | None:
        row = self._conn.execute(_OPERATOR_ACCOUNTS.where(operators.c.name == name)).first()
        return OperatorAccount(*row) if row else None

    def count_failed_sign_in(self, name: str, limit: int, lock_until: datetime) -> bool:
        return _count_failed_sign_in(
            self._conn, operators, operators.c.name == name, limit, lock_until
        )

    def clear_failed_sign_ins(self, name: str) -> None:
        _clear_failed_sign_ins(self._conn, operators, operators.c.name == name)

    def locked(self, now: datetime) -> Sequence[OperatorAccount]:
        query = _OPERATOR_ACCOUNTS.where(operators.c.locked_until > at(now)).order_by("name")
        return [OperatorAccount(*row) for row in self._conn.execute(query)]

    def open_session(self, token_sha256: str, name: str, expires_at: datetime) -> None:
        self._conn.execute(
            insert(operator_sessions).values(
                token_sha256=token_sha256, operator=name, expires_at=expires_at
            )
        )

    def session_operator(self, token_sha256: str, now: datetime) -> str | None:
        return self._conn.execute(
            select(operator_sessions.c.operator).where(
                operator_sessions.c.token_sha256 == token_sha256,
                operator_sessions.c.expires_at > at(now),
            )
        ).scalar()

    def close_session(self, token_sha256: str) -> None:
        self._conn.execute(
            delete(operator_sessions).where(operator_sessions.c.token_sha256 == token_sha256)
        )


def _count_failed_sign_in(conn, table, which, limit: int, lock_until: datetime) -> bool:
    """One more wrong password for the row ``which`` picks; the ``limit``-th in a row
    locks it until ``lock_until`` and starts the count again (True when it locks)."""
    counted = table.c.failed_sign_ins + 1
    locks = counted >= limit
    until = bindparam("until", lock_until, type_=table.c.locked_until.type)
    statement = (
        update(table)
        .where(which)
        .values(
            failed_sign_ins=case((locks, 0), else_=counted),
            locked_until=case((locks, until), else_=table.c.locked_until),
        )
        .returning(table.c.failed_sign_ins)
    )
    return conn.execute(statement).scalar() == 0


def _clear_failed_sign_ins(conn, table, which) -> None:
    conn.execute(update(table).where(which).values(failed_sign_ins=0, locked_until=None))


def _agency(row) -> Agency:
    return Agency(
        code=row.code,
        name=row.name,
        password_hash=row.password_hash,
        active=row.active,
        allow_digest=row.allow_digest,
        digest_secret=row.digest_secret,
        parent_code=row.parent_code,
        certificate=row.certificate,
        signature_policy=row.signature_policy,
        quota_per_minute=row.quota_per_minute,
        quota_bytes_per_day=row.quota_bytes_per_day,
        via=row.via,
        endpoint=row.endpoint,
        networks=row.networks,
        failed_sign_ins=row.failed_sign_ins,
        locked_until=row.locked_until,
    )


def _agency_values(agency: Agency) -> dict:
    return dict(
        code=agency.code,
        name=agency.name,
        password_hash=agency.password_hash,
        active=agency.active,
        allow_digest=agency.allow_digest,
        digest_secret=agency.digest_secret,
        parent_code=agency.parent_code,
        certificate=agency.certificate,
        signature_policy=agency.signature_policy,
        quota_per_minute=agency.quota_per_minute,
        quota_bytes_per_day=agency.quota_bytes_per_day,
        via=agency.via,
        endpoint=agency.endpoint,
        networks=agency.networks,
    )
