"""The connector's outbox and direct sending, against stand-in inboxes."""

from itertools import pairwise
from types import SimpleNamespace

import pytest

from client.connector import AgencyEntry
from client.direct import FIRST_RETRY_SECONDS, DirectSender, FileDirectory, HubDirectory
from client.errors import ConnectorError, HubFault, HubUnreachable
from client.outbox import DELIVERED, FAILED, WAITING, Outbox
from tests.builders import G12, H31, H49, document

H31_INBOX, H49_INBOX = "http://h31.example/soap", "http://h49.example/soap"


class Inbox:
    """An agency's inbox as a connector sees it: up, down, or refusing."""

    def __init__(self, owner: str):
        self.owner = owner
        self.down = False
        self.refusal: HubFault | None = None
        self.received: list[bytes] = []

    def send(self, content: bytes):
        if self.down:
            raise HubUnreachable("connection refused")
        if self.refusal:
            raise self.refusal
        if content not in self.received:
            self.received.append(content)
        delivery = SimpleNamespace(recipient=self.owner, message_id=f"m-{len(self.received)}")
        return SimpleNamespace(deliveries=(delivery,))


class Clock:
    now = 1_000_000.0

    def __call__(self):
        return self.now


@pytest.fixture
def inboxes():
    return {H31_INBOX: Inbox(H31), H49_INBOX: Inbox(H49)}


@pytest.fixture
def directory(tmp_path):
    path = tmp_path / "inboxes.json"
    path.write_text(f'{{"{H31}": "{H31_INBOX}", "{H49}": "{H49_INBOX}"}}')
    return FileDirectory(path)


@pytest.fixture
def clock():
    return Clock()


def sender_for(tmp_path, directory, inboxes, clock) -> DirectSender:
    outbox = Outbox(tmp_path / "data" / "outbox.sqlite3")
    return DirectSender(
        G12, "pw", outbox, directory, clock=clock, connect=lambda url, _password: inboxes[url]
    )


def test_each_recipient_gets_the_document_from_its_own_inbox(tmp_path, directory, inboxes, clock):
    sender = sender_for(tmp_path, directory, inboxes, clock)
    data = document(recipients=(H31, H49))
    outcomes = sender.send(data)
    assert [(o.recipient, o.state) for o in outcomes] == [(H31, DELIVERED), (H49, DELIVERED)]
    assert inboxes[H31_INBOX].received == [data] == inboxes[H49_INBOX].received
    assert sender.pending() == []


def test_an_unreachable_inbox_waits_in_the_outbox_across_a_restart(
    tmp_path, directory, inboxes, clock
):
    inboxes[H49_INBOX].down = True
    outcomes = sender_for(tmp_path, directory, inboxes, clock).send(document())
    assert [o.state for o in outcomes] == [DELIVERED, WAITING]
    assert "unreachable" in outcomes[1].detail

    restarted = sender_for(tmp_path, directory, inboxes, clock)
    [entry] = restarted.pending()
    assert (entry.recipient, entry.attempts) == (H49, 1)
    assert restarted.flush(everything=False) == []  # not due yet
    inboxes[H49_INBOX].down = False
    [outcome] = restarted.flush()
    assert (outcome.recipient, outcome.state) == (H49, DELIVERED)
    assert len(inboxes[H49_INBOX].received) == 1


def test_retries_back_off(tmp_path, directory, inboxes, clock):
    inboxes[H31_INBOX].down = True
    sender = sender_for(tmp_path, directory, inboxes, clock)
    sender.send(document(recipients=(H31,)))
    waits = []
    for _ in range(4):
        [entry] = sender.pending()
        waits.append(entry.next_attempt_at - clock.now)
        clock.now = entry.next_attempt_at
        sender.flush(everything=False)
    assert waits[0] <= FIRST_RETRY_SECONDS < waits[-1]
    assert all(a < b for a, b in pairwise(waits))


def test_a_refusal_fails_the_entry_for_good(tmp_path, directory, inboxes, clock):
    inboxes[H31_INBOX].refusal = HubFault("Client.Authentication", "unknown agency")
    sender = sender_for(tmp_path, directory, inboxes, clock)
    [outcome] = sender.send(document(recipients=(H31,)))
    assert outcome.state == FAILED and "Client.Authentication" in outcome.detail
    inboxes[H31_INBOX].refusal = None
    assert sender.flush() == []
    assert [e.state for e in sender.pending()] == [FAILED]


def test_sending_the_same_document_again_delivers_it_once(tmp_path, directory, inboxes, clock):
    sender = sender_for(tmp_path, directory, inboxes, clock)
    data = document(recipients=(H31,))
    sender.send(data)
    [again] = sender.send(data)
    assert again.state == DELIVERED
    assert inboxes[H31_INBOX].received == [data]


def test_a_recipient_without_a_known_inbox_waits(tmp_path, inboxes, clock):
    agencies = [AgencyEntry(H31, "Hưng Yên", "", True, H31_INBOX)]
    sender = sender_for(tmp_path, HubDirectory(lambda: agencies), inboxes, clock)
    outcomes = sender.send(document(recipients=(H31, H49)))
    assert [o.state for o in outcomes] == [DELIVERED, WAITING]
    assert "no inbox address" in outcomes[1].detail


def test_only_this_agencys_documents_are_sent(tmp_path, directory, inboxes, clock):
    with pytest.raises(ConnectorError, match="not from"):
        sender_for(tmp_path, directory, inboxes, clock).send(document(sender=H31))


@pytest.mark.parametrize(
    "entry",
    ['"ftp://x"', '{"password_env": "X"}', '{"url": "http://x", "password": "in clear"}',
     '{"url": "http://x", "password_env": 7}', "[]"],
)  # fmt: skip
def test_a_directory_file_must_map_codes_to_inboxes(tmp_path, entry):
    path = tmp_path / "bad.json"
    path.write_text(f'{{"{H31}": {entry}}}')
    with pytest.raises(ConnectorError, match=H31):
        FileDirectory(path, environ={"X": "secret"})


def test_each_inbox_is_signed_in_to_with_the_password_it_issued(tmp_path, inboxes, clock):
    path = tmp_path / "inboxes.json"
    path.write_text(
        f'{{"{H31}": "{H31_INBOX}", "{H49}": {{"url": "{H49_INBOX}", "password_env": "H49_PW"}}}}'
    )
    directory = FileDirectory(path, environ={"H49_PW": "issued-by-h49"})
    signed_in = []

    def connect(url, password):
        signed_in.append((url, password))
        return inboxes[url]

    outbox = Outbox(tmp_path / "data" / "outbox.sqlite3")
    sender = DirectSender(G12, "pw", outbox, directory, clock=clock, connect=connect)
    sender.send(document(recipients=(H31, H49)))
    sender.send(document(recipients=(H31, H49), document_id="G12,second"))
    assert signed_in == [(H31_INBOX, "pw"), (H49_INBOX, "issued-by-h49")]


def test_an_inbox_password_that_is_not_set_stops_the_sender_early(tmp_path):
    path = tmp_path / "inboxes.json"
    path.write_text(f'{{"{H49}": {{"url": "{H49_INBOX}", "password_env": "H49_PW"}}}}')
    with pytest.raises(ConnectorError, match=r"\$H49_PW, which is not set"):
        FileDirectory(path, environ={})


def test_an_unreadable_hub_directory_leaves_the_document_waiting(tmp_path, inboxes, clock):
    def hub_away():
        raise HubUnreachable("cannot read the hub's WSDL")

    sender = sender_for(tmp_path, HubDirectory(hub_away), inboxes, clock)
    [outcome] = sender.send(document(recipients=(H31,)))
    assert outcome.state == WAITING and "directory cannot be read" in outcome.detail
