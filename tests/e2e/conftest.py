"""The real gateway, started as a process on a loopback port, with registered agencies."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from gateway.security.secretbox import SecretBox
from tests.builders import G12, H31, H49
from tests.conftest import fresh_postgres_database

PASSWORDS = {G12: "mật-khẩu-G12", H31: "pw-h31", H49: "pw-h49"}
DIGEST_AGENCY = "000.00.00.H14"
REAL_AGENCIES = ("000.00.00.G22", "000.00.00.H41", "000.00.00.G17", "000.00.00.A80", "28.22.H17")


@dataclass
class RunningHub:
    url: str
    env: dict
    process: subprocess.Popen
    log: Path
    passwords: dict = field(default_factory=dict)

    def admin(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
        return run_admin(self.env, *args, stdin=stdin)


def run_admin(env: dict, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "gateway.cli", *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_hub(tmp: Path, db_url: str, **settings) -> RunningHub:
    port = free_port()
    env = {
        **os.environ,
        "LIENTHONG_DB_URL": db_url,
        "LIENTHONG_PORT": str(port),
        "LIENTHONG_HUB_KEY": SecretBox.generate_key(),
        "LIENTHONG_THREADS": "4",
        **{f"LIENTHONG_{k.upper()}": str(v) for k, v in settings.items()},
    }
    passwords = dict(PASSWORDS)
    for code, password in PASSWORDS.items():
        assert (
            run_admin(
                env, "agency", "add", code, "--name", f"Cơ quan {code}", "--password", password
            ).returncode
            == 0
        )
    passwords[DIGEST_AGENCY] = "digest-secret"
    added = run_admin(
        env,
        "agency",
        "add",
        DIGEST_AGENCY,
        "--name",
        "UBND tỉnh Cao Bằng",
        "--password-stdin",
        "--allow-digest",
        stdin="digest-secret\n",
    )
    assert added.returncode == 0, added.stderr
    for code in REAL_AGENCIES:
        passwords[code] = f"pw-{code}"
        assert (
            run_admin(
                env, "agency", "add", code, "--name", code, "--password", passwords[code]
            ).returncode
            == 0
        )
    log = tmp / f"gateway-{port}.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "gateway.cli", "serve"],
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/soap"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{url}?wsdl", timeout=1).status_code == 200:
                return RunningHub(url, env, process, log, passwords)
        except requests.ConnectionError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"the gateway did not start:\n{log.read_text()}")


def stop_hub(hub: RunningHub) -> None:
    hub.process.send_signal(signal.SIGTERM)
    try:
        hub.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        hub.process.kill()


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def hub(request, tmp_path_factory):
    """A running hub, once on SQLite and once on PostgreSQL."""
    tmp = tmp_path_factory.mktemp("hub")
    limits = dict(max_request_bytes=40 * 2**20, max_document_bytes=24 * 2**20)
    if request.param == "sqlite":
        running = start_hub(tmp, f"sqlite:///{tmp / 'hub.db'}", **limits)
        yield running
        stop_hub(running)
    else:
        with fresh_postgres_database() as url:
            running = start_hub(tmp, url, **limits)
            yield running
            stop_hub(running)


@pytest.fixture(scope="module")
def short_lease_hub(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("lease")
    running = start_hub(tmp, f"sqlite:///{tmp / 'hub.db'}", lease_seconds=2)
    yield running
    stop_hub(running)
