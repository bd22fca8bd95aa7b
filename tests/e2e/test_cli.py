"""The two command lines against a running hub: the operator's and the connector's."""

import os
import subprocess
import sys
import time
import uuid

import pytest

from bench.figures import workers_status
from client.connector import Connector
from client.errors import HubFault
from tests.builders import G12, H31, H49, document
from tests.hubprocess import start_hub, stop_hub


def lienthong(hub, agency, *args, password=None):
    env = {**hub.env, "AGENCY_SECRET": password or hub.passwords[agency]}
    return subprocess.run(
        [sys.executable, "-m", "client.cli", "--url", hub.url, "--agency", agency,
         "--password-env", "AGENCY_SECRET", *args],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_send_fetch_and_ack_from_the_command_line(hub, tmp_path):
    lienthong(hub, H31, "fetch", "--out", str(tmp_path / "drain"), "--ack")
    path = tmp_path / "outgoing.edxml"
    data = document(document_id=f"G12,{uuid.uuid4().hex}", recipients=(H31,))
    path.write_bytes(data)
    sent = lienthong(hub, G12, "send", str(path))
    assert sent.returncode == 0, sent.stderr
    [message_id] = [line.split()[1] for line in sent.stdout.splitlines() if H31 in line]

    inbox = tmp_path / "inbox"
    fetched = lienthong(hub, H31, "fetch", "--out", str(inbox))
    assert fetched.returncode == 0, fetched.stderr
    assert (inbox / f"{message_id}.edxml").read_bytes() == data

    acked = lienthong(hub, H31, "ack", message_id, "not-mine")
    assert acked.returncode == 1  # one id was unknown
    assert "acknowledged 1" in acked.stdout
    assert "unknown not-mine" in acked.stderr


def test_the_connector_can_send_compressed(hub, tmp_path):
    lienthong(hub, H31, "fetch", "--out", str(tmp_path / "drain"), "--ack")
    path = tmp_path / "large.edxml"
    data = document(document_id=f"G12,{uuid.uuid4().hex}", recipients=(H31,),
                    attachment=os.urandom(200_000))  # fmt: skip
    path.write_bytes(data)
    sent = lienthong(hub, G12, "--compress", "send", str(path))
    assert sent.returncode == 0, sent.stderr
    inbox = tmp_path / "inbox"
    assert lienthong(hub, H31, "fetch", "--out", str(inbox), "--ack").returncode == 0
    assert [p.read_bytes() for p in inbox.glob("*.edxml")] == [data]


def test_fetch_with_ack_empties_the_inbox(hub, tmp_path):
    lienthong(hub, H49, "fetch", "--out", str(tmp_path / "drain"), "--ack")
    for n in range(3):
        doc = document(document_id=f"G12,{uuid.uuid4().hex}", recipients=(H49,))
        (tmp_path / f"d{n}.edxml").write_bytes(doc)
    files = [str(tmp_path / f"d{n}.edxml") for n in range(3)]
    assert lienthong(hub, G12, "send", *files).returncode == 0
    inbox = tmp_path / "inbox"
    assert lienthong(hub, H49, "fetch", "--out", str(inbox), "--ack").returncode == 0
    assert len(list(inbox.glob("*.edxml"))) == 3
    assert lienthong(hub, H49, "fetch", "--out", str(inbox)).stdout == ""


def test_refusals_are_reported_with_their_fault_code(hub, tmp_path):
    path = tmp_path / "bad.edxml"
    path.write_bytes(b"<broken")
    result = lienthong(hub, G12, "send", str(path))
    assert result.returncode == 1
    assert "Client.XMLSyntax" in result.stderr
    denied = lienthong(hub, G12, "fetch", "--out", str(tmp_path), password="wrong")
    assert denied.returncode == 1
    assert "Client.Authentication" in denied.stderr


def test_the_operator_traces_a_document_to_each_recipient(hub, tmp_path):
    lienthong(hub, H31, "fetch", "--out", str(tmp_path / "drain"), "--ack")
    document_id = f"G12,{uuid.uuid4().hex}"
    Connector(hub.url, G12, hub.passwords[G12]).send(document(document_id=document_id))
    assert lienthong(hub, H31, "fetch", "--out", str(tmp_path / "inbox"), "--ack").returncode == 0

    traced = hub.admin("trace", document_id)
    assert traced.returncode == 0, traced.stderr
    assert f"{document_id}  from {G12} Cơ quan {G12}" in traced.stdout
    assert "Về việc triển khai liên thông văn bản điện tử" in traced.stdout
    states = {line.split()[0]: line.split()[1] for line in traced.stdout.splitlines()
              if line.startswith(f"  {H31[:3]}")}  # fmt: skip
    assert states == {H31: "acknowledged", H49: "pending"}
    missing = hub.admin("trace", document_id, "--sender", H31)
    assert missing.returncode == 1 and "no document" in missing.stderr


def test_the_operator_lists_and_disables_agencies(hub):
    listing = hub.admin("agency", "list")
    assert listing.returncode == 0
    assert "Cơ quan 000.00.00.G12" in listing.stdout
    code = f"000.00.00.T{uuid.uuid4().int % 100:02}"
    assert hub.admin("agency", "add", code, "--name", "Thử", "--password", "pw").returncode == 0
    duplicate = hub.admin("agency", "add", code, "--name", "Thử", "--password", "pw")
    assert duplicate.returncode == 1 and "already registered" in duplicate.stderr
    assert hub.admin("agency", "disable", code).returncode == 0
    assert any(
        line.startswith(code) and " no " in line
        for line in hub.admin("agency", "list").stdout.splitlines()
    )
    result = lienthong(hub, code, "fetch", "--out", "/tmp/none", password="pw")
    assert "Client.Authentication" in result.stderr
    bad = hub.admin("agency", "add", "not a code", "--name", "x", "--password", "pw")
    assert bad.returncode == 1 and "not an agency code" in bad.stderr


def test_wrong_passwords_lock_an_agency_until_the_operator_unlocks_it(hub):
    code = "000.00.00.L01"
    assert hub.admin("agency", "add", code, "--name", "Thử", "--password", "pw").returncode == 0
    right, wrong = Connector(hub.url, code, "pw"), Connector(hub.url, code, "guess")
    for _ in range(10):  # LIENTHONG_MAX_FAILED_SIGN_INS
        with pytest.raises(HubFault, match="Client.Authentication"):
            wrong.fetch()
    with pytest.raises(HubFault, match="Client.Authentication"):
        right.fetch()
    assert any(
        line.startswith(code) and " locked " in line
        for line in hub.admin("agency", "list").stdout.splitlines()
    )
    assert f"Agency {code} gave 10 wrong passwords in a row" in hub.log.read_text()
    assert hub.admin("agency", "unlock", code).returncode == 0
    assert right.fetch() == []


def test_an_agency_signs_in_only_from_the_networks_the_operator_set(hub):
    code = "000.00.00.N01"
    assert hub.admin("agency", "add", code, "--name", "Mạng", "--password", "pw").returncode == 0
    assert hub.admin("agency", "set-networks", code, "192.0.2.0/24").returncode == 0
    agency = Connector(hub.url, code, "pw")
    with pytest.raises(HubFault, match="Client.Authentication"):
        agency.fetch()
    assert f"Agency {code} signed in from 127.0.0.1, outside its networks" in hub.log.read_text()
    assert any(
        line.startswith(code) and line.endswith("[from 192.0.2.0/24]")
        for line in hub.admin("agency", "list").stdout.splitlines()
    )
    assert hub.admin("agency", "set-networks", code, "127.0.0.0/8", "::1").returncode == 0
    assert agency.fetch() == []
    refused = hub.admin("agency", "set-networks", code, "localhost")
    assert refused.returncode != 0 and "'localhost' is not an IP address" in refused.stderr
    assert hub.admin("agency", "set-networks", code, "--anywhere").returncode == 0
    assert agency.fetch() == []


def test_pinned_workers_each_stay_on_one_cpu_spread_over_the_cpus(tmp_path):
    cpus = sorted(os.sched_getaffinity(0))
    expected = sorted(str(cpu) for cpu in (cpus * 2)[:2])  # one CPU each, two if there are
    hub = start_hub(tmp_path, f"sqlite:///{tmp_path / 'hub.db'}", workers=2, pin_workers=True)
    try:
        deadline = time.monotonic() + 30  # the second worker may still be starting
        while sorted(workers_cpus(hub.process.pid)) != expected and time.monotonic() < deadline:
            time.sleep(0.2)
        assert sorted(workers_cpus(hub.process.pid)) == expected
    finally:
        stop_hub(hub)


def workers_cpus(master_pid: int) -> list[str]:
    """The CPUs each worker process of ``master_pid`` may run on, as /proc lists them."""
    return [fields["Cpus_allowed_list"] for fields in workers_status(master_pid)]
