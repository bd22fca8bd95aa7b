"""The hub's use cases on the in-memory store."""

from datetime import UTC, datetime, timedelta

import pytest

from gateway.errors import (
    AuthenticationFailed,
    Duplicate,
    InvalidDocument,
    InvalidRequest,
    SenderMismatch,
    TooLarge,
    UnknownDocument,
    UnknownRecipient,
)
from gateway.hub import sending, signing
from gateway.hub.directory import Directory, DirectoryError
from gateway.hub.hub import Hub
from gateway.hub.model import DeliveryState
from gateway.security.keys import self_signed
from gateway.security.secretbox import SecretBox
from gateway.security.signatures import sign_edxml
from gateway.security.wsse import UsernameToken, password_digest
from gateway.settings import Settings
from tests.builders import G12, H31, H49, document, status
from tests.fakes import FakeDatabase, FakeUnitOfWork

PASSWORDS = {G12: "pw-g12", H31: "pw-h31", H49: "pw-h49"}


class Clock:
    def __init__(self):
        self.now = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)

    def __call__(self):
        return self.now

    def advance(self, seconds: float):
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def db():
    return FakeDatabase()


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def secret_box():
    return SecretBox(SecretBox.generate_key())


@pytest.fixture
def hub(db, clock, secret_box):
    settings = Settings(lease_seconds=300, max_recipients=5)
    directory = Directory(lambda: FakeUnitOfWork(db), secret_box)
    for code, password in PASSWORDS.items():
        directory.add(code, f"Cơ quan {code}", password, allow_digest=(code == H49))
    return Hub(lambda: FakeUnitOfWork(db), settings, clock=clock, secret_box=secret_box)


def test_a_document_is_stored_once_with_a_delivery_per_recipient(hub, db):
    result = hub.send(G12, document())
    assert [d.recipient for d in result.deliveries] == [H31, H49]
    assert all(d.state is DeliveryState.PENDING for d in result.deliveries)
    assert len(db.documents) == 1 and len(db.rows) == 2


def test_each_recipient_fetches_the_exact_bytes(hub):
    data = document()
    hub.send(G12, data)
    for recipient in (H31, H49):
        [message] = hub.fetch(recipient, 10)
        assert message.content == data
        assert message.sender == G12


def test_fetch_returns_the_oldest_first_and_respects_max_count(hub):
    for n in range(3):
        hub.send(G12, document(document_id=f"G12,{n}"))
    assert [m.document_id for m in hub.fetch(H31, 2)] == ["G12,0", "G12,1"]
    assert [m.document_id for m in hub.fetch(H31, 2)] == ["G12,2"]
    assert hub.fetch(H31, 2) == []


def test_a_leased_message_is_offered_again_when_its_lease_ends(hub, clock):
    hub.send(G12, document())
    [first] = hub.fetch(H31, 10)
    clock.advance(299)
    assert hub.fetch(H31, 10) == []
    clock.advance(2)
    [again] = hub.fetch(H31, 10)
    assert again.message_id == first.message_id


def test_an_acknowledged_message_is_never_offered_again(hub, clock):
    hub.send(G12, document())
    [message] = hub.fetch(H31, 10)
    assert hub.acknowledge(H31, [message.message_id]).acknowledged == 1
    clock.advance(3600)
    assert hub.fetch(H31, 10) == []


def test_ack_is_idempotent_and_hides_other_agencies_messages(hub):
    result = hub.send(G12, document())
    mine, theirs = (d.message_id for d in result.deliveries)
    first = hub.acknowledge(H31, [mine, theirs, "no-such-id"])
    assert first.acknowledged == 1
    assert first.unknown == (theirs, "no-such-id")
    assert hub.acknowledge(H31, [mine]).acknowledged == 1
    assert len(hub.fetch(H49, 10)) == 1


def test_sending_the_same_bytes_again_returns_the_first_result(hub, db):
    data = document()
    first = hub.send(G12, data)
    assert hub.send(G12, data) == first
    assert len(db.documents) == 1


def test_the_same_document_id_with_other_bytes_is_a_duplicate(hub, db):
    hub.send(G12, document())
    with pytest.raises(Duplicate):
        hub.send(G12, document(subject="Another subject"))
    assert len(db.documents) == 1


def test_a_duplicate_is_found_by_the_insert_and_refused_with_evidence(hub, db, monkeypatch):
    """A first send looks nothing up: the insert finds a stored key, and the refusal (or
    the first answer) comes from a second transaction."""
    first = hub.send(G12, document())
    lookups = []
    real = sending.previous_result
    monkeypatch.setattr(sending, "previous_result", lambda *a: lookups.append(a) or real(*a))
    hub.send(G12, document(document_id="G12,new"))
    assert lookups == []
    assert hub.send(G12, document()) == first
    with pytest.raises(Duplicate):
        hub.send(G12, document(subject="Another subject"))
    assert len(lookups) == 2 and len(db.documents) == 2
    assert db.events[-1][0] == "refused" and "Duplicate" in db.events[-1][5]


def test_a_revoke_may_repeat_the_originals_document_id(hub, db):
    from gateway.envelope import BusinessType

    hub.send(G12, document())
    hub.send(G12, document(business_type=BusinessType.REVOKE))
    assert len(db.documents) == 2


def test_the_sender_must_be_the_authenticated_agency(hub, db):
    with pytest.raises(SenderMismatch):
        hub.send(H31, document())
    assert db.documents == []


def test_every_recipient_must_be_registered_and_active(hub, db):
    with pytest.raises(UnknownRecipient, match="000.00.00.H99"):
        hub.send(G12, document(recipients=(H31, "000.00.00.H99")))
    Directory(lambda: FakeUnitOfWork(db), None).set_active(H49, False)
    with pytest.raises(UnknownRecipient, match=H49):
        hub.send(G12, document())
    assert db.documents == [] and db.rows == []


def test_too_many_recipients_are_refused(hub):
    with pytest.raises(InvalidDocument, match="at most 5"):
        hub.send(G12, document(recipients=tuple(f"000.00.00.H{n:02}" for n in range(6))))


def test_an_oversized_document_is_refused_before_parsing(db, clock):
    hub = Hub(lambda: FakeUnitOfWork(db), Settings(max_document_bytes=100), clock=clock)
    with pytest.raises(TooLarge):
        hub.send(G12, document())


@pytest.mark.parametrize("count", [0, -1, 101, 10**12])
def test_max_count_outside_1_to_100_is_refused(hub, count):
    with pytest.raises(InvalidRequest):
        hub.fetch(H31, count)


def test_max_count_defaults_to_ten(hub):
    for n in range(12):
        hub.send(G12, document(document_id=f"G12,{n}"))
    assert len(hub.fetch(H31, None)) == 10


def test_a_status_message_goes_back_to_the_original_sender(hub):
    hub.send(G12, document(document_id="G12,1"))
    hub.send(H31, status(H31, G12, "G12,1"))
    [message] = hub.fetch(G12, 10)
    assert (message.kind.value, message.sender, message.document_id) == ("status", H31, "G12,1")


def test_a_status_for_a_document_never_received_is_refused(hub):
    hub.send(G12, document(document_id="G12,1", recipients=(H49,)))
    with pytest.raises(UnknownDocument):
        hub.send(H31, status(H31, G12, "G12,1"))


def test_a_take_back_status_goes_to_recipients_that_downloaded_the_document(hub):
    hub.send(G12, document(document_id="G12,1"))
    assert [m.kind.value for m in hub.fetch(H31, 10)] == ["document"]
    hub.send(G12, status(G12, G12, "G12,1", code="13"))
    assert [m.kind.value for m in hub.fetch(H31, 10)] == ["status"]
    assert hub.fetch(H49, 10) == []  # never downloaded: withdrawn, and no take-back either


def test_every_change_is_an_event(hub, db):
    result = hub.send(G12, document())
    hub.fetch(H31, 10)
    hub.acknowledge(H31, [result.deliveries[0].message_id])
    assert [e[0] for e in db.events] == ["received", "received", "leased", "acknowledged"]


# --- authentication ---------------------------------------------------------


def token(username=H31, password="pw-h31", **kwargs):
    return UsernameToken(username=username, password=password, digest=False, **kwargs)


def test_a_right_password_authenticates(hub):
    assert hub.authenticate(token()) == H31


@pytest.mark.parametrize(
    "bad", [token(password="wrong"), token(username="000.00.00.X99"), token(password="")]
)
def test_wrong_credentials_fail_without_a_hint(hub, bad):
    with pytest.raises(AuthenticationFailed) as caught:
        hub.authenticate(bad)
    assert caught.value.message == "Authentication failed."


def test_a_disabled_agency_cannot_authenticate(hub, db):
    Directory(lambda: FakeUnitOfWork(db), None).set_active(H31, False)
    with pytest.raises(AuthenticationFailed):
        hub.authenticate(token())


def test_a_created_time_outside_the_skew_fails(hub, clock):
    with pytest.raises(AuthenticationFailed):
        hub.authenticate(token(created=clock.now - timedelta(minutes=6), nonce=b"n1"))
    assert hub.authenticate(token(created=clock.now - timedelta(minutes=4), nonce=b"n2")) == H31


def test_a_reused_nonce_fails(hub, clock):
    hub.authenticate(token(created=clock.now, nonce=b"once"))
    with pytest.raises(AuthenticationFailed):
        hub.authenticate(token(created=clock.now, nonce=b"once"))


def test_password_digest_works_only_where_allowed(hub, clock):
    created = clock.now.isoformat()
    digest = password_digest(b"nonce-1", created, "pw-h49")
    ok = UsernameToken(H49, digest, True, b"nonce-1", clock.now, created)
    assert hub.authenticate(ok) == H49
    digest31 = password_digest(b"nonce-2", created, "pw-h31")
    with pytest.raises(AuthenticationFailed):
        hub.authenticate(UsernameToken(H31, digest31, True, b"nonce-2", clock.now, created))
    wrong = password_digest(b"nonce-3", created, "not-it")
    with pytest.raises(AuthenticationFailed):
        hub.authenticate(UsernameToken(H49, wrong, True, b"nonce-3", clock.now, created))


@pytest.fixture
def strict_hub(hub, db, clock, secret_box):
    """The hub above (its agencies registered), locking after 3 wrong passwords."""
    settings = Settings(max_failed_sign_ins=3, sign_in_lockout_seconds=600)
    return Hub(lambda: FakeUnitOfWork(db), settings, clock=clock, secret_box=secret_box)


def test_wrong_passwords_in_a_row_lock_an_agency_for_a_while(strict_hub, db, clock):
    for _ in range(3):
        with pytest.raises(AuthenticationFailed):
            strict_hub.authenticate(token(password="guess"))
    assert db.agencies[H31].locked_until == clock.now + timedelta(seconds=600)
    with pytest.raises(AuthenticationFailed) as caught:
        strict_hub.authenticate(token())  # the right password too, and the same fault
    assert caught.value.message == "Authentication failed."
    assert strict_hub.authenticate(token(username=G12, password="pw-g12")) == G12  # only H31
    clock.advance(600)
    assert strict_hub.authenticate(token()) == H31


def test_a_locked_agency_costs_no_password_check(strict_hub, db, monkeypatch):
    for _ in range(3):
        with pytest.raises(AuthenticationFailed):
            strict_hub.authenticate(token(password="guess"))
    checked = []
    monkeypatch.setattr(
        "gateway.hub.authentication.verify_password", lambda *args: checked.append(args)
    )
    with pytest.raises(AuthenticationFailed):
        strict_hub.authenticate(token(password="another guess"))
    assert checked == []
    assert db.agencies[H31].failed_sign_ins == 0  # refusals while locked are not counted


def test_a_sign_in_starts_the_count_again(strict_hub, db):
    for _ in range(2):
        with pytest.raises(AuthenticationFailed):
            strict_hub.authenticate(token(password="typo"))
    assert strict_hub.authenticate(token()) == H31
    assert db.agencies[H31].failed_sign_ins == 0
    for _ in range(2):
        with pytest.raises(AuthenticationFailed):
            strict_hub.authenticate(token(password="typo"))
    assert strict_hub.authenticate(token()) == H31


def test_other_failures_are_not_counted(strict_hub, db, clock):
    for n in range(5):
        with pytest.raises(AuthenticationFailed):
            strict_hub.authenticate(token(created=clock.now - timedelta(hours=1), nonce=b"%d" % n))
    strict_hub.authenticate(token(created=clock.now, nonce=b"once"))
    for _ in range(5):
        with pytest.raises(AuthenticationFailed):
            strict_hub.authenticate(token(created=clock.now, nonce=b"once"))
    assert db.agencies[H31].failed_sign_ins == 0 and db.agencies[H31].locked_until is None


def test_wrong_digests_count_too(strict_hub, db, clock):
    created = clock.now.isoformat()
    for n in range(3):
        nonce = b"nonce-%d" % n
        wrong = password_digest(nonce, created, "not-it")
        with pytest.raises(AuthenticationFailed):
            strict_hub.authenticate(UsernameToken(H49, wrong, True, nonce, clock.now, created))
    right = password_digest(b"nonce-9", created, "pw-h49")
    with pytest.raises(AuthenticationFailed):
        strict_hub.authenticate(UsernameToken(H49, right, True, b"nonce-9", clock.now, created))


def test_the_operator_lifts_a_lock(strict_hub, db, secret_box):
    directory = Directory(lambda: FakeUnitOfWork(db), secret_box)
    for code in (H31, G12):
        for _ in range(3):
            with pytest.raises(AuthenticationFailed):
                strict_hub.authenticate(token(username=code, password="guess"))
    directory.unlock(H31)
    assert strict_hub.authenticate(token()) == H31
    directory.set_password(G12, "new-g12")
    assert strict_hub.authenticate(token(username=G12, password="new-g12")) == G12
    with pytest.raises(DirectoryError, match="No agency"):
        directory.unlock("000.00.00.X99")


def test_the_lock_can_be_turned_off(hub, db, clock, secret_box):
    lenient = Hub(lambda: FakeUnitOfWork(db), Settings(max_failed_sign_ins=0), clock=clock,
                  secret_box=secret_box)  # fmt: skip
    for _ in range(20):
        with pytest.raises(AuthenticationFailed):
            lenient.authenticate(token(password="guess"))
    assert lenient.authenticate(token()) == H31


def test_directory_refuses_bad_codes_and_repeats(db):
    directory = Directory(lambda: FakeUnitOfWork(db), None)
    with pytest.raises(DirectoryError):
        directory.add("abc", "x", "pw")
    directory.add("28.22.H17", "Sở", "pw")
    with pytest.raises(DirectoryError, match="already"):
        directory.add("28.22.H17", "Sở", "pw")
    with pytest.raises(DirectoryError, match="hub key"):
        directory.add("28.22.H18", "Sở", "pw", allow_digest=True)


def test_a_document_can_be_leased_without_its_bytes_and_read_in_pieces(hub):
    data = document()
    hub.send(G12, data)
    [message] = hub.fetch(H31, 10, content_up_to=len(data) - 1)
    assert message.content == b"" and message.size == len(data)
    assert b"".join(hub.read_document(message)) == data


def test_a_small_document_comes_with_its_lease(hub):
    data = document()
    hub.send(G12, data)
    [message] = hub.fetch(H31, 10, content_up_to=len(data))
    assert message.content == data
    assert list(hub.read_document(message)) == [data]


def test_a_signature_is_verified_ahead_only_for_a_caller_vouched_for(hub, db, clock, monkeypatch):
    """A stranger's signed document costs no verification: it is refused at sign-in."""
    key, cert = self_signed("G12")
    clock.now = datetime.now(UTC)  # within the certificate's validity
    Directory(lambda: FakeUnitOfWork(db), None).set_certificate(G12, cert.decode())
    verified = []
    real = signing.verify_edxml
    monkeypatch.setattr(
        signing, "verify_edxml", lambda c, *a, **k: verified.append(c) or real(c, *a, **k)
    )
    first, second, third = (
        sign_edxml(document(document_id=f"G12,s{n}"), key, cert) for n in range(3)
    )
    hub.send(token(G12, PASSWORDS[G12]), first)  # verified in its transaction
    with pytest.raises(AuthenticationFailed):
        hub.send(token(G12, "not the password"), second)
    hub.send(token(G12, PASSWORDS[G12]), third)  # verified ahead, not again
    assert verified == [first, third]


def test_the_directory_is_listed_by_code_in_batches_and_pages(db, monkeypatch):
    monkeypatch.setattr("gateway.hub.directory.LISTING_BATCH", 3)
    reads = []

    def reading():
        reads.append(1)
        return FakeUnitOfWork(db)

    agencies = Directory(lambda: FakeUnitOfWork(db), None, reading=reading)
    agencies.import_names([(f"000.00.{n:02d}.G07", f"Sở {n}") for n in range(10, 0, -1)])
    every = [entry.code for entry in agencies.entries()]
    assert every == sorted(every) and len(every) == 10
    assert len(reads) == 4  # 3 + 3 + 3 + 1
    assert [e.code for e in agencies.entries(after=every[4], count=4)] == every[5:9]
    assert [e.code for e in agencies.entries("000.00.00.G07", count=2)] == every[:2]
    assert list(agencies.entries("000.00.01.G07")) == []
    for count in (0, 10_001):
        with pytest.raises(InvalidRequest):
            agencies.entries(count=count)


def test_a_name_xml_cannot_carry_is_refused(db):
    agencies = Directory(lambda: FakeUnitOfWork(db), None)
    with pytest.raises(DirectoryError, match="control character"):
        agencies.add("000.00.00.G07", "Sở\x07", "pw")
    with pytest.raises(DirectoryError, match="line 3: the name of 000.00.01.G07"):
        agencies.import_names([("000.00.00.G07", "Sở"), ("000.00.01.G07", "Phòng\x0b1")])
    agencies.import_names([("000.00.00.G07", "Sở\tNội vụ\r\n")])  # white space is text
    assert [entry.name for entry in agencies.entries()] == ["Sở\tNội vụ"]


# --- the networks an agency signs in from -----------------------------------


def test_an_agency_with_networks_signs_in_only_from_them(hub, db):
    Directory(lambda: FakeUnitOfWork(db), None).set_networks(H31, ["10.1.2.0/24", "2001:db8::/32"])
    assert hub.authenticate(token(address="10.1.2.77")) == H31
    assert hub.authenticate(token(address="2001:db8::5")) == H31
    assert hub.authenticate(token(address="::ffff:10.1.2.9")) == H31  # IPv4 seen through IPv6
    for elsewhere in ("10.1.3.1", "127.0.0.1", "", None, "not-an-address"):
        with pytest.raises(AuthenticationFailed) as caught:
            hub.authenticate(token(address=elsewhere))
        assert caught.value.message == "Authentication failed."
    assert hub.authenticate(token(username=G12, password="pw-g12", address="127.0.0.1")) == G12


def test_outside_its_networks_nothing_is_checked_or_counted(strict_hub, db, monkeypatch):
    """A stranger elsewhere can neither guess the password nor lock the agency out."""
    Directory(lambda: FakeUnitOfWork(db), None).set_networks(H31, ["192.0.2.10"])
    checked = []
    monkeypatch.setattr(
        "gateway.hub.authentication.verify_password", lambda *args: checked.append(args)
    )
    for _ in range(5):
        with pytest.raises(AuthenticationFailed):
            strict_hub.authenticate(token(password="guess", address="198.51.100.1"))
    assert checked == []
    assert db.agencies[H31].failed_sign_ins == 0 and db.agencies[H31].locked_until is None


def test_networks_are_kept_in_their_shortest_form_and_can_be_lifted(hub, db):
    directory = Directory(lambda: FakeUnitOfWork(db), None)
    directory.set_networks(H31, ["10.1.2.3/24", "192.0.2.7", "2001:DB8:0::1/128"])
    assert db.agencies[H31].networks == "10.1.2.0/24 192.0.2.7/32 2001:db8::1/128"
    with pytest.raises(DirectoryError, match="'10.1.2.300' is not an IP address or network"):
        directory.set_networks(H31, ["10.1.2.300"])
    directory.set_networks(H31, [])
    assert db.agencies[H31].networks is None
    assert hub.authenticate(token(address="203.0.113.5")) == H31
