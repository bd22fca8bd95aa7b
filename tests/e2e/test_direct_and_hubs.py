"""The direct model and hubs under a parent hub, on loopback: real gateways, the real
connector and its command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from client.connector import Connector
from client.errors import HubFault
from tests.builders import G12, H31, H49, document
from tests.hubprocess import PASSWORDS, free_port, start_hub, stop_hub

PROVINCE = "000.00.00.H40"
PROVINCE_PASSWORD = "pw-province-hub"
A1, A2 = "000.01.00.H40", "000.02.00.H40"


def lienthong(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "client.cli", *args],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def eventually(fetch, timeout: float = 30):
    """What ``fetch`` returns once it returns something, polling until ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = fetch()
        if found:
            return found
        time.sleep(0.3)
    raise AssertionError("nothing arrived in time")


def drain(connector: Connector) -> list:
    taken = []
    connector.receive(taken.append, max_count=100)
    return taken


def test_two_agencies_exchange_directly_with_the_inbox_down_for_a_while(tmp_path):
    port = free_port()
    directory = tmp_path / "directory.json"
    directory.write_text(json.dumps({H31: f"http://127.0.0.1:{port}/soap"}))
    data = document(recipients=(H31,), document_id="000.00.00.G12,2026/11/25,1/TT")
    letter = tmp_path / "letter.edxml"
    letter.write_bytes(data)
    env = {**os.environ, "G12_PASSWORD": PASSWORDS[G12]}
    ministry = ["--agency", G12, "--password-env", "G12_PASSWORD",
                "--data-dir", str(tmp_path / "data")]  # fmt: skip
    direct = [*ministry, "--directory", str(directory)]

    sent = lienthong(env, *direct, "send", "--direct", str(letter))
    assert sent.returncode == 1, sent.stderr
    assert H31 in sent.stdout and "waiting" in sent.stdout and "unreachable" in sent.stdout
    listed = lienthong(env, *direct, "outbox")
    assert "1 not delivered" in listed.stdout and "unreachable" in listed.stdout

    inbox = start_hub(tmp_path, f"sqlite:///{tmp_path / 'inbox.db'}", port=port, inbox=H31)
    try:
        flushed = lienthong(env, *direct, "outbox", "flush")
        assert flushed.returncode == 0, flushed.stdout + flushed.stderr
        assert "delivered" in flushed.stdout
        again = lienthong(env, *direct, "send", "--direct", str(letter))
        assert again.returncode == 0 and "delivered" in again.stdout
        assert "nothing waits" in lienthong(env, *direct, "outbox", "flush").stdout

        owner = Connector(inbox.url, H31, inbox.passwords[H31])
        [message] = drain(owner)
        assert (message.content, message.sender) == (data, G12)

        # The inbox's own directory can name the endpoint instead of a file.
        assert inbox.admin("agency", "set-endpoint", H31, inbox.url).returncode == 0
        second = tmp_path / "second.edxml"
        second.write_bytes(document(recipients=(H31,), document_id="000.00.00.G12,2026/11/25,2/TT"))
        via_hub = lienthong(env, *ministry, "--url", inbox.url, "send", "--direct", str(second))
        assert via_hub.returncode == 0, via_hub.stdout + via_hub.stderr
        assert [m.document_id for m in drain(owner)] == ["000.00.00.G12,2026/11/25,2/TT"]

        with pytest.raises(HubFault) as refused:
            Connector(inbox.url, G12, PASSWORDS[G12]).send(document(recipients=(H49,)))
        assert refused.value.code == "Client.UnknownRecipient"

        # The inbox issues G12 a password of its own; the directory file says where it is.
        issued = inbox.admin("agency", "set-password", G12, "--password-stdin",
                             stdin="issued-by-h31\n")  # fmt: skip
        assert issued.returncode == 0, issued.stderr
        directory.write_text(json.dumps(
            {H31: {"url": inbox.url, "password_env": "H31_INBOX_PASSWORD"}}
        ))  # fmt: skip
        third = tmp_path / "third.edxml"
        third.write_bytes(document(recipients=(H31,), document_id="000.00.00.G12,2026/11/25,3/TT"))
        unset = lienthong(env, *direct, "send", "--direct", str(third))
        assert unset.returncode == 1 and "$H31_INBOX_PASSWORD, which is not set" in unset.stderr
        own = lienthong({**env, "H31_INBOX_PASSWORD": "issued-by-h31"}, *direct,
                        "send", "--direct", str(third))  # fmt: skip
        assert own.returncode == 0, own.stdout + own.stderr
        assert [m.document_id for m in drain(owner)] == ["000.00.00.G12,2026/11/25,3/TT"]

        # A large one, sent gzip-compressed: the inbox inflates it.
        large = document(recipients=(H31,), document_id="000.00.00.G12,2026/11/25,4/TT",
                         attachment=os.urandom(200_000))  # fmt: skip
        path = tmp_path / "large.edxml"
        path.write_bytes(large)
        compressed = lienthong({**env, "H31_INBOX_PASSWORD": "issued-by-h31"}, "--compress",
                               *direct, "send", "--direct", str(path))  # fmt: skip
        assert compressed.returncode == 0, compressed.stdout + compressed.stderr
        assert [m.content for m in drain(owner)] == [large]
    finally:
        stop_hub(inbox)


@pytest.fixture
def national(tmp_path):
    hub = start_hub(tmp_path, f"sqlite:///{tmp_path / 'national.db'}")
    assert hub.admin("agency", "add", PROVINCE, "--name", "Trục tỉnh Hưng Yên",
                     "--password", PROVINCE_PASSWORD).returncode == 0  # fmt: skip
    for code in (A1, A2):
        added = hub.admin("agency", "add", code, "--name", f"Sở {code}", "--via", PROVINCE)
        assert added.returncode == 0, added.stderr
    yield hub
    stop_hub(hub)


@pytest.fixture
def province(tmp_path, national):
    hub = start_hub(
        tmp_path, f"sqlite:///{tmp_path / 'province.db'}", register=False,
        parent_url=national.url, parent_agency=PROVINCE, parent_password=PROVINCE_PASSWORD,
        parent_poll_seconds=1,
    )  # fmt: skip
    for code in (A1, A2):
        assert hub.admin("agency", "add", code, "--name", f"Sở {code}",
                         "--password", f"pw-{code}").returncode == 0  # fmt: skip
        hub.passwords[code] = f"pw-{code}"
    yield hub
    stop_hub(hub)


def test_a_document_and_its_status_messages_cross_a_province_and_a_national_hub(national, province):
    so_1, so_2 = (Connector(province.url, c, province.passwords[c]) for c in (A1, A2))
    ministry = Connector(national.url, G12, national.passwords[G12])
    upward = "000.01.00.H40,2026/11/25,3/SO"
    so_1.send(document(sender=A1, recipients=(A2, G12), document_id=upward))
    assert [m.document_id for m in drain(so_2)] == [upward]
    [arrived] = eventually(lambda: drain(ministry))
    assert (arrived.sender, arrived.document_id) == (A1, upward)

    ministry.send_status(upward, "03", "Đã vào sổ")
    [reply] = eventually(lambda: drain(so_1))
    assert (reply.kind, reply.sender) == ("status", G12)
    [row] = [r for r in so_1.status(upward).recipients if r.recipient == G12]
    assert (row.transport_state, row.latest_status_code) == ("forwarded", "03")
    assert row.latest_status_description == "Đã vào sổ"

    downward = "000.00.00.G12,2026/11/25,4/BTTTT"
    data = document(recipients=(A1, H31), document_id=downward)
    ministry.send(data)
    [received] = eventually(lambda: drain(so_1))
    assert (received.content, received.sender) == (data, G12)
    so_1.send_status(downward, "06", "Đã xử lý xong")
    [done] = eventually(lambda: drain(ministry))
    assert (done.kind, done.sender) == ("status", A1)
    rows = {r.recipient: r for r in ministry.status(downward).recipients}
    assert rows[A1].latest_status_code == "06"


def test_a_recipient_neither_hub_serves_fails_alone(national, province):
    so_1 = Connector(province.url, A1, province.passwords[A1])
    ministry = Connector(national.url, G12, national.passwords[G12])
    doc_id = "000.01.00.H40,2026/11/25,6/SO"
    so_1.send(document(sender=A1, recipients=(G12, "000.00.00.Z99"), document_id=doc_id))
    [arrived] = eventually(lambda: drain(ministry))
    assert arrived.document_id == doc_id

    def settled():
        states = {r.recipient: r.transport_state for r in so_1.status(doc_id).recipients}
        return [states] if set(states.values()) <= {"forwarded", "failed"} else []

    [states] = eventually(settled)
    assert states == {G12: "forwarded", "000.00.00.Z99": "failed"}


def test_a_child_hub_cannot_send_for_an_agency_it_does_not_represent(national, province):
    as_province = Connector(national.url, PROVINCE, PROVINCE_PASSWORD)
    with pytest.raises(HubFault) as refused:
        as_province.send(document(sender=H31, recipients=(G12,)))
    assert refused.value.code == "Client.SenderMismatch"


def test_the_parent_down_for_a_while_then_up(tmp_path, national, province):
    port = int(national.url.rsplit(":", 1)[1].split("/")[0])
    stop_hub(national)
    so_1 = Connector(province.url, A1, province.passwords[A1])
    doc_id = "000.01.00.H40,2026/11/25,5/SO"
    so_1.send(document(sender=A1, recipients=(G12,), document_id=doc_id))
    time.sleep(3)
    [row] = so_1.status(doc_id).recipients
    assert row.transport_state == "pending"

    again = start_hub(tmp_path, f"sqlite:///{tmp_path / 'national.db'}", register=False,
                      port=port)  # fmt: skip
    try:
        ministry = Connector(again.url, G12, PASSWORDS[G12])
        [arrived] = eventually(lambda: drain(ministry), timeout=60)
        assert arrived.document_id == doc_id
        time.sleep(3)
        assert drain(ministry) == []  # once
        [row] = so_1.status(doc_id).recipients
        assert row.transport_state == "forwarded"
    finally:
        stop_hub(again)
