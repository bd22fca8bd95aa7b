"""Status messages, revoke/update/replace, and the delivery timeline, on the fake store."""

from datetime import UTC, datetime, timedelta

import pytest

from gateway.envelope import BusinessType
from gateway.errors import InvalidDocument, UnknownDocument
from gateway.hub.directory import Directory, parent_of
from gateway.hub.hub import Hub
from gateway.hub.model import DeliveryState
from gateway.settings import Settings
from tests.builders import G12, H31, H49, document, status
from tests.fakes import FakeDatabase, FakeUnitOfWork

H14 = "000.00.00.H14"
DOC = "000.00.00.G12,2024/05/01,15/BTTTT-VP"
UPDATE = "000.00.00.G12,2024/05/02,16/BTTTT-VP"


class Clock:
    def __init__(self):
        self.now = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)

    def __call__(self):
        self.now += timedelta(seconds=1)
        return self.now


@pytest.fixture
def db():
    return FakeDatabase()


@pytest.fixture
def hub(db):
    directory = Directory(lambda: FakeUnitOfWork(db), None)
    for code in (G12, H31, H49, H14):
        directory.add(code, f"Cơ quan {code}", "pw")
    return Hub(lambda: FakeUnitOfWork(db), Settings(), clock=Clock())


def download(hub, agency):
    messages = hub.fetch(agency, 100)
    hub.acknowledge(agency, [m.message_id for m in messages])
    return messages


def rows(hub, agency, document_id=DOC):
    return {row.recipient: row for row in hub.send_status(agency, document_id).recipients}


def events(row):
    return [entry.event for entry in row.entries]


def test_each_status_code_reaches_the_original_sender(hub):
    hub.send(G12, document(recipients=(H31,)))
    download(hub, H31)
    for code in ("01", "03", "04", "05", "06"):
        hub.send(H31, status(H31, G12, DOC, code=code))
    assert [m.kind.value for m in download(hub, G12)] == ["status"] * 5
    row = rows(hub, G12)[H31]
    assert row.latest_status.status_code == "06"
    assert [e.status_code for e in row.entries if e.event == "status"] == [
        "01", "03", "04", "05", "06"
    ]  # fmt: skip


def test_an_unknown_status_code_is_refused(hub):
    hub.send(G12, document(recipients=(H31,)))
    with pytest.raises(InvalidDocument, match="StatusCode"):
        hub.send(H31, status(H31, G12, DOC, code="99"))


def test_only_a_recipient_may_send_a_status_and_only_the_sender_a_take_back(hub):
    hub.send(G12, document(recipients=(H31,)))
    with pytest.raises(UnknownDocument):
        hub.send(H49, status(H49, G12, DOC, code="03"))
    with pytest.raises(UnknownDocument):
        hub.send(H31, status(H31, G12, DOC, code="13"))


def test_the_timeline_shows_every_transport_step(hub):
    hub.send(G12, document(recipients=(H31,)))
    [message] = hub.fetch(H31, 10)
    hub.acknowledge(H31, [message.message_id])
    row = rows(hub, G12)[H31]
    assert events(row) == ["received", "leased", "acknowledged"]
    assert row.transport_state is DeliveryState.ACKNOWLEDGED
    assert row.latest_status is None
    assert all(entry.at for entry in row.entries)


def test_an_acknowledgement_repeated_is_answered_alike_and_recorded_once(hub):
    hub.send(G12, document(recipients=(H31, H49)))
    [message] = hub.fetch(H31, 10)
    assert hub.acknowledge(H31, [message.message_id]).acknowledged == 1
    again = hub.acknowledge(H31, [message.message_id, "no-such-id"])
    assert (again.acknowledged, again.unknown) == (1, ("no-such-id",))
    assert events(rows(hub, G12)[H31]) == ["received", "leased", "acknowledged"]
    [theirs] = hub.fetch(H49, 10)
    assert hub.acknowledge(H49, [message.message_id, theirs.message_id]).acknowledged == 1
    assert events(rows(hub, G12)[H49]) == ["received", "leased", "acknowledged"]


def test_a_recipient_sees_only_its_own_row_and_others_nothing(hub):
    hub.send(G12, document(recipients=(H31, H49)))
    assert set(rows(hub, G12)) == {H31, H49}
    assert set(rows(hub, H31)) == {H31}
    with pytest.raises(UnknownDocument):
        hub.send_status(H14, DOC)


def test_an_operator_traces_each_sender_of_a_document_id(hub):
    hub.send(G12, document(recipients=(H31, H49)))
    download(hub, H31)
    hub.send(H31, status(H31, G12, DOC, code="03"))
    hub.send(H14, document(sender=H14, recipients=(H49,), subject="Cùng số, khác nơi gửi"))
    found = hub.trace(DOC)
    assert [(d.sender, d.subject) for d in found.documents] == [
        (H14, "Cùng số, khác nơi gửi"), (G12, "Về việc triển khai liên thông văn bản điện tử")
    ]  # fmt: skip
    by_recipient = {row.recipient: row for row in found.documents[1].recipients}
    assert by_recipient[H31].latest_status.status_code == "03"
    assert events(by_recipient[H49]) == ["received"]
    assert found.names == {code: f"Cơ quan {code}" for code in (G12, H14, H31, H49)}
    assert [d.sender for d in hub.trace(DOC, sender=G12).documents] == [G12]
    assert hub.trace(DOC, sender=H31).documents == ()  # it received DOC, and sent a status
    assert hub.trace("no such DocumentId").documents == ()


def test_a_revoke_withdraws_what_was_not_downloaded_and_is_delivered_elsewhere(hub):
    hub.send(G12, document(recipients=(H31, H49)))
    download(hub, H31)
    result = hub.send(G12, document(recipients=(H31, H49), business_type=BusinessType.REVOKE))
    states = {d.recipient: d.state for d in result.deliveries}
    assert states == {H31: DeliveryState.PENDING, H49: DeliveryState.WITHDRAWN}
    assert hub.fetch(H49, 10) == []  # never sees the document nor the revoke
    [revoke] = download(hub, H31)
    assert revoke.document_id == DOC
    hub.send(H31, status(H31, G12, DOC, code="15"))
    timeline = rows(hub, G12)
    assert events(timeline[H49]) == ["received", "withdrawn"]
    assert timeline[H49].transport_state is DeliveryState.WITHDRAWN
    assert events(timeline[H31]) == ["received", "leased", "acknowledged", "revoked", "status"]
    assert timeline[H31].latest_status.status_code == "15"


def test_only_the_original_sender_may_revoke_or_update(hub):
    directory_doc = document(sender=H31, recipients=(H49,), business_type=BusinessType.REVOKE)
    with pytest.raises(UnknownDocument, match="only its sender"):
        hub.send(H31, directory_doc)


def test_an_update_names_its_original_in_the_business_block(hub):
    hub.send(G12, document(recipients=(H31,)))
    update = document(
        document_id=UPDATE,
        recipients=(H31,),
        business_type=BusinessType.UPDATE,
        business_document_id=DOC,
    )
    hub.send(G12, update)
    assert [m.document_id for m in download(hub, H31)] == [DOC, UPDATE]
    hub.send(H31, status(H31, G12, DOC, code="16"))
    row = rows(hub, G12)[H31]
    assert "updated" in events(row)
    assert row.latest_status.status_code == "16"


def test_a_revoke_repeating_the_originals_id_is_not_a_duplicate_and_is_idempotent(hub, db):
    hub.send(G12, document(recipients=(H31,)))
    revoke = document(recipients=(H31,), business_type=BusinessType.REVOKE)
    first = hub.send(G12, revoke)
    assert hub.send(G12, revoke) == first
    assert len(db.documents) == 2


def test_the_full_story(hub):
    """Three recipients: one refuses, one completes, one never downloads and is revoked."""
    hub.send(G12, document(recipients=(H31, H49, H14)))
    download(hub, H31)
    download(hub, H49)
    hub.send(H31, status(H31, G12, DOC, code="02"))
    hub.send(H49, status(H49, G12, DOC, code="03"))
    hub.send(H49, status(H49, G12, DOC, code="06"))
    hub.send(G12, document(recipients=(H14,), business_type=BusinessType.REVOKE))
    timeline = rows(hub, G12)
    assert timeline[H31].latest_status.status_code == "02"
    assert timeline[H49].latest_status.status_code == "06"
    assert timeline[H14].transport_state is DeliveryState.WITHDRAWN
    assert events(timeline[H14]) == ["received", "withdrawn"]
    assert hub.fetch(H14, 10) == []


@pytest.mark.parametrize(
    "code, parent",
    [
        ("000.00.00.H49", None),
        ("000.00.04.G14", "000.00.00.G14"),
        ("001.00.20.JB2", "000.00.20.JB2"),
        ("000.00.20.JB2", "000.00.00.JB2"),
        ("28.22.H17", "00.22.H17"),
        ("G22", None),
    ],
)
def test_the_parent_of_an_agency_zeroes_its_lowest_non_zero_group(code, parent):
    assert parent_of(code) == parent


def test_the_directory_lists_children_and_imports_idempotently(db):
    directory = Directory(lambda: FakeUnitOfWork(db), None)
    directory.add("000.00.00.G14", "Bộ Ngoại giao", "pw")
    rows_ = [("000.00.01.G14", "Vụ Một"), ("000.00.02.G14", "Vụ Hai"), ("000.00.00.H41", "Nghệ An")]
    assert directory.import_names(iter(rows_)) == 3
    assert directory.import_names(iter([("000.00.01.G14", "Vụ Một (mới)")])) == 1
    children = directory.list("000.00.00.G14")
    assert [(a.code, a.name) for a in children] == [
        ("000.00.01.G14", "Vụ Một (mới)"),
        ("000.00.02.G14", "Vụ Hai"),
    ]
    assert directory.list("000.00.00.G14")[0].password_hash == ""
    assert db.agencies["000.00.00.G14"].password_hash  # untouched by the import
