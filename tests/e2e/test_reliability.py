"""Breaking things on purpose: SIGKILL mid-burst, SIGTERM mid-request, backup and restore."""

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from bench.figures import worker_status
from client.connector import Connector
from client.errors import ConnectorError
from tests.builders import G12, H31, H49, document
from tests.hubprocess import start_hub, stop_hub


def connect(hub, agency) -> Connector:
    return Connector(hub.url, agency, hub.passwords[agency], timeout=20, retry_for=0)


def bytes_read(pid: int) -> int:
    """What process ``pid`` has read so far, from files and sockets alike."""
    counters = dict(line.split(": ") for line in Path(f"/proc/{pid}/io").read_text().splitlines())
    return int(counters["rchar"])


def integrity_problems(db_url: str) -> dict:
    """Rows that a half-finished transaction would leave behind."""
    engine = create_engine(db_url)
    queries = {
        "documents without deliveries": "SELECT count(*) FROM documents d WHERE NOT EXISTS "
        "(SELECT 1 FROM deliveries x WHERE x.document_pk = d.id)",
        "documents without bytes": "SELECT count(*) FROM documents d WHERE NOT EXISTS "
        "(SELECT 1 FROM document_chunks c WHERE c.document_pk = d.id)",
        "deliveries without documents": "SELECT count(*) FROM deliveries x WHERE NOT EXISTS "
        "(SELECT 1 FROM documents d WHERE d.id = x.document_pk)",
    }
    with engine.connect() as conn:
        found = {name: conn.execute(text(sql)).scalar() for name, sql in queries.items()}
    engine.dispose()
    return {name: count for name, count in found.items() if count}


def drain_ids(connector: Connector) -> list[str]:
    ids: list[str] = []
    connector.receive(lambda m: ids.append(m.message_id), max_count=100)
    return ids


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'hub.db'}"
    else:
        from tests.conftest import fresh_postgres_database

        with fresh_postgres_database() as url:
            yield url


def test_sigkill_in_a_burst_loses_and_half_stores_nothing(tmp_path, db_url):
    hub = start_hub(tmp_path, db_url, lease_seconds=1)
    acked_before = set()
    first = connect(hub, H31)
    connect(hub, G12).send(document(document_id="G12,before", recipients=(H31,)))
    acked_before.update(drain_ids(first))

    results, stop = [], threading.Event()

    def sender(worker: int):
        connector = connect(hub, G12)
        for n in range(300):
            if stop.is_set():
                return
            try:
                receipt = connector.send(
                    document(document_id=f"G12,{worker},{n}", recipients=(H31, H49),
                             attachment=b"x" * 2000)
                )  # fmt: skip
            except ConnectorError:
                return  # the hub died under this request: its fate is unknown to the client
            results.append(receipt)

    threads = [threading.Thread(target=sender, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    while len(results) < 40:
        time.sleep(0.05)
    os.killpg(hub.process.pid, signal.SIGKILL)
    stop.set()
    for thread in threads:
        thread.join(timeout=60)
    hub.process.wait(timeout=10)
    assert integrity_problems(db_url) == {}

    restarted = start_hub(tmp_path, db_url, lease_seconds=1, register=False)
    try:
        time.sleep(1.1)  # leases taken before the crash run out
        delivered = {agency: set(drain_ids(connect(restarted, agency))) for agency in (H31, H49)}
        for receipt in results:
            for delivery in receipt.deliveries:
                assert delivery.message_id in delivered[delivery.recipient]
        assert not acked_before & delivered[H31]
    finally:
        stop_hub(restarted)


def test_sigterm_finishes_the_request_in_flight(tmp_path):
    hub = start_hub(tmp_path, f"sqlite:///{tmp_path / 'hub.db'}")
    big = document(document_id="G12,big", recipients=(H31,), attachment=os.urandom(20 * 2**20))
    outcome = {}

    def send():
        try:
            outcome["receipt"] = connect(hub, G12).send(big)
        except ConnectorError as exc:
            outcome["error"] = exc

    worker = int(worker_status(hub.process.pid)["Pid"])
    before = bytes_read(worker)
    thread = threading.Thread(target=send)
    thread.start()
    deadline = time.monotonic() + 30
    while bytes_read(worker) < before + 2**20 and time.monotonic() < deadline:
        time.sleep(0.01)  # until the upload is under way
    hub.process.send_signal(signal.SIGTERM)
    thread.join(timeout=60)
    assert hub.process.wait(timeout=40) == 0
    assert "receipt" in outcome, outcome.get("error")
    restarted = start_hub(tmp_path, f"sqlite:///{tmp_path / 'hub.db'}", register=False)
    try:
        [message] = connect(restarted, H31).fetch()
        assert message.content == big
    finally:
        stop_hub(restarted)


def test_a_restored_hub_serves_exactly_the_pending_documents_it_had(tmp_path):
    db = tmp_path / "hub.db"
    hub = start_hub(tmp_path, f"sqlite:///{db}")
    sender, recipient = connect(hub, G12), connect(hub, H31)
    for n in range(5):
        sender.send(document(document_id=f"G12,{n}", recipients=(H31,)))
    first_two = recipient.fetch(max_count=2)
    recipient.ack([m.message_id for m in first_two])
    backup = tmp_path / "backup.db"
    done = hub.admin("backup", str(backup))
    assert done.returncode == 0, done.stderr
    sender.send(document(document_id="G12,after-backup", recipients=(H31,)))
    recipient.receive(lambda m: None)
    stop_hub(hub)

    restored_db = tmp_path / "restored.db"
    env = {**hub.env, "LIENTHONG_DB_URL": f"sqlite:///{restored_db}"}
    result = subprocess.run(
        [sys.executable, "-m", "gateway.cli", "restore", str(backup)],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    restored = start_hub(tmp_path, f"sqlite:///{restored_db}", register=False)
    try:
        pending = connect(restored, H31).fetch(max_count=100)
        assert [m.document_id for m in pending] == ["G12,2", "G12,3", "G12,4"]
    finally:
        stop_hub(restored)
    refused = subprocess.run(
        [sys.executable, "-m", "gateway.cli", "restore", str(tmp_path / "hub.db-missing")],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert refused.returncode == 1
