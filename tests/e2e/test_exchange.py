"""End to end: the real gateway on a loopback port, called through the zeep connector."""

import base64
import os
import time
import uuid

import pytest
import requests
from lxml import etree

from client.connector import Connector
from client.errors import HubFault
from gateway import ns
from tests.builders import G12, H31, H49, document, sample
from tests.wsgi import envelope


def connect(hub, agency, **kwargs) -> Connector:
    return Connector(hub.url, agency, hub.passwords[agency], **kwargs)


def drain(connector: Connector) -> None:
    connector.receive(lambda message: None, max_count=100)


def unique_id() -> str:
    return f"000.00.00.G12,2024/05/01,{uuid.uuid4().hex[:8]}/BTTTT"


def test_a_document_reaches_every_recipient_byte_exact(hub):
    sender, first, second = connect(hub, G12), connect(hub, H31), connect(hub, H49)
    drain(first), drain(second)
    data = sample("document-512.edxml")
    receipt = sender.send(data)
    assert receipt.document_id == "000.00.00.G12,2013/02/20,512/BTTTT-ƯDCNTT"
    assert {d.recipient for d in receipt.deliveries} == {H31, H49}
    for connector in (first, second):
        [message] = connector.fetch()
        assert message.content == data
        assert (message.sender, message.kind) == (G12, "document")
        assert message.document_id == receipt.document_id
        assert connector.ack([message.message_id]).acknowledged == 1
        assert connector.fetch() == []


def test_sending_again_is_idempotent_and_other_bytes_are_a_duplicate(hub):
    sender = connect(hub, G12)
    document_id = unique_id()
    data = document(document_id=document_id)
    first = sender.send(data)
    assert sender.send(data).deliveries == first.deliveries
    with pytest.raises(HubFault) as caught:
        sender.send(document(document_id=document_id, subject="Khác"))
    assert caught.value.code == "Client.Duplicate"


def test_an_agency_can_neither_see_nor_ack_another_agencys_messages(hub):
    sender, first, second = connect(hub, G12), connect(hub, H31), connect(hub, H49)
    drain(first), drain(second)
    receipt = sender.send(document(document_id=unique_id(), recipients=(H49,)))
    [delivery] = receipt.deliveries
    assert first.fetch() == []
    outcome = first.ack([delivery.message_id, "00000000-0000-0000-0000-000000000000"])
    assert outcome.acknowledged == 0
    assert set(outcome.unknown) == {delivery.message_id, "00000000-0000-0000-0000-000000000000"}
    assert [m.message_id for m in second.fetch()] == [delivery.message_id]


def test_several_messages_are_fetched_and_acknowledged_together(hub):
    sender, recipient = connect(hub, G12), connect(hub, H31)
    drain(recipient)
    ids = [sender.send(document(document_id=unique_id(), recipients=(H31,))) for _ in range(3)]
    messages = recipient.fetch(max_count=10)
    assert [m.document_id for m in messages] == [r.document_id for r in ids]
    outcome = recipient.ack([m.message_id for m in messages])
    assert (outcome.acknowledged, outcome.unknown) == (3, ())


def test_an_empty_inbox_is_an_empty_list(hub):
    recipient = connect(hub, H49)
    drain(recipient)
    assert recipient.fetch() == []


def test_a_message_not_acknowledged_is_offered_again_after_its_lease(short_lease_hub):
    sender, recipient = connect(short_lease_hub, G12), connect(short_lease_hub, H31)
    sender.send(document(document_id=unique_id(), recipients=(H31,)))
    [leased] = recipient.fetch()
    assert recipient.fetch() == []
    time.sleep(2.5)
    [again] = recipient.fetch()
    assert again.message_id == leased.message_id
    recipient.ack([again.message_id])
    time.sleep(2.5)
    assert recipient.fetch() == []


def test_receive_acknowledges_only_what_the_handler_accepted(hub):
    sender, recipient = connect(hub, G12), connect(hub, H31)
    drain(recipient)
    good = sender.send(document(document_id=unique_id(), recipients=(H31,))).document_id
    bad = sender.send(document(document_id=unique_id(), recipients=(H31,))).document_id
    handled = []

    def handler(message):
        if message.document_id == bad:
            raise OSError("disk full")
        handled.append(message.document_id)

    assert recipient.receive(handler) == 1
    assert handled == [good]
    assert recipient.fetch() == []  # the failed one is still leased, not acknowledged


def test_real_messages_from_integrators_are_exchanged(hub):
    vpcp, nghe_an = connect(hub, "000.00.00.G22"), connect(hub, "000.00.00.H41")
    drain(vpcp), drain(nghe_an)
    data = sample("dc0bdef0-c7a3-4aaf-b717-777303442973.edxml")
    receipt = vpcp.send(data)
    assert {d.recipient for d in receipt.deliveries} == {
        "000.00.00.H41",
        "000.00.00.H14",
        "000.00.00.G17",
    }
    [message] = nghe_an.fetch()
    assert message.content == data
    nghe_an.ack([message.message_id])
    nghe_an.send(sample("status_acceptance_03.edxml"))
    [reply] = vpcp.fetch()
    assert (reply.kind, reply.sender) == ("status", "000.00.00.H41")
    assert (
        connect(hub, "000.00.00.A80").send(sample("edoc_new.edxml")).deliveries[0].recipient
        == "28.22.H17"
    )


def test_password_digest_works_for_an_agency_allowed_it(hub):
    from tests.hubprocess import DIGEST_AGENCY

    connector = connect(hub, DIGEST_AGENCY, use_digest=True)
    assert connector.fetch() is not None
    with pytest.raises(HubFault) as caught:
        connect(hub, H31, use_digest=True).fetch()
    assert caught.value.code == "Client.Authentication"


def test_a_large_document_round_trips(hub):
    sender, recipient = connect(hub, G12), connect(hub, H31)
    drain(recipient)
    attachment = bytes(range(256)) * (12 * 4096)  # 12 MiB: a text node over 10 MB once encoded
    data = document(document_id=unique_id(), recipients=(H31,), attachment=attachment)
    sender.send(data)
    [message] = recipient.fetch()
    assert message.content == data
    recipient.ack([message.message_id])


def test_a_client_built_from_the_wsdl_folder_alone_works(hub):
    from pathlib import Path

    wsdl = str(Path(__file__).parents[2] / "wsdl" / "lienthong.wsdl")
    recipient = connect(hub, H49, wsdl=wsdl)
    drain(recipient)
    connect(hub, G12, wsdl=wsdl).send(document(document_id=unique_id(), recipients=(H49,)))
    assert len(recipient.fetch()) == 1


def test_a_connector_that_compresses_its_requests_is_understood(hub):
    """The connector gzips its large requests; the hub reads them as sent as they are."""
    sender, recipient = connect(hub, G12, compress=True), connect(hub, H31)
    drain(recipient)
    data = document(document_id=unique_id(), recipients=(H31,),
                    subject="Báo cáo tổng hợp", attachment=os.urandom(300_000))  # fmt: skip
    receipt = sender.send(data)
    [message] = recipient.fetch()
    assert message.content == data and message.document_id == receipt.document_id
    assert recipient.ack([message.message_id]).acknowledged == 1


def test_large_answers_travel_gzipped_to_clients_that_ask(hub):
    """requests (and so zeep and the connector) asks for gzip: the hub compresses a large
    answer as it writes it, and the client reads the same bytes."""
    sender, recipient = connect(hub, G12), connect(hub, H31)
    drain(recipient)
    data = document(document_id=unique_id(), recipients=(H31,), attachment=os.urandom(300_000))
    sender.send(data)
    fetch = envelope("<lt:GetDocuments/>", H31, hub.passwords[H31])
    answer = requests.post(hub.url, data=fetch, timeout=30,
                           headers={"Content-Type": "text/xml; charset=utf-8"})  # fmt: skip
    assert answer.headers["Content-Encoding"] == "gzip"
    received = etree.fromstring(answer.content)
    [encoded] = received.iterfind(f".//{{{ns.GATEWAY}}}Document")
    assert base64.b64decode(encoded.text) == data
    [message_id] = received.iterfind(f".//{{{ns.GATEWAY}}}MessageId")
    assert recipient.ack([message_id.text]).acknowledged == 1
