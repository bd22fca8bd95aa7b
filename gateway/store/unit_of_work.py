"""The unit of work: one database transaction that rolls back unless committed."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from gateway.errors import Unavailable
from gateway.store.connections import OneConnection, PooledConnections
from gateway.store.evidence_log import SqlEvents
from gateway.store.messages import SqlMessages
from gateway.store.repositories import SqlAgencies, SqlNonces, SqlOperators
from gateway.store.traffic import SqlTraffic
from gateway.store.usage import SqlUsage


class SqlUnitOfWork:
    def __init__(self, connections: OneConnection | PooledConnections, *, read_only: bool = False):
        self._connections = connections
        self._read_only = read_only
        """Only reads, on a connection of its own, and never commits."""
        self._commit = 0
        """The number of this unit's commit, to wait for until it is on disk."""

    def __enter__(self) -> SqlUnitOfWork:
        take = self._connections.take_for_reading if self._read_only else self._connections.take
        try:
            self._conn = take()
        except (OperationalError, PoolTimeout, DBAPIError) as exc:
            raise Unavailable() from exc
        try:
            self._transaction = self._conn.begin()
        except (OperationalError, DBAPIError) as exc:
            self._give_back()
            raise Unavailable() from exc
        self.agencies = SqlAgencies(self._conn)
        self.nonces = SqlNonces(self._conn)
        self.messages = SqlMessages(self._conn)
        self.traffic = SqlTraffic(self._conn)
        self.events = SqlEvents(self._conn, self._connections.known_head)
        self.operators = SqlOperators(self._conn)
        self.usage = SqlUsage(self._conn)
        return self

    def __exit__(self, exc_type, exc, traceback) -> None:
        try:
            if self._transaction.is_active:
                self._transaction.rollback()
        except DBAPIError:
            pass  # the connection is already gone; the error below says why
        finally:
            self._give_back()
        if self._commit:
            try:
                self._connections.sync(self._commit)
            except OSError as error:
                raise Unavailable() from error
        if isinstance(exc, (OperationalError, PoolTimeout)) or (
            isinstance(exc, DBAPIError) and exc.connection_invalidated
        ):
            raise Unavailable() from exc

    def _give_back(self) -> None:
        if self._read_only:
            self._conn.close()
        else:
            self._connections.give_back(self._conn)

    def commit(self, *, durable: bool = True) -> None:
        """Commit; leaving the unit then waits until the commit is on disk. With
        ``durable=False``, for a transaction that a power loss may undo whole, it waits
        only until everything the transaction could have read is."""
        if self._read_only:
            raise RuntimeError("a unit of work that only reads has nothing to commit")
        durable = durable or not self._connections.let_commit_be_lost(self._conn)
        self._transaction.commit()
        self._commit = self._connections.committed(durable)
