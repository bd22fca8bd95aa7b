"""Prepared statements answer as SQLAlchemy's own execution does, on SQLite and PostgreSQL."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import bindparam, insert, select, text, update
from sqlalchemy.exc import IntegrityError

from gateway.store.engine import make_engine
from gateway.store.migrate import upgrade
from gateway.store.prepared import FEW, Prepared, PreparedIn
from gateway.store.sql import dialect_module
from gateway.store.tables import agencies, deliveries, documents, nonces

AGENCY = dict(
    code="000.00.00.G12", name="Văn phòng Bộ Thông tin và Truyền thông", password_hash="x",
    active=True, allow_digest=False, digest_secret=b"\x00\xffkey",
    created_at=datetime(2026, 11, 26, 8, 30, 15, 123456, tzinfo=UTC),
    parent_code=None, certificate=None, signature_policy="optional", quota_per_minute=None,
    quota_bytes_per_day=2**40, via=None, endpoint=None,
)  # fmt: skip
BY_CODE = select(agencies).where(agencies.c.code == bindparam("code"))


@pytest.fixture
def engine(database_url):
    engine = make_engine(database_url)
    upgrade(engine)
    with engine.begin() as conn:
        conn.execute(insert(agencies), [AGENCY])
    yield engine
    engine.dispose()


def test_rows_are_those_of_connection_execute(engine):
    with engine.connect() as conn:
        expected = conn.execute(BY_CODE, {"code": AGENCY["code"]}).one()
        row = Prepared(BY_CODE).first(conn, {"code": AGENCY["code"]})
    assert tuple(row) == tuple(expected)
    assert row.created_at == AGENCY["created_at"] and row.created_at.tzinfo is not None
    assert row.active is True and row.name == AGENCY["name"]
    assert row.digest_secret == AGENCY["digest_secret"]


def test_values_are_converted_as_sqlalchemy_converts_them(engine):
    """A datetime with another zone is stored as its UTC instant; literal values of the
    statement itself are sent too."""
    hanoi = timezone(timedelta(hours=7))  # created_at is 15:30:15 in Hà Nội
    seen = Prepared(
        select(agencies.c.code).where(
            agencies.c.created_at < bindparam("before", type_=agencies.c.created_at.type),
            agencies.c.active == True,  # noqa: E712  (a bound literal)
        )
    )
    with engine.connect() as conn:
        assert seen.scalar(conn, {"before": datetime(2026, 11, 26, 15, 31, tzinfo=hanoi)})
        assert seen.scalar(conn, {"before": datetime(2026, 11, 26, 15, 30, tzinfo=hanoi)}) is None


def test_inserts_run_many_and_return_keys(engine):
    add = Prepared(
        insert(documents).returning(documents.c.id),
        columns=("sender", "document_id", "idempotency_key", "kind", "business_type",
                 "sha256", "size", "subject", "received_at", "related_pk", "status_code",
                 "signature", "document_type"),
    )  # fmt: skip
    document = dict(
        sender=AGENCY["code"], document_id="15/BTTTT-VP", idempotency_key="k", kind="document",
        business_type=0, sha256="0" * 64, size=1, subject="Công văn", related_pk=None,
        received_at=datetime.now(UTC), status_code="", signature="none", document_type="",
    )  # fmt: skip
    new_deliveries = Prepared(
        insert(deliveries),
        columns=("message_id", "document_pk", "recipient", "inbox", "state", "visible_at",
                 "lease_count", "created_at"),
    )  # fmt: skip
    with engine.begin() as conn:
        pk = add.scalar(conn, document)
        new_deliveries.run_many(conn, [
            dict(message_id=f"m{n}", document_pk=pk, recipient="r", inbox="r", state="pending",
                 visible_at=document["received_at"], lease_count=0,
                 created_at=document["received_at"])
            for n in range(3)
        ])  # fmt: skip
    with engine.connect() as conn:
        stored = conn.execute(select(deliveries.c.message_id, deliveries.c.document_pk)).all()
        assert sorted(stored) == [(f"m{n}", pk) for n in range(3)]
        with pytest.raises(IntegrityError):
            add.scalar(conn, document)  # the same idempotency key


def test_a_new_key_is_returned_or_read_from_the_driver(engine):
    """SQLite gives the key without a RETURNING clause, PostgreSQL with one."""
    columns = ("code", "name", "password_hash", "active", "allow_digest", "created_at",
               "signature_policy")  # fmt: skip
    plain = Prepared(insert(agencies), columns=columns)
    returning = Prepared(insert(agencies).returning(agencies.c.code), columns=columns)
    agency = {name: AGENCY[name] for name in columns}
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            rowid = plain.new_key(conn, {**agency, "code": "A"})
            assert (
                conn.execute(
                    text("SELECT code FROM agencies WHERE rowid = :r"), {"r": rowid}
                ).scalar()
                == "A"
            )
        assert returning.new_key(conn, {**agency, "code": "B"}) == "B"


def test_a_count_is_of_the_rows_changed(engine):
    rename = Prepared(
        update(agencies)
        .where(agencies.c.code == bindparam("code"), agencies.c.name == bindparam("was"))
        .values(name=bindparam("name"))
    )
    remember = Prepared(
        lambda d: dialect_module(d).insert(nonces).on_conflict_do_nothing(),
        columns=("agency", "nonce", "expires_at"),
    )
    nonce = dict(agency=AGENCY["code"], nonce="n", expires_at=datetime.now(UTC))
    with engine.begin() as conn:
        assert rename.count(conn, {"code": AGENCY["code"], "was": AGENCY["name"], "name": "Bộ"})
        assert rename.count(conn, {"code": AGENCY["code"], "was": AGENCY["name"], "name": "x"}) == 0
        assert [remember.count(conn, nonce), remember.count(conn, nonce)] == [1, 0]
    with pytest.raises(ValueError):
        with engine.connect() as conn:
            Prepared(BY_CODE).count(conn, {"code": AGENCY["code"]})


def test_a_statement_outside_a_transaction_begins_one(engine):
    with engine.connect() as conn:
        assert not conn.in_transaction()
        Prepared(BY_CODE).rows(conn, {"code": "nobody"})
        assert conn.in_transaction()


def test_in_lists_expand(engine):
    """Each list length gets its SQL from SQLAlchemy's compiler, values converted: those
    in the list and those beside it."""
    created = Prepared(
        select(agencies.c.code, agencies.c.created_at).where(
            agencies.c.code.in_(bindparam("codes", expanding=True)),
            agencies.c.created_at.in_(bindparam("times", expanding=True)),
            agencies.c.created_at == bindparam("at", type_=agencies.c.created_at.type),
        )
    )
    with engine.connect() as conn:
        for codes in (["x"], [AGENCY["code"]], ["x", AGENCY["code"], "y"]):
            found = created.rows(
                conn,
                {"codes": codes, "times": [AGENCY["created_at"]], "at": AGENCY["created_at"]},
            )
            expected = [(AGENCY["code"], AGENCY["created_at"])] if AGENCY["code"] in codes else []
            assert found == expected
        assert created.rows(conn, {"codes": [], "times": [], "at": AGENCY["created_at"]}) == []


def test_a_statement_for_one_value_or_several(engine):
    """PreparedIn answers for one value (with =) as for a few (one parameter each) and
    for many (an expanding list)."""
    names = PreparedIn(
        lambda condition: select(agencies.c.name).where(
            condition, agencies.c.active == bindparam("active")
        ),
        agencies.c.code,
    )
    with engine.connect() as conn:
        many = [f"x{n}" for n in range(FEW)] + [AGENCY["code"]]
        for codes in (["x"], [AGENCY["code"]], ["x", AGENCY["code"]], [AGENCY["code"]] * 2, many):
            expected = [(AGENCY["name"],)] if AGENCY["code"] in codes else []
            assert names.rows(conn, codes, {"active": True}) == expected
            assert names.rows(conn, codes, {"active": False}) == []


def test_python_side_defaults_are_refused(engine):
    defaults = insert(agencies)  # created_at, active… have Python-side defaults
    with engine.connect() as conn:
        with pytest.raises(ValueError, match="defaults"):
            Prepared(defaults, columns=("code", "name", "password_hash")).rows(conn, {})


def test_the_three_operations_compile_nothing_when_they_run(tmp_path, monkeypatch):
    """Every statement of SendDocument, GetDocuments and AckDocument is compiled once:
    none has a list SQLAlchemy expands on each run (``NOT IN (...)`` of literals does)."""
    from lxml import etree
    from sqlalchemy.sql.compiler import SQLCompiler

    from gateway import ns
    from tests.builders import G12, H31, document
    from tests.wsgi import InProcessHub, envelope, send_body

    hub = InProcessHub(f"sqlite:///{tmp_path / 'hub.db'}", quota_per_minute=0)
    for code in (G12, H31):
        hub.gateway.directory.add(code, code, "pw")
    hub.call(envelope(send_body(document(recipients=(H31,))), G12, "pw"))  # compiles all
    expanded = []
    original = SQLCompiler.construct_expanded_state

    def expand(compiler, *args, **kwargs):
        expanded.append(compiler.string)
        return original(compiler, *args, **kwargs)

    monkeypatch.setattr(SQLCompiler, "construct_expanded_state", expand)
    sent = hub.call(envelope(send_body(document(recipients=(H31,), document_id="X,1")), G12, "pw"))
    got = hub.call(envelope("<lt:GetDocuments/>", H31, "pw"))
    ids = [e.text for e in etree.fromstring(got.body).iter(f"{{{ns.GATEWAY}}}MessageId")]
    acks = "".join(f"<lt:MessageIds>{i}</lt:MessageIds>" for i in ids)
    acked = hub.call(envelope(f"<lt:AckDocument>{acks}</lt:AckDocument>", H31, "pw"))
    assert (sent.status, got.status, acked.status, len(ids)) == (200, 200, 200, 2)
    assert expanded == []
    hub.gateway.engine.dispose()
