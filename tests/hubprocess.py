"""Start the real gateway as a process on a loopback port, with agencies registered.

Used by the end-to-end tests and by the benchmarks.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

from gateway.security.secretbox import SecretBox
from tests.builders import G12, H31, H49

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
    source: Path | None = None

    def admin(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
        return run_admin(self.env, *args, stdin=stdin, source=self.source)


def run_admin(
    env: dict, *args: str, stdin: str | None = None, source: Path | None = None
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "gateway.cli", *args],
        env=env,
        cwd=source,
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


def start_hub(
    tmp: Path, db_url: str, register: bool = True, port: int | None = None,
    source: Path | None = None, **settings,
) -> RunningHub:  # fmt: skip
    """Start ``lienthong-gateway serve`` in its own process group, agencies registered.

    ``source`` is another checkout to run instead of this one (``python -m`` puts the
    current directory first on ``sys.path``, so it runs from there)."""
    port = port or free_port()
    env = {
        **os.environ,
        **({"PYTHONPATH": str(source)} if source else {}),
        "LIENTHONG_DB_URL": db_url,
        "LIENTHONG_PORT": str(port),
        "LIENTHONG_HUB_KEY": SecretBox.generate_key(),
        "LIENTHONG_THREADS": "4",
        **{f"LIENTHONG_{k.upper()}": str(v) for k, v in settings.items()},
    }
    passwords = dict(PASSWORDS)
    passwords[DIGEST_AGENCY] = "digest-secret"
    passwords.update({code: f"pw-{code}" for code in REAL_AGENCIES})
    if register:
        _register(env, source)
    log = tmp / f"gateway-{port}.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "gateway.cli", "serve"],
        env=env,
        cwd=source,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}/soap"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{url}?wsdl", timeout=5).status_code == 200:
                return RunningHub(url, env, process, log, passwords, source)
        except (requests.ConnectionError, requests.Timeout):
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"the gateway did not start:\n{log.read_text()}")


_REGISTER_ALL = """
import io, json, sys
from gateway.cli import main
for argv, stdin in json.loads(sys.argv[1]):
    sys.stdin = io.StringIO(stdin)
    if main(argv) != 0:
        sys.exit(f"{argv[:3]} failed")
"""


def _register(env: dict, source: Path | None) -> None:
    """Register the test agencies through the admin CLI (each command with its stdin), in
    one process to spare startups."""
    commands = [
        (["agency", "add", code, "--name", f"Cơ quan {code}", "--password", password], "")
        for code, password in PASSWORDS.items()
    ]
    commands.append((["agency", "add", DIGEST_AGENCY, "--name", "UBND tỉnh Cao Bằng",
                      "--password-stdin", "--allow-digest"], "digest-secret\n"))  # fmt: skip
    commands += [
        (["agency", "add", code, "--name", code, "--password", f"pw-{code}"], "")
        for code in REAL_AGENCIES
    ]
    added = subprocess.run(
        [sys.executable, "-c", _REGISTER_ALL, json.dumps(commands)],
        env=env, cwd=source, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr


def stop_hub(hub: RunningHub) -> None:
    hub.process.send_signal(signal.SIGTERM)
    try:
        hub.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        hub.process.kill()
