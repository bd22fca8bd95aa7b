"""Hubs under a parent hub, and an agency's own inbox, on the in-memory store.

The parent link talks to the national hub's use cases through a stand-in for the
connector that turns the hub's errors into faults, as the SOAP layer does.
"""

from datetime import UTC, datetime, timedelta

import pytest

from client.errors import HubFault, HubUnreachable
from gateway.errors import GatewayError, SenderMismatch, UnknownRecipient
from gateway.hub.directory import Directory, DirectoryError
from gateway.hub.hub import Hub
from gateway.hub.model import PARENT_INBOX, DeliveryState
from gateway.settings import Settings
from gateway.upstream import ParentLink
from tests.builders import G12, H31, H49, document, status
from tests.fakes import FakeDatabase, FakeUnitOfWork

PROVINCE = "000.00.00.H40"
A1, A2 = "000.01.00.H40", "000.02.00.H40"
OUTSIDER = "000.00.00.Z99"


class Clock:
    def __init__(self):
        self.now = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)

    def __call__(self):
        return self.now


class NationalHubLine:
    """The parent hub as the link sees it through a connector, signed in as PROVINCE."""

    def __init__(self, hub: Hub):
        self.hub = hub
        self.down = False

    def send(self, content):
        return self._call(self.hub.send, PROVINCE, content)

    def fetch(self, max_count):
        return self._call(self.hub.fetch, PROVINCE, max_count)

    def ack(self, message_ids):
        return self._call(self.hub.acknowledge, PROVINCE, message_ids)

    def _call(self, operation, *arguments):
        if self.down:
            raise HubUnreachable("connection refused")
        try:
            return operation(*arguments)
        except GatewayError as error:
            raise HubFault(error.code, error.message) from error


def make_hub(clock, **settings):
    db = FakeDatabase()
    hub = Hub(lambda: FakeUnitOfWork(db), Settings(**settings), clock=clock)
    return hub, Directory(lambda: FakeUnitOfWork(db), None), db


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def national(clock):
    hub, directory, _ = make_hub(clock)
    for code in (G12, H31, PROVINCE):
        directory.add(code, f"Cơ quan {code}", f"pw-{code}")
    for code in (A1, A2):
        directory.add(code, f"Sở {code}", "", via=PROVINCE)
    return hub


@pytest.fixture
def province(clock):
    hub, directory, db = make_hub(
        clock,
        parent_url="http://national.example/soap",
        parent_agency=PROVINCE,
        parent_password="pw",
        parent_give_up_seconds=3600,
    )
    for code in (A1, A2):
        directory.add(code, f"Sở {code}", f"pw-{code}")
    return hub


@pytest.fixture
def line(national):
    return NationalHubLine(national)


@pytest.fixture
def link(province, line, clock):
    return ParentLink(province, Settings(
        parent_url="http://national.example/soap", parent_agency=PROVINCE, parent_password="pw",
        parent_give_up_seconds=3600, parent_poll_seconds=1,
    ), connect=lambda: line, clock=clock)  # fmt: skip


def test_a_document_and_its_status_messages_cross_both_hubs(province, national, link):
    doc_id = "000.01.00.H40,2026/11/25,1/SO"
    sent = province.send(A1, document(sender=A1, recipients=(A2, G12), document_id=doc_id))
    assert {d.recipient: d.inbox for d in sent.deliveries} == {A2: A2, G12: PARENT_INBOX}
    assert [m.document_id for m in province.fetch(A2, 10)] == [doc_id]

    assert link.step() == 1
    [arrived] = national.fetch(G12, 10)
    assert arrived.sender == A1 and arrived.document_id == doc_id
    assert national.fetch(PROVINCE, 10) == []  # A2 is left to the province

    national.acknowledge(G12, [arrived.message_id])
    national.send(G12, status(G12, A1, doc_id, "03"))
    link.step()
    [reply] = province.fetch(A1, 10)
    assert (reply.kind.value, reply.sender) == ("status", G12)
    rows = {row.recipient: row for row in province.send_status(A1, doc_id).recipients}
    assert rows[G12].transport_state is DeliveryState.FORWARDED
    assert rows[G12].latest_status.status_code == "03"
    assert [e.event for e in rows[G12].entries] == ["received", "forwarded", "status"]


def test_a_national_document_reaches_two_province_agencies_once_each(province, national, link):
    doc_id = "000.00.00.G12,2026/11/25,7/BTTTT"
    data = document(recipients=(A1, A2, H31), document_id=doc_id)
    national.send(G12, data)
    assert link.step() == 2
    link.step()
    for agency in (A1, A2):
        [message] = province.fetch(agency, 10)
        assert message.content == data and message.sender == G12
    assert national.fetch(PROVINCE, 10) == []  # acknowledged there

    province.send(A2, status(A2, G12, doc_id, "06"))
    link.step()
    [reply] = national.fetch(G12, 10)
    assert reply.sender == A2
    rows = {row.recipient: row for row in national.send_status(G12, doc_id).recipients}
    assert rows[A2].latest_status.status_code == "06"


def test_the_parent_down_for_a_while_then_up(province, national, link, line, clock):
    province.send(A1, document(sender=A1, recipients=(G12,), document_id="D,1"))
    line.down = True
    assert link.step() == 1
    assert national.fetch(G12, 10) == []
    assert link.step() == 0  # postponed, not offered again at once
    clock.now += timedelta(minutes=10)
    line.down = False
    link.step()
    [message] = national.fetch(G12, 10)
    assert message.document_id == "D,1"
    national.acknowledge(G12, [message.message_id])
    clock.now += timedelta(minutes=10)
    link.step()
    assert national.fetch(G12, 10) == []  # delivered once


def test_a_parent_away_too_long_marks_the_document_failed(province, link, line, clock):
    province.send(A1, document(sender=A1, recipients=(G12,), document_id="D,2"))
    line.down = True
    clock.now += timedelta(hours=2)
    link.step()
    [row] = province.send_status(A1, "D,2").recipients
    assert row.transport_state is DeliveryState.FAILED
    assert row.entries[-1].event == "failed"
    assert "could not take it" in row.entries[-1].description


def test_a_refusal_by_the_parent_fails_the_forward_at_once(province, link):
    province.send(A1, document(sender=A1, recipients=(OUTSIDER,), document_id="D,3"))
    link.step()
    [row] = province.send_status(A1, "D,3").recipients
    assert row.transport_state is DeliveryState.FAILED
    assert "Client.UnknownRecipient" in row.entries[-1].description


def test_a_recipient_the_parent_does_not_serve_fails_alone(province, national, link):
    doc_id = "000.01.00.H40,2026/11/25,4/SO"
    province.send(A1, document(sender=A1, recipients=(G12, OUTSIDER), document_id=doc_id))
    link.step()
    [arrived] = national.fetch(G12, 10)
    assert arrived.document_id == doc_id
    rows = {row.recipient: row for row in province.send_status(A1, doc_id).recipients}
    assert rows[G12].transport_state is DeliveryState.FORWARDED
    assert rows[OUTSIDER].transport_state is DeliveryState.FAILED
    assert rows[OUTSIDER].entries[-1].description.endswith("the parent hub does not serve it")


def test_a_relayed_message_for_no_recipient_the_parent_serves_is_refused(national):
    relayed = document(sender=A1, recipients=(OUTSIDER, A2))  # A2 is left to the province
    with pytest.raises(UnknownRecipient) as refused:
        national.send(PROVINCE, relayed)
    assert refused.value.message == f"Not registered, active agencies: {OUTSIDER}."


def test_an_agency_is_refused_a_message_with_one_unknown_recipient(national):
    with pytest.raises(UnknownRecipient):
        national.send(G12, document(recipients=(H31, OUTSIDER)))
    assert national.fetch(H31, 10) == []


def test_a_child_hub_may_not_speak_for_an_agency_it_does_not_represent(national):
    with pytest.raises(SenderMismatch):
        national.send(PROVINCE, document(sender=H31, recipients=(G12,)))


def test_the_parent_may_not_deliver_as_an_agency_of_this_hub(province):
    with pytest.raises(SenderMismatch):
        province.receive_from_parent(document(sender=A2, recipients=(A1,)), A1)


def test_a_message_from_the_parent_goes_only_to_the_named_recipient(province):
    with pytest.raises(UnknownRecipient):
        province.receive_from_parent(document(recipients=(A1,)), A2)


def test_without_a_parent_unknown_recipients_are_refused(national):
    with pytest.raises(UnknownRecipient):
        national.send(G12, document(recipients=(OUTSIDER,)))


def test_an_agency_via_a_child_hub_needs_that_hub_registered(clock):
    _, directory, _ = make_hub(clock)
    with pytest.raises(DirectoryError):
        directory.add(A1, "Sở", "", via=PROVINCE)


@pytest.fixture
def inbox(clock):
    hub, directory, _ = make_hub(clock, inbox=H31)
    for code in (G12, H31, H49):
        directory.add(code, f"Cơ quan {code}", f"pw-{code}")
    return hub


def test_an_inbox_keeps_only_its_owners_copy(inbox):
    result = inbox.send(G12, document(recipients=(H31, H49)))
    assert [d.recipient for d in result.deliveries] == [H31]
    assert len(inbox.fetch(H31, 10)) == 1


def test_an_inbox_refuses_what_is_not_addressed_to_its_owner(inbox):
    with pytest.raises(UnknownRecipient, match="inbox of 000.00.00.H31"):
        inbox.send(G12, document(recipients=(H49,)))


def test_an_inbox_takes_status_messages_about_its_owners_documents(inbox):
    inbox.send(G12, status(G12, H31, "000.00.00.H31,2026/11/25,9/UBND"))
    [message] = inbox.fetch(H31, 10)
    assert message.kind.value == "status"
