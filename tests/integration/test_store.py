"""The SQL store under the real hub, on SQLite and PostgreSQL."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import bindparam, func, insert, select
from sqlalchemy.exc import IntegrityError

from gateway.bootstrap import build_gateway
from gateway.envelope import BusinessType, MessageKind
from gateway.errors import AuthenticationFailed, Unavailable
from gateway.hub import hub as hub_module
from gateway.hub.hub import Hub
from gateway.hub.model import Delivery, DeliveryState, NewDocument
from gateway.hub.quotas import VIETNAM
from gateway.security.wsse import UsernameToken
from gateway.settings import Settings
from gateway.store.engine import make_engine
from gateway.store.migrate import alembic_config, upgrade
from gateway.store.tables import (
    CHUNK_BYTES,
    agencies,
    agency_usage,
    deliveries,
    document_chunks,
    documents,
    metadata,
)
from tests.builders import G12, H31, H49, document, sample, status
from tests.plans import sqlite_plans


class Clock:
    def __init__(self):
        self.now = datetime.now(UTC)

    def __call__(self):
        return self.now


@pytest.fixture
def gateway(database_url):
    gw = build_gateway(Settings(db_url=database_url))
    for code in (
        G12,
        H31,
        H49,
        "000.00.00.G22",
        "000.00.00.H41",
        "000.00.00.H14",
        "000.00.00.G17",
        "000.00.00.A80",
        "28.22.H17",
    ):
        gw.directory.add(code, f"Cơ quan {code}", f"pw-{code}")
    yield gw
    gw.engine.dispose()


def count(engine, table):
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar()


def test_migrations_create_exactly_the_declared_schema(gateway):
    upgrade(gateway.engine)  # a second run changes nothing
    with gateway.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, metadata) == []


def test_sqlite_keeps_rows_in_their_key_where_the_schema_says_so(sqlite_url):
    """(Alembic's comparison does not look at WITHOUT ROWID.)"""
    engine = make_engine(sqlite_url)
    upgrade(engine)
    with engine.connect() as conn:
        created = dict(
            conn.exec_driver_sql("SELECT name, sql FROM sqlite_master WHERE type = 'table'").all()
        )
    engine.dispose()
    declared = {
        name: not table.dialect_options["sqlite"]["with_rowid"]
        for name, table in metadata.tables.items()
    }
    assert {name: "WITHOUT ROWID" in created[name] for name in declared} == declared
    assert declared["nonces"]


def engine_at(database_url: str, revision: str):
    """An engine on a database migrated up to ``revision`` only."""
    engine = make_engine(database_url)
    config = alembic_config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, revision)
    return engine


def test_the_daily_counter_starts_from_the_documents_already_sent(database_url):
    engine = engine_at(database_url, "0008")
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(insert(documents), [
            dict(sender=G12, document_id=f"D{n}", idempotency_key=f"k{n}", kind="document",
                 business_type=0, sha256="0" * 64, size=size, subject="", received_at=at,
                 status_code="", signature="none", document_type="")
            for n, (size, at) in enumerate([(100, now), (50, now), (7, now - timedelta(days=5))])
        ])  # fmt: skip
    upgrade(engine)
    with engine.connect() as conn:
        rows = [tuple(row) for row in conn.execute(select(agency_usage))]
    assert rows == [(G12, now.astimezone(VIETNAM).date(), 2, 150)]
    engine.dispose()


def test_deliveries_made_before_their_time_was_kept_take_their_documents(database_url):
    engine = engine_at(database_url, "0013")
    received = [datetime(2026, 3, 1, 8, tzinfo=UTC), datetime(2026, 3, 9, 17, tzinfo=UTC)]
    with engine.begin() as conn:
        conn.execute(insert(documents), [
            dict(id=n + 1, sender=G12, document_id=f"D{n}", idempotency_key=f"k{n}",
                 kind="document", business_type=0, sha256="0" * 64, size=1, subject="",
                 received_at=at, status_code="", signature="none", document_type="")
            for n, at in enumerate(received)
        ])  # fmt: skip
        conn.execute(
            deliveries.insert().values(
                message_id=bindparam("m"),
                document_pk=bindparam("pk"),
                recipient=H31,
                inbox=H31,
                state="pending",
                visible_at=received[0],
                lease_count=0,
            ),
            [{"m": "m1", "pk": 1}, {"m": "m2", "pk": 2}, {"m": "m3", "pk": 2}],
        )  # the columns of 0013: no created_at
    upgrade(engine)
    with engine.connect() as conn:
        made = conn.execute(
            select(deliveries.c.message_id, deliveries.c.created_at).order_by(deliveries.c.id)
        ).all()
    assert made == [("m1", received[0]), ("m2", received[1]), ("m3", received[1])]
    engine.dispose()


def test_names_stored_before_control_characters_were_refused_become_listable(database_url):
    engine = engine_at(database_url, "0014")
    names = {G12: "Sở\x07Nội vụ\x0b", H31: "Bộ Tài chính", H49: "\x1f"}
    with engine.begin() as conn:
        conn.execute(insert(agencies), [
            dict(code=code, name=name, password_hash="", active=True, allow_digest=False,
                 created_at=datetime.now(UTC), signature_policy="optional")
            for code, name in names.items()
        ])  # fmt: skip
    upgrade(engine)
    engine.dispose()
    gw = build_gateway(Settings(db_url=database_url))
    listed = {entry.code: entry.name for entry in gw.directory.entries()}
    assert listed == {G12: "Sở Nội vụ", H31: "Bộ Tài chính", H49: H49}
    gw.engine.dispose()


def test_a_document_is_stored_once_for_all_its_recipients(gateway):
    data = document()
    gateway.hub.send(G12, data)
    assert count(gateway.engine, documents) == 1
    assert count(gateway.engine, document_chunks) == 1
    assert count(gateway.engine, deliveries) == 2
    for code in (H31, H49):
        [message] = gateway.hub.fetch(code, 10)
        assert message.content == data


def test_agencies_are_read_together_however_many_and_once(gateway):
    registered = [G12, H31, H49, "000.00.00.G22", "000.00.00.H41", "000.00.00.H14",
                  "000.00.00.G17", "000.00.00.A80", "28.22.H17"]  # fmt: skip
    for wanted in (
        registered[:1],
        registered[:3],
        registered,
    ):  # one, a few, more than prepared.FEW
        with gateway.unit_of_work() as uow:
            found = uow.agencies.get_many([*wanted, "000.00.00.X99", wanted[0]])
            assert sorted(found) == sorted(wanted)
            assert all(found[code].name == f"Cơ quan {code}" for code in wanted)
            assert uow.agencies.get("000.00.00.X99") is None
            assert uow.agencies.get(wanted[0]) is found[wanted[0]]  # not read again


def test_vietnamese_text_and_bytes_survive_exactly(gateway):
    data = sample("document-512.edxml")
    result = gateway.hub.send(G12, data)
    assert result.document_id == "000.00.00.G12,2013/02/20,512/BTTTT-ƯDCNTT"
    assert gateway.hub.fetch(H31, 1)[0].content == data


def test_real_messages_are_accepted_when_their_agencies_are_registered(gateway):
    result = gateway.hub.send("000.00.00.G22", sample("dc0bdef0-c7a3-4aaf-b717-777303442973.edxml"))
    assert len(result.deliveries) == 3
    assert (
        gateway.hub.send("000.00.00.A80", sample("edoc_new.edxml")).deliveries[0].recipient
        == "28.22.H17"
    )
    gateway.hub.send("000.00.00.H41", sample("status_acceptance_03.edxml"))
    assert gateway.hub.fetch("000.00.00.G22", 10)[0].kind is MessageKind.STATUS


def test_leases_expire_and_acks_are_final(database_url):
    clock = Clock()
    gw = build_gateway(Settings(db_url=database_url, lease_seconds=60))
    gw.directory.add(G12, "G12", "pw")
    gw.directory.add(H31, "H31", "pw")
    hub = Hub(gw.unit_of_work, gw.settings, clock=clock)
    hub.send(G12, document(recipients=(H31,)))
    [leased] = hub.fetch(H31, 10)
    assert hub.fetch(H31, 10) == []
    clock.now += timedelta(seconds=61)
    [again] = hub.fetch(H31, 10)
    assert again.message_id == leased.message_id
    assert hub.acknowledge(H31, [leased.message_id, "x"]).unknown == ("x",)
    clock.now += timedelta(days=1)
    assert hub.fetch(H31, 10) == []
    [row] = hub.send(G12, document(recipients=(H31,))).deliveries
    assert row.state is DeliveryState.ACKNOWLEDGED  # the idempotent answer shows today's state
    with gw.engine.connect() as conn:
        times = conn.execute(select(deliveries.c.first_leased_at, deliveries.c.acknowledged_at))
        assert times.one() == (
            clock.now - timedelta(days=1, seconds=61),
            clock.now - timedelta(days=1),
        )  # stored as the column type stores them, read back the same
    gw.engine.dispose()


def test_a_failed_transaction_stores_nothing(gateway):
    now = datetime.now(UTC)
    broken = NewDocument(
        sender=G12,
        document_id="X",
        idempotency_key="document:0:X",
        kind=MessageKind.DOCUMENT,
        business_type=BusinessType.NEW,
        sha256="0" * 64,
        content=b"<x/>",
        subject="",
        received_at=now,
        deliveries=(
            Delivery(H31, "m-1", DeliveryState.PENDING),
            Delivery(H49, "m-1", DeliveryState.PENDING),  # a MessageId is unique
        ),
    )
    with pytest.raises(IntegrityError):
        with gateway.unit_of_work() as uow:
            uow.messages.add(broken)
            uow.commit()
    assert count(gateway.engine, documents) == 0
    assert count(gateway.engine, document_chunks) == 0
    assert count(gateway.engine, deliveries) == 0


def test_concurrent_pollers_never_share_a_message(gateway):
    for n in range(120):
        gateway.hub.send(G12, document(document_id=f"G12,{n}", recipients=(H31,), attachment=None))
    seen: list[str] = []
    lock = threading.Lock()

    def poll():
        while True:
            batch = gateway.hub.fetch(H31, 7)
            if not batch:
                return
            with lock:
                seen.extend(m.message_id for m in batch)
            gateway.hub.acknowledge(H31, [m.message_id for m in batch])

    threads = [threading.Thread(target=poll) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(seen) == 120
    assert len(set(seen)) == 120


def test_concurrent_identical_sends_store_one_document(gateway):
    data = document()
    results = []

    def send():
        results.append(gateway.hub.send(G12, data))

    threads = [threading.Thread(target=send) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 6
    assert len({r.deliveries for r in results}) == 1
    assert count(gateway.engine, documents) == 1


def test_nonces_are_remembered_in_the_database(gateway):
    now = datetime.now(UTC)
    token = UsernameToken(H31, f"pw-{H31}", False, b"n-1", now, now.isoformat())
    assert gateway.hub.authenticate(token) == H31
    with pytest.raises(AuthenticationFailed):
        gateway.hub.authenticate(token)


def test_a_token_is_told_by_its_nonce_and_created_time_until_it_expires(gateway):
    """A replay repeats the token's nonce and Created time, and so the time its nonce is
    kept until (Created plus the clock skew, after which the token is refused for its
    age); then the nonce is forgotten."""
    expires = datetime(2026, 12, 2, 8, 5, 0, 123456, tzinfo=UTC)
    with gateway.unit_of_work() as uow:
        assert uow.nonces.remember(H31, b"n-1", expires)
        assert not uow.nonces.remember(H31, b"n-1", expires)
        assert uow.nonces.remember(H49, b"n-1", expires)  # another agency's
        uow.nonces.purge(expires)  # its token is still accepted at that instant
        assert not uow.nonces.remember(H31, b"n-1", expires)
        uow.nonces.purge(expires + timedelta(microseconds=1))
        assert uow.nonces.remember(H31, b"n-1", expires)
        uow.commit()


def test_wrong_passwords_lock_an_agency_in_the_database(gateway):
    with gateway.unit_of_work() as uow:
        assert uow.agencies.get(H31).failed_sign_ins == 0
    wrong = UsernameToken(H31, "guess", False, None, None, None)
    for _ in range(gateway.settings.max_failed_sign_ins - 1):
        with pytest.raises(AuthenticationFailed):
            gateway.hub.authenticate(wrong)
    with gateway.unit_of_work() as uow:
        assert uow.agencies.get(H31).failed_sign_ins == 9
    gateway.directory.set_quota(H31, per_minute=5)  # other changes keep the count
    before = datetime.now(UTC)
    with pytest.raises(AuthenticationFailed):
        gateway.hub.authenticate(wrong)
    lockout = timedelta(seconds=gateway.settings.sign_in_lockout_seconds)
    agency = gateway.directory.get(H31)
    assert agency.failed_sign_ins == 0
    assert before + lockout <= agency.locked_until <= datetime.now(UTC) + lockout
    right = UsernameToken(H31, f"pw-{H31}", False, None, None, None)
    with pytest.raises(AuthenticationFailed):
        gateway.hub.authenticate(right)
    gateway.directory.unlock(H31)
    assert gateway.hub.authenticate(right) == H31
    assert gateway.directory.get(H31).locked_until is None


def test_wrong_passwords_lock_an_operator_until_unlocked(gateway):
    operators = gateway.operators
    operators.add("Quản trị viên", "mật khẩu")
    assert operators.sign_in("Quản trị viên", "mật khẩu")
    for _ in range(gateway.settings.max_failed_sign_ins - 1):
        assert operators.sign_in("Quản trị viên", "đoán") is None
    assert operators.sign_in("Quản trị viên", "mật khẩu")  # the count starts again
    for _ in range(gateway.settings.max_failed_sign_ins):
        assert operators.sign_in("Quản trị viên", "đoán") is None
    assert operators.sign_in("Quản trị viên", "mật khẩu") is None
    assert operators.sign_in("nobody", "mật khẩu") is None
    operators.unlock("Quản trị viên")
    assert operators.operator(operators.sign_in("Quản trị viên", "mật khẩu")) == "Quản trị viên"


def test_status_routing_queries(gateway):
    """A take-back withdraws what was never downloaded; the status goes to those that did."""
    gateway.hub.send(G12, document(document_id="G12,7"))
    assert len(gateway.hub.fetch(H49, 10)) == 1
    gateway.hub.send(H49, status(H49, G12, "G12,7", code="01"))
    gateway.hub.send(G12, status(G12, G12, "G12,7", code="13"))
    assert [m.kind for m in gateway.hub.fetch(G12, 10)] == [MessageKind.STATUS]
    assert gateway.hub.fetch(H31, 10) == []
    assert [m.kind for m in gateway.hub.fetch(H49, 10)] == [MessageKind.STATUS]


def test_an_unreachable_database_is_unavailable():
    gw = build_gateway(
        Settings(db_url="postgresql+psycopg://nobody@127.0.0.1:9/none", db_timeout_seconds=1),
        migrate=False,
    )
    with pytest.raises(Unavailable):
        gw.hub.fetch(H31, 10)


def test_quotas_count_from_the_database(database_url):
    from gateway.errors import Busy

    gw = build_gateway(Settings(db_url=database_url, quota_per_minute=2))
    for code in (G12, H31, H49):
        gw.directory.add(code, code, "pw")
    gw.hub.send(G12, document(document_id="G12,1"))
    gw.hub.send(G12, document(document_id="G12,2"))
    with pytest.raises(Busy) as caught:
        gw.hub.send(G12, document(document_id="G12,3"))
    assert 1 <= caught.value.retry_after <= 60
    gw.hub.send(H31, document(sender=H31, recipients=(H49,), document_id="H31,1"))
    gw.directory.set_quota(G12, per_minute=0, bytes_per_day=100)
    with pytest.raises(Busy):
        gw.hub.send(G12, document(document_id="G12,3"))
    with gw.engine.connect() as conn:
        counted = conn.execute(select(agency_usage.c.documents, agency_usage.c.bytes).where(
            agency_usage.c.agency == G12)).one()  # fmt: skip
    sent = [document(document_id=f"G12,{n}") for n in (1, 2)]
    assert tuple(counted) == (2, sum(map(len, sent)))  # refusals counted nothing
    gw.engine.dispose()


@pytest.mark.parametrize("limit", ["per minute", "bytes per day"])
def test_a_concurrent_burst_passes_neither_limit(database_url, limit):
    from gateway.errors import Busy

    gw = build_gateway(Settings(db_url=database_url, quota_per_minute=0))
    for code in (G12, H31, H49):
        gw.directory.add(code, code, "pw")
    burst = [document(document_id=f"G12,{n}") for n in range(12)]
    if limit == "per minute":
        gw.directory.set_quota(G12, per_minute=5, bytes_per_day=0)
    else:  # room for five of the burst's documents, which are of one size give or take
        gw.directory.set_quota(G12, per_minute=0, bytes_per_day=5 * len(burst[0]) + 2)
    outcomes: list[str] = []

    def send(data):
        try:
            gw.hub.send(G12, data)
            outcomes.append("stored")
        except Busy:
            outcomes.append("busy")

    threads = [threading.Thread(target=send, args=(data,)) for data in burst]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["busy"] * 7 + ["stored"] * 5
    with gw.engine.connect() as conn:
        counted = conn.execute(select(agency_usage.c.documents).where(
            agency_usage.c.agency == G12)).scalar()  # fmt: skip
    assert counted == count(gw.engine, documents) == 5
    gw.engine.dispose()


def test_purge_removes_only_the_bytes_of_old_closed_documents(database_url):
    clock = Clock()
    gw = build_gateway(Settings(db_url=database_url, retention_days=30))
    for code in (G12, H31, H49):
        gw.directory.add(code, code, "pw")
    hub = Hub(gw.unit_of_work, gw.settings, clock=clock)
    hub.send(G12, document(document_id="G12,old", recipients=(H31,)))
    hub.send(G12, document(document_id="G12,waiting", recipients=(H49,)))
    [message] = hub.fetch(H31, 10)
    hub.acknowledge(H31, [message.message_id])
    clock.now += timedelta(days=29)
    assert hub.purge() == 0
    clock.now += timedelta(days=2)
    assert count(gw.engine, agency_usage) == 1
    assert hub.purge() == 1
    assert count(gw.engine, agency_usage) == 0  # the day counts go with the retention
    assert count(gw.engine, document_chunks) == 1  # the pending one keeps its bytes
    assert [m.document_id for m in hub.fetch(H49, 10)] == ["G12,waiting"]
    timeline = hub.send_status(G12, "G12,old")
    assert timeline.recipients[0].transport_state is DeliveryState.ACKNOWLEDGED
    assert gw.audit.verify().intact
    gw.engine.dispose()


@pytest.mark.parametrize(
    ("keys", "byte_budget", "per_transaction"),
    [(3, 2**28, [3, 2, 1]), (1000, 1, [1] * 6)],
    ids=["a range of keys at a time", "a document at a time past the byte budget"],
)
def test_purge_goes_in_short_transactions_and_passes_over_open_documents(
    database_url, monkeypatch, keys, byte_budget, per_transaction
):
    monkeypatch.setattr(hub_module, "PURGE_KEYS", keys)
    monkeypatch.setattr(hub_module, "PURGE_BYTES", byte_budget)
    clock = Clock()
    gw = build_gateway(Settings(db_url=database_url, retention_days=30))
    for code in (G12, H31, H49):
        gw.directory.add(code, code, "pw")
    hub = Hub(gw.unit_of_work, gw.settings, clock=clock)
    for n in range(7):  # the fourth waits at H49
        hub.send(G12, document(document_id=f"G12,{n}", recipients=(H49 if n == 3 else H31,)))
    hub.acknowledge(H31, [m.message_id for m in hub.fetch(H31, 10)])
    clock.now += timedelta(days=31)
    assert hub.purge() == 6
    assert count(gw.engine, document_chunks) == 1
    assert [m.document_id for m in hub.fetch(H49, 10)] == ["G12,3"]
    with gw.unit_of_work() as uow:
        purges = uow.events.recent("purged", 100)
    assert [e.detail for e in reversed(purges)] == [
        f"{n} documents, 30 days" for n in per_transaction
    ]
    assert hub.purge() == 0  # once more: nothing left, and the evidence says so
    with gw.unit_of_work() as uow:
        assert [e.detail for e in uow.events.recent("purged", 1)] == ["0 documents, 30 days"]
    assert gw.audit.verify().intact
    gw.engine.dispose()


def test_purge_forgets_the_day_counts_past_the_retention_a_batch_at_a_time(
    database_url, monkeypatch
):
    monkeypatch.setattr(hub_module, "PURGE_KEYS", 4)
    clock = Clock()
    gw = build_gateway(Settings(db_url=database_url, retention_days=30))
    hub = Hub(gw.unit_of_work, gw.settings, clock=clock)
    today = clock.now.astimezone(VIETNAM).date()
    with gw.engine.begin() as conn:
        conn.execute(insert(agency_usage), [
            dict(agency=f"000.00.00.H{n:02d}", day=today - timedelta(days=days), documents=1,
                 bytes=10)
            for n in range(5) for days in (0, 29, 31, 32)
        ])  # fmt: skip
    with gw.unit_of_work() as uow:
        assert uow.usage.forget_before(today - timedelta(days=30), 4) == 4
        uow.commit()
    with gw.engine.connect() as conn:  # the oldest went first
        left = conn.execute(select(agency_usage.c.day, func.count()).group_by(agency_usage.c.day))
        assert dict(left.all())[today - timedelta(days=32)] == 1
    if gw.engine.dialect.name == "sqlite":
        plans = sqlite_plans(gw, hub.purge, "DELETE FROM agency_usage")
        [plan] = plans.values()  # one statement, run twice: 4 counts, then the last 2
        assert "ix_agency_usage_day (day<?)" in plan, plan
    else:
        hub.purge()
    with gw.engine.connect() as conn:
        days = conn.execute(select(agency_usage.c.day).distinct()).scalars()
        assert sorted(days) == [today - timedelta(days=29), today]
    gw.engine.dispose()


def test_a_large_document_is_stored_in_pieces_and_read_back_whole(gateway):
    data = document(recipients=(H31,), attachment=bytes(range(256)) * 8000)  # ~2.7 MB
    gateway.hub.send(G12, data)
    assert count(gateway.engine, document_chunks) == -(-len(data) // CHUNK_BYTES) > 1
    [whole] = gateway.hub.fetch(H31, 10)
    assert whole.content == data and whole.size == len(data)
    gateway.hub.acknowledge(H31, [whole.message_id])


def test_a_forward_given_up_is_on_the_timeline_and_the_operators_overview(database_url):
    from client.errors import HubUnreachable
    from gateway.upstream import ParentLink

    class DownParent:
        def send(self, content):
            raise HubUnreachable("connection refused")

        def fetch(self, max_count):
            raise HubUnreachable("connection refused")

    clock = Clock()
    settings = Settings(
        db_url=database_url, parent_url="http://parent.example/soap", parent_agency="X",
        parent_password="pw", parent_give_up_seconds=600,
    )  # fmt: skip
    gw = build_gateway(settings)
    gw.directory.add(G12, G12, "pw")
    hub = Hub(gw.unit_of_work, settings, clock=clock)
    link = ParentLink(hub, settings, connect=DownParent, clock=clock)
    [sent] = hub.send(G12, document(document_id="G12,far", recipients=(H31,))).deliveries
    assert sent.state is DeliveryState.PENDING
    link.step()
    assert hub.fetch(H31, 10) == []  # H31 is not served here: nothing for it locally
    clock.now += timedelta(minutes=11)
    link.step()
    [row] = hub.send_status(G12, "G12,far").recipients
    assert row.transport_state is DeliveryState.FAILED
    assert [e.event for e in row.entries] == ["received", "failed"]
    [failed] = hub.overview().failed_forwards
    assert failed.agency == G12 and failed.detail.startswith(f"{H31}: the parent hub")
    gw.engine.dispose()
