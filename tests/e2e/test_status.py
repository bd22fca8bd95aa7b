"""Status messages, revoke, the delivery timeline and the directory, end to end."""

import subprocess
import sys
import uuid

from client.connector import Connector
from client.errors import HubFault
from gateway.envelope import BusinessType
from tests.builders import G12, H31, H49, document, sample
from tests.hubprocess import DIGEST_AGENCY as H14


def connect(hub, agency) -> Connector:
    return Connector(hub.url, agency, hub.passwords[agency])


def drain(connector: Connector) -> list:
    taken = []
    connector.receive(taken.append, max_count=100)
    return taken


def new_id() -> str:
    return f"000.00.00.G12,2024/06/01,{uuid.uuid4().hex[:6]}/BTTTT"


def test_the_full_story(hub):
    """Sent to three: one refuses (02), one completes (06), one never downloads and is revoked."""
    ministry, hung_yen, quang_ninh, cao_bang = (connect(hub, c) for c in (G12, H31, H49, H14))
    for connector in (ministry, hung_yen, quang_ninh, cao_bang):
        drain(connector)
    document_id = new_id()
    ministry.send(document(document_id=document_id, recipients=(H31, H49, H14)))
    drain(hung_yen), drain(quang_ninh)
    hung_yen.send_status(document_id, "02", "Không thuộc thẩm quyền", staff="Lê Văn C")
    quang_ninh.send_status(document_id, "03", "Đã vào sổ")
    quang_ninh.send_status(document_id, "06", "Đã xử lý xong")
    revoke = ministry.send(
        document(document_id=document_id, recipients=(H14,), business_type=BusinessType.REVOKE)
    )
    assert [d.state for d in revoke.deliveries] == ["withdrawn"]
    assert drain(cao_bang) == []

    statuses = drain(ministry)
    assert [(m.kind, m.sender) for m in statuses] == [
        ("status", H31), ("status", H49), ("status", H49)
    ]  # fmt: skip
    timeline = {row.recipient: row for row in ministry.status(document_id).recipients}
    assert (timeline[H31].latest_status_code, timeline[H31].transport_state) == (
        "02",
        "acknowledged",
    )
    assert timeline[H31].latest_status_description == "Không thuộc thẩm quyền"
    assert timeline[H49].latest_status_code == "06"
    assert timeline[H14].transport_state == "withdrawn"
    assert [e.event for e in timeline[H14].events] == ["received", "withdrawn"]
    assert [e.event for e in timeline[H49].events] == [
        "received", "leased", "acknowledged", "status", "status"
    ]  # fmt: skip

    own = hung_yen.status(document_id)
    assert [row.recipient for row in own.recipients] == [H31]
    try:
        connect(hub, "000.00.00.G17").status(document_id)
    except HubFault as fault:
        assert fault.code == "Client.UnknownDocument"
    else:
        raise AssertionError("a stranger must not see the timeline")


def test_every_real_status_message_travels(hub):
    vpcp, nghe_an = connect(hub, "000.00.00.G22"), connect(hub, "000.00.00.H41")
    drain(vpcp), drain(nghe_an)
    vpcp.send(sample("dc0bdef0-c7a3-4aaf-b717-777303442973.edxml"))
    drain(nghe_an)
    names = ["status_inbox_01", "status_rejection_02", "status_acceptance_03",
             "status_assignment_04", "status_processing_05", "status_finish_06"]  # fmt: skip
    for name in names:
        nghe_an.send(sample(f"{name}.edxml"))
    received = drain(vpcp)
    assert len(received) == len(names)
    vpcp.send(sample("edoc_revocation.edxml"))
    nghe_an.send(sample("status_change-acceptance_15.edxml"))
    nghe_an.send(sample("status_change-rejection_16.edxml"))
    vpcp.send(sample("status_cancellation_13.edxml"))
    row = {
        r.recipient: r for r in vpcp.status("000.00.00.G22,2015/09/30,7816/VPCP-TTĐT").recipients
    }
    events = [e.event for e in row["000.00.00.H41"].events]
    assert events.count("status") == 8
    assert "revoked" in events and "take-back" in events
    assert row["000.00.00.H41"].latest_status_code == "16"
    assert row["000.00.00.H14"].transport_state == "withdrawn"


def test_a_status_for_a_document_never_received_is_refused(hub):
    try:
        connect(hub, H49).send_status(new_id(), "03")
    except HubFault as fault:
        assert fault.code == "Client.UnknownDocument"
    else:
        raise AssertionError("expected Client.UnknownDocument")


def test_the_directory_lists_agencies_and_children(hub, tmp_path):
    csv = tmp_path / "agencies.csv"
    csv.write_text(
        "code,name,note\n000.00.00.G09,Bộ Công an,x\n000.00.01.G09,Văn phòng Bộ Công an,y\n",
        encoding="utf-8",
    )
    imported = hub.admin("agency", "import", str(csv))
    assert imported.returncode == 0, imported.stderr
    assert "imported 2 agencies" in imported.stdout
    assert hub.admin("agency", "import", str(csv)).returncode == 0  # idempotent
    entries = {e.code: e for e in connect(hub, H31).agencies()}
    assert {G12, H31, "000.00.00.G09", "000.00.01.G09"} <= set(entries)
    assert entries["000.00.01.G09"].parent_code == "000.00.00.G09"
    assert entries["000.00.01.G09"].name == "Văn phòng Bộ Công an"
    children = connect(hub, H31).agencies("000.00.00.G09")
    assert [e.code for e in children] == ["000.00.01.G09"]
    bad = tmp_path / "bad.csv"
    bad.write_text("code,name\nnot-a-code,X\n", encoding="utf-8")
    refused = hub.admin("agency", "import", str(bad))
    assert refused.returncode == 1 and "line 2" in refused.stderr


def test_the_connector_reads_a_large_directory_page_by_page(hub, tmp_path, monkeypatch):
    csv = tmp_path / "agencies.csv"
    rows = [f"000.{n // 100:02d}.{n % 100:02d}.K05,Ủy ban nhân dân xã {n}" for n in range(2500)]
    csv.write_text("code,name\n" + "\n".join(rows) + "\n", encoding="utf-8")
    assert hub.admin("agency", "import", str(csv)).returncode == 0
    pages = []
    connector = connect(hub, H31)
    call = connector._call
    monkeypatch.setattr(connector, "_call", lambda *a, **kw: pages.append(kw) or call(*a, **kw))
    listed = [e.code for e in connector.agencies()]
    assert listed == sorted(listed) and len(set(listed)) == len(listed)
    assert {row.split(",")[0] for row in rows} <= set(listed)
    assert [page["After"] for page in pages] == [None, listed[999], listed[1999]]
    assert all(page["MaxCount"] == 1000 for page in pages)


def lienthong(hub, agency, *args):
    env = {**hub.env, "SECRET": hub.passwords[agency]}
    return subprocess.run(
        [sys.executable, "-m", "client.cli", "--url", hub.url, "--agency", agency,
         "--password-env", "SECRET", *args],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_status_commands(hub):
    ministry, recipient = connect(hub, G12), connect(hub, H49)
    drain(recipient)
    document_id = new_id()
    ministry.send(document(document_id=document_id, recipients=(H49,)))
    drain(recipient)
    sent = lienthong(hub, H49, "status-send", document_id, "05", "--description", "Đang xử lý")
    assert sent.returncode == 0, sent.stderr
    assert f"status 05 to {G12}" in sent.stdout
    table = lienthong(hub, G12, "status", document_id, "--events")
    assert table.returncode == 0, table.stderr
    [row] = [line for line in table.stdout.splitlines() if line.startswith(H49)]
    assert "acknowledged" in row and "05" in row and "Đang xử lý" in row
    assert "leased" in table.stdout
    listing = lienthong(hub, H49, "agencies")
    assert listing.returncode == 0 and G12 in listing.stdout
