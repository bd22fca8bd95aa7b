"""PostgreSQL stopped and started under the hub: fast Server.Unavailable, then recovery.

Runs a throwaway cluster of its own (initdb/pg_ctl as the postgres user), so the shared
server is never touched. Skipped where those tools or that user are missing.
"""

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from client.connector import Connector
from client.errors import HubFault
from tests.builders import G12, H31, document
from tests.hubprocess import free_port, start_hub, stop_hub

pytestmark = pytest.mark.postgres


def _postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(found[-1]).parent if found else None


class Cluster:
    """A PostgreSQL cluster in a temporary folder, run by the postgres user."""

    def __init__(self, bin_dir: Path):
        self.bin = bin_dir
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="lienthong-pg-"))
        self.data = self.root / "data"
        user = pwd.getpwnam("postgres")
        os.chown(self.root, user.pw_uid, user.pw_gid)
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres")

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.root / "log"), "-w",
            "-o", f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1", "start",
        )  # fmt: skip

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def remove(self) -> None:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", str(self.bin / "pg_ctl"), "-D", str(self.data),
             "-m", "immediate", "stop"],
            capture_output=True, check=False,
        )  # fmt: skip
        shutil.rmtree(self.root, ignore_errors=True)

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", str(self.bin / tool), *args],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip


@pytest.fixture
def cluster():
    bin_dir = _postgres_bin()
    if bin_dir is None or os.geteuid() != 0 or not shutil.which("runuser"):
        pytest.skip("needs root, runuser and the PostgreSQL server binaries")
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        pytest.skip("no postgres user")
    cluster = Cluster(bin_dir)
    cluster.start()
    yield cluster
    cluster.remove()


def test_an_outage_gives_server_unavailable_quickly_and_the_hub_recovers(cluster, tmp_path):
    hub = start_hub(tmp_path, cluster.url, db_timeout_seconds=2)
    try:
        sender = Connector(hub.url, G12, hub.passwords[G12], timeout=30, retry_for=0)
        recipient = Connector(hub.url, H31, hub.passwords[H31], timeout=30, retry_for=0)
        sender.send(document(document_id="G12,1", recipients=(H31,)))
        cluster.stop()
        for call in (
            lambda: sender.send(document(document_id="G12,2", recipients=(H31,))),
            lambda: recipient.fetch(),
        ):
            started = time.monotonic()
            with pytest.raises(HubFault) as caught:
                call()
            assert caught.value.code == "Server.Unavailable"
            assert time.monotonic() - started < 10
        cluster.start()
        receipt = sender.send(document(document_id="G12,2", recipients=(H31,)))
        assert receipt.deliveries[0].recipient == H31
        assert [m.document_id for m in recipient.fetch()] == ["G12,1", "G12,2"]
    finally:
        stop_hub(hub)
