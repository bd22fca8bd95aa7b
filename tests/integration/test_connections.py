"""Units of work on a SQLite file share one connection, one thread at a time."""

import os
import threading
import time
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import text

from gateway.bootstrap import build_gateway
from gateway.errors import Unavailable
from gateway.hub.audit import Audit
from gateway.security.secretbox import SecretBox
from gateway.security.wsse import UsernameToken, password_digest
from gateway.settings import Settings
from gateway.store import connections as connections_module
from gateway.store.connections import OneConnection, PooledConnections, connections_for
from gateway.store.engine import make_engine
from gateway.store.migrate import upgrade
from gateway.store.unit_of_work import SqlUnitOfWork
from tests.builders import G12, H31, document


def test_a_sqlite_file_gets_one_kept_connection_and_other_databases_the_pool(sqlite_engine):
    assert isinstance(connections_for(sqlite_engine, 1), OneConnection)
    memory = make_engine("sqlite://")
    assert isinstance(connections_for(memory, 1), PooledConnections)


def test_threads_take_turns_on_the_one_connection(sqlite_engine):
    connections = connections_for(sqlite_engine, 5)
    inside, most, seen, lock = [0], [0], set(), threading.Lock()

    def work():
        for _ in range(20):
            with SqlUnitOfWork(connections) as uow:
                with lock:
                    inside[0] += 1
                    most[0] = max(most[0], inside[0])
                    seen.add(id(uow._conn))
                time.sleep(0.0005)
                with lock:
                    inside[0] -= 1
                uow.commit()

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most[0] == 1 and len(seen) == 1


def test_a_thread_that_waits_past_the_timeout_is_told_the_store_is_unavailable(sqlite_engine):
    connections = OneConnection(sqlite_engine, timeout_seconds=0.2)
    held, release = threading.Event(), threading.Event()

    def hold():
        with SqlUnitOfWork(connections):
            held.set()
            release.wait(5)

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait(5)
    try:
        with pytest.raises(Unavailable):
            with SqlUnitOfWork(connections):
                pass
    finally:
        release.set()
        holder.join()
    with SqlUnitOfWork(connections) as uow:  # free again once the holder is done
        uow.commit()


def test_a_broken_connection_is_replaced_and_its_turn_released(sqlite_engine):
    connections = OneConnection(sqlite_engine, timeout_seconds=1)
    with SqlUnitOfWork(connections) as uow:
        broken = uow._conn
        broken.invalidate()
    with SqlUnitOfWork(connections) as uow:
        assert uow._conn is not broken
        assert uow._conn.execute(text("SELECT 1")).scalar() == 1
        uow.commit()


def test_a_failed_begin_gives_the_connection_back(sqlite_engine, sqlite_url):
    other = make_engine(sqlite_url, timeout_seconds=1)
    connections = OneConnection(sqlite_engine, timeout_seconds=1)
    with other.connect() as writer:
        writer.begin()  # BEGIN IMMEDIATE: holds SQLite's write lock
        with pytest.raises(Unavailable):
            with SqlUnitOfWork(connections):
                pass
    other.dispose()
    with SqlUnitOfWork(connections) as uow:
        uow.commit()


def test_a_connection_left_in_a_transaction_is_replaced(sqlite_engine):
    connections = OneConnection(sqlite_engine, timeout_seconds=1)
    with SqlUnitOfWork(connections) as uow:
        uow.commit()
        left = uow._conn
        left.connection.dbapi_connection.execute("BEGIN")  # as if a rollback had failed
    with SqlUnitOfWork(connections) as uow:
        assert uow._conn is not left
        uow.commit()


class _Disk:
    """Records the files synced through ``os.fdatasync`` in store/connections.py."""

    def __init__(self, monkeypatch, fail: bool = False):
        self.synced: list[str] = []
        self._fail = fail
        monkeypatch.setattr(connections_module.os, "fdatasync", self.fdatasync)

    def fdatasync(self, fd: int) -> None:
        if self._fail:
            raise OSError(5, "Input/output error")
        self.synced.append(os.readlink(f"/proc/self/fd/{fd}"))


def _synchronous(conn) -> int:
    return conn.execute(text("PRAGMA synchronous")).scalar()


def test_the_kept_connection_commits_without_waiting_and_then_syncs_the_log(
    sqlite_engine, monkeypatch
):
    disk = _Disk(monkeypatch)
    connections = OneConnection(sqlite_engine, timeout_seconds=1)
    with SqlUnitOfWork(connections) as uow:
        assert _synchronous(uow._conn) == 1  # NORMAL: the commit does not wait for the disk
        uow.usage.count_day(G12, date(2026, 12, 1), 100)
        uow.commit()
        assert disk.synced == []
    assert disk.synced == [os.path.realpath(sqlite_engine.url.database) + "-wal"]
    with sqlite_engine.connect() as other:  # every other connection syncs at each commit
        assert _synchronous(other) == 2


def test_a_unit_that_commits_nothing_waits_for_no_disk(sqlite_engine, monkeypatch):
    disk = _Disk(monkeypatch)
    with SqlUnitOfWork(OneConnection(sqlite_engine, timeout_seconds=1)):
        pass
    assert disk.synced == []


def test_one_sync_covers_every_commit_made_before_it_began(sqlite_engine, monkeypatch):
    disk = _Disk(monkeypatch)
    connections = OneConnection(sqlite_engine, timeout_seconds=1)
    with SqlUnitOfWork(connections):  # opens the connection, commits nothing
        pass
    first, second = connections.committed(), connections.committed()
    connections.sync(first)  # syncs the log as it is after both commits
    connections.sync(second)
    assert len(disk.synced) == 1
    connections.sync(connections.committed())
    assert len(disk.synced) == 2


def _count_day(connections, durable: bool = True) -> None:
    with SqlUnitOfWork(connections) as uow:
        uow.usage.count_day(G12, date(2026, 12, 1), 100)
        uow.commit(durable=durable)


def test_a_commit_that_may_be_lost_waits_only_for_the_durable_ones_before_it(
    sqlite_engine, monkeypatch
):
    disk = _Disk(monkeypatch)
    connections = OneConnection(sqlite_engine, timeout_seconds=1)
    _count_day(connections, durable=False)  # first on its connection: others may have written
    _count_day(connections)
    assert len(disk.synced) == 2
    _count_day(connections, durable=False)  # what it could read is on disk already
    assert len(disk.synced) == 2
    kept = connections.committed()  # a durable commit not yet synced
    _count_day(connections, durable=False)  # waits for it
    assert len(disk.synced) == 3 and connections._synced >= kept
    _count_day(connections, durable=False)
    assert len(disk.synced) == 3


def test_a_commit_that_may_be_lost_waits_for_its_own_sync_once_another_connection_wrote(
    sqlite_engine, monkeypatch
):
    disk = _Disk(monkeypatch)
    connections = OneConnection(sqlite_engine, timeout_seconds=1)
    _count_day(connections)
    _count_day(connections, durable=False)
    assert len(disk.synced) == 2
    another_process = make_engine(str(sqlite_engine.url), timeout_seconds=1)
    with another_process.begin() as conn:  # its commit may still be on its way to disk
        conn.execute(text("UPDATE agency_usage SET bytes = bytes + 1"))
    another_process.dispose()
    _count_day(connections, durable=False)
    assert len(disk.synced) == 3
    _count_day(connections, durable=False)
    assert len(disk.synced) == 3


def test_a_lease_waits_for_the_document_it_hands_out_and_not_for_its_own_sync(
    sqlite_url, monkeypatch
):
    gw = build_gateway(Settings(db_url=sqlite_url, db_timeout_seconds=1))
    for code in (G12, H31):
        gw.directory.add(code, code, "pw")
    gw.hub.fetch(H31, 10)  # the first on the connection syncs: others may have written
    disk = _Disk(monkeypatch)
    gw.hub.send(G12, document(document_id="G12,1", recipients=(H31,)))
    [message] = gw.hub.fetch(H31, 10)
    assert len(disk.synced) == 1  # the send's: the lease's own commit goes unsynced
    gw.hub.acknowledge(H31, [message.message_id])
    assert len(disk.synced) == 2  # an acknowledgement is durable before its answer
    gw.engine.dispose()


def test_a_lease_signed_with_a_password_digest_waits_for_its_own_sync(sqlite_url, monkeypatch):
    key = SecretBox.generate_key()
    gw = build_gateway(Settings(db_url=sqlite_url, db_timeout_seconds=1, hub_key=key))
    gw.directory.add(H31, H31, "pw", allow_digest=True)
    gw.hub.fetch(H31, 10)  # the first on the connection syncs: others may have written
    disk = _Disk(monkeypatch)
    now = datetime.now(UTC)
    created = now.isoformat()
    digest = UsernameToken(H31, password_digest(b"nonce", created, "pw"), True, b"nonce",
                           now, created)  # fmt: skip
    gw.hub.fetch(digest, 10)
    assert len(disk.synced) == 1  # its nonce must outlive a power loss, or it could be replayed
    gw.hub.fetch(UsernameToken(H31, "pw", False, b"other", now, created), 10)
    assert len(disk.synced) == 1  # a password sent in the clear is given away anyway
    gw.engine.dispose()


@pytest.mark.postgres
def test_a_commit_that_may_be_lost_is_asynchronous_on_postgresql(postgres_url):
    engine = make_engine(postgres_url, timeout_seconds=1)
    connections = PooledConnections(engine)
    with SqlUnitOfWork(connections) as uow:
        assert connections.let_commit_be_lost(uow._conn)
        assert uow._conn.execute(text("SHOW synchronous_commit")).scalar() == "off"
    with SqlUnitOfWork(connections) as uow:  # for that transaction only
        assert uow._conn.execute(text("SHOW synchronous_commit")).scalar() == "on"
    engine.dispose()


def test_a_failed_sync_is_reported_as_unavailable(sqlite_engine, monkeypatch):
    _Disk(monkeypatch, fail=True)
    with pytest.raises(Unavailable):
        with SqlUnitOfWork(OneConnection(sqlite_engine, timeout_seconds=1)) as uow:
            uow.usage.count_day(G12, date(2026, 12, 1), 100)
            uow.commit()


def test_the_log_synced_is_the_one_sqlite_writes_through_a_symbolic_link(tmp_path, monkeypatch):
    (tmp_path / "data").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "data")
    engine = make_engine(f"sqlite:///{tmp_path / 'link' / 'hub.db'}", timeout_seconds=1)
    upgrade(engine)
    disk = _Disk(monkeypatch)
    with SqlUnitOfWork(OneConnection(engine, timeout_seconds=1)) as uow:
        uow.usage.count_day(G12, date(2026, 12, 1), 100)
        uow.commit()
    engine.dispose()
    assert disk.synced == [str(tmp_path / "data" / "hub.db-wal")]


def test_the_evidence_head_kept_by_a_connection_is_read_again_once_it_has_moved(sqlite_engine):
    """Another process's connection appends, and an append is rolled back: the chain the
    kept connection goes on writing stays whole."""
    other_engine = make_engine(str(sqlite_engine.url), timeout_seconds=1)
    ours, another_process = OneConnection(sqlite_engine, 5), OneConnection(other_engine, 5)
    now = datetime.now(UTC)

    def append(connections, kind: str, commit: bool = True) -> None:
        with SqlUnitOfWork(connections) as uow:
            uow.events.record(kind, now, G12)
            if commit:
                uow.commit()

    append(ours, "first")
    append(ours, "from the known head")
    append(another_process, "elsewhere")
    append(ours, "after the head moved elsewhere")
    append(ours, "rolled back", commit=False)
    append(ours, "after a rollback")
    report = Audit(lambda: SqlUnitOfWork(ours), None).verify()
    assert report.intact and report.records == 5, report
    with sqlite_engine.connect() as conn:
        kinds = conn.execute(text("SELECT kind FROM events ORDER BY seq")).scalars().all()
    assert kinds == [
        "first", "from the known head", "elsewhere", "after the head moved elsewhere",
        "after a rollback",
    ]  # fmt: skip
    other_engine.dispose()


def test_a_unit_that_only_reads_reads_a_snapshot_beside_the_writers(database_url):
    gw = build_gateway(Settings(db_url=database_url, db_timeout_seconds=1))
    for code in (G12, H31):
        gw.directory.add(code, code, "pw")
    gw.hub.send(G12, document(document_id="G12,1", recipients=(H31,)))
    with gw.reading() as report:
        [before] = report.traffic.backlog()
        # A writer goes on while the report's transaction is open (on a SQLite file it
        # would otherwise wait for the kept connection, held by this very thread).
        gw.hub.send(G12, document(document_id="G12,2", recipients=(H31,)))
        if gw.engine.dialect.name == "sqlite":  # (PostgreSQL reads each statement afresh)
            assert report.traffic.backlog() == [before]  # its snapshot
        with pytest.raises(RuntimeError):
            report.commit()
    [after] = gw.hub.backlog()
    assert (before.pending, after.pending) == (1, 2)
    gw.engine.dispose()
