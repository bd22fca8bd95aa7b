"""The write-ahead log is copied into the database file beside the requests, not in them."""

import gc
import logging
import os
import sqlite3
import threading
import time
from datetime import date

from sqlalchemy import text

from gateway.store.connections import OneConnection
from gateway.store.unit_of_work import SqlUnitOfWork
from gateway.store.wal_checkpoints import WalCheckpointer
from tests.builders import G12


def _count(connections: OneConnection, times: int = 1) -> None:
    for _ in range(times):
        with SqlUnitOfWork(connections) as uow:
            uow.usage.count_day(G12, date(2026, 12, 1), 100)
            uow.commit()


def _log_pages(sqlite_engine) -> tuple[int, int]:
    """The log's length in pages and how many are copied, as a passive checkpoint finds
    them (it copies what is left first)."""
    with sqlite3.connect(sqlite_engine.url.database) as conn:
        _, pages, copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    return pages, copied


def _checkpointer_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "wal-checkpoints"]


def test_the_kept_connection_leaves_checkpoints_to_the_thread(sqlite_engine):
    connections = OneConnection(sqlite_engine, timeout_seconds=1)
    with SqlUnitOfWork(connections) as uow:
        assert uow._conn.execute(text("PRAGMA wal_autocheckpoint")).scalar() == 0
    assert connections._checkpointer._started_in == os.getpid()


def test_a_passive_checkpoint_copies_the_log_and_the_next_transaction_starts_it_over(sqlite_engine):
    connections = OneConnection(sqlite_engine, timeout_seconds=1)
    _count(connections, 30)
    checkpointer = WalCheckpointer(sqlite_engine.url.database, threading.Lock(), 1)
    conn = checkpointer.connect()
    pages, copied = checkpointer.checkpoint(conn)
    conn.close()
    assert copied == pages  # the writer is idle: all of it is copied
    _count(connections)
    assert _log_pages(sqlite_engine)[0] < 10


def test_under_steady_writes_a_long_log_is_made_to_start_over(sqlite_engine):
    connections = OneConnection(sqlite_engine, timeout_seconds=1)
    connections._checkpointer = WalCheckpointer(
        os.path.realpath(sqlite_engine.url.database), connections._turn, 1, restart_pages=50
    )
    stop, commits = time.monotonic() + 1.5, [0, 0]

    def write(index: int) -> None:
        while time.monotonic() < stop:
            _count(connections)
            commits[index] += 1

    writers = [threading.Thread(target=write, args=(i,)) for i in range(2)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join()
    # Each commit writes two pages or more: without restarts the log would be longer
    # than this bound (about 11 MB here in 1.5 s, checkpointed passively only).
    assert sum(commits) > 400
    assert os.path.getsize(sqlite_engine.url.database + "-wal") < 3 * 2**20


def test_the_catch_up_waits_for_the_connection_s_turn_no_longer_than_its_timeout(sqlite_engine):
    turn = threading.Lock()
    checkpointer = WalCheckpointer(sqlite_engine.url.database, turn, 0.2, restart_pages=1)
    connections = OneConnection(sqlite_engine, timeout_seconds=1)
    _count(connections, 3)
    conn = checkpointer.connect()
    with turn:  # a unit of work holds the turn: no catch-up, and no waiting past the timeout
        started = time.monotonic()
        checkpointer.checkpoint(conn)
        assert time.monotonic() - started < 1
    conn.close()


def test_the_thread_copies_the_log_while_requests_commit(sqlite_engine):
    connections = OneConnection(sqlite_engine, timeout_seconds=1)
    _count(connections, 21)
    database_file_alone = f"file:{sqlite_engine.url.database}?immutable=1"  # the log unread
    deadline, counted = time.monotonic() + 5, None
    while counted != 21 and time.monotonic() < deadline:
        time.sleep(0.01)
        with sqlite3.connect(database_file_alone, uri=True) as conn:
            try:
                counted = conn.execute("SELECT documents FROM agency_usage").fetchone()[0]
            except (sqlite3.DatabaseError, TypeError):  # not there yet, or being written
                counted = None
    assert counted == 21


def test_the_thread_ends_with_its_checkpointer_and_survives_a_failed_checkpoint(
    sqlite_engine, caplog
):
    others = set(_checkpointer_threads())
    checkpointer = WalCheckpointer(sqlite_engine.url.database, threading.Lock(), 1)
    failures = []

    def failing(conn):
        failures.append(1)
        raise sqlite3.OperationalError("disk I/O error")

    checkpointer.checkpoint = failing  # not monkeypatch, which would keep it alive
    with caplog.at_level(logging.WARNING, logger="gateway.store"):
        checkpointer.start(interval=0.01)
        (thread,) = set(_checkpointer_threads()) - others
        deadline = time.monotonic() + 5
        while len(failures) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
    assert len(failures) >= 3 and "disk I/O error" in caplog.text
    assert thread.is_alive()
    del checkpointer, failing
    gc.collect()
    thread.join(5)
    assert not thread.is_alive()


def test_a_long_read_does_not_make_the_thread_hold_the_turn(sqlite_engine):
    connections = OneConnection(sqlite_engine, timeout_seconds=1)
    _count(connections, 3)
    reader = sqlite3.connect(sqlite_engine.url.database, isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM agency_usage").fetchone()  # a snapshot, held
    _count(connections, 3)
    checkpointer = WalCheckpointer(sqlite_engine.url.database, threading.Lock(), 2, restart_pages=1)
    conn = checkpointer.connect()
    started = time.monotonic()
    pages, copied = checkpointer.checkpoint(conn)
    assert time.monotonic() - started < 0.5  # no wait for the reader, turn or no turn
    assert copied < pages  # what the reader may still need stays in the log
    reader.execute("COMMIT")
    reader.close()
    conn.close()


def test_the_log_file_is_cut_back_when_it_starts_over(sqlite_engine):
    connections = OneConnection(sqlite_engine, timeout_seconds=1, log_size_limit=2**20)
    with SqlUnitOfWork(connections) as uow:
        uow._conn.exec_driver_sql("CREATE TABLE scratch (data BLOB)")
        uow._conn.exec_driver_sql("INSERT INTO scratch VALUES (zeroblob(3000000))")
        uow.commit()
    log = sqlite_engine.url.database + "-wal"
    assert os.path.getsize(log) > 3_000_000
    checkpointer = WalCheckpointer(sqlite_engine.url.database, threading.Lock(), 1)
    conn = checkpointer.connect()
    checkpointer.checkpoint(conn)  # all of it copied: the next transaction starts over
    conn.close()
    _count(connections)
    assert os.path.getsize(log) <= 2**20
