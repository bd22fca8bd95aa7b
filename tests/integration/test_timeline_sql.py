"""The status, revoke and timeline scenarios of the unit tests, on the SQL store."""

import inspect
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, select

from gateway.bootstrap import build_gateway
from gateway.hub.hub import Hub
from gateway.settings import Settings
from gateway.store.tables import about_deliveries, about_document, events
from tests.builders import G12, H31, H49, document
from tests.plans import sqlite_plans
from tests.unit import test_timeline as scenarios
from tests.unit.test_timeline import H14, Clock

SCENARIOS = [
    name
    for name, function in vars(scenarios).items()
    if name.startswith("test_") and list(inspect.signature(function).parameters) == ["hub"]
]
"""The scenarios that need nothing but a hub (not the fake store's internals)."""


@pytest.fixture
def hub(database_url):
    gateway = build_gateway(Settings(db_url=database_url))
    for code in (G12, H31, H49, H14):
        gateway.directory.add(code, f"Cơ quan {code}", "pw")
    yield Hub(gateway.unit_of_work, gateway.settings, clock=Clock())
    gateway.engine.dispose()


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_scenario_on_sql(scenario, hub):
    getattr(scenarios, scenario)(hub)


def test_the_directory_on_sql(database_url):
    gateway = build_gateway(Settings(db_url=database_url))
    directory = gateway.directory
    directory.add("000.00.00.G14", "Bộ Ngoại giao", "pw")
    rows = [("000.00.01.G14", "Vụ Một"), ("000.00.02.G14", "Vụ Hai"), ("000.00.01.G14", "Vụ 1")]
    assert directory.import_names(iter(rows)) == 2
    directory.import_names(iter([("000.00.00.G14", "Bộ Ngoại giao (đổi tên)")]))
    children = directory.list("000.00.00.G14")
    assert [(a.code, a.name, a.parent_code) for a in children] == [
        ("000.00.01.G14", "Vụ 1", "000.00.00.G14"),
        ("000.00.02.G14", "Vụ Hai", "000.00.00.G14"),
    ]
    [ministry] = [a for a in directory.list() if a.code == "000.00.00.G14"]
    assert ministry.name == "Bộ Ngoại giao (đổi tên)" and ministry.password_hash
    gateway.engine.dispose()


def test_records_that_do_not_name_their_document_are_found_by_message_id(database_url):
    """Acknowledgements recorded before they named their document stay on its timeline
    and in its proof."""
    gateway = build_gateway(Settings(db_url=database_url))
    for code in (G12, H31):
        gateway.directory.add(code, f"Cơ quan {code}", "pw")
    gateway.hub.send(G12, document(recipients=(H31,), document_id="15/old-ack"))
    [message] = gateway.hub.fetch(H31, 10)
    with gateway.unit_of_work() as uow:  # as acknowledgements were recorded
        uow.messages.acknowledge(H31, [message.message_id], datetime.now(UTC))
        uow.events.record("acknowledged", datetime.now(UTC), H31, message_id=message.message_id)
        uow.commit()
    [recipient] = gateway.hub.send_status(G12, "15/old-ack").recipients
    assert [entry.event for entry in recipient.entries] == ["received", "leased", "acknowledged"]
    with gateway.unit_of_work() as uow:
        assert len(uow.events.seqs_about("15/old-ack", [message.message_id])) == 3
    gateway.engine.dispose()


def test_the_records_of_documents_and_deliveries_are_found_through_indexes(sqlite_url):
    build_gateway(Settings(db_url=sqlite_url)).engine.dispose()
    engine = create_engine(sqlite_url)
    for condition, index in [
        (about_document("15/BTTTT-VP"), "ix_events_document_id"),
        (about_deliveries("15/BTTTT-VP", ["m-1", "m-2"]), "ix_events_message_id"),
    ]:
        query = select(events).where(condition)
        with engine.connect() as conn:
            plan = conn.exec_driver_sql(
                "EXPLAIN QUERY PLAN "
                + str(query.compile(engine, compile_kwargs={"literal_binds": True}))
            ).all()
        steps = [row[-1] for row in plan]
        assert not [step for step in steps if step.startswith("SCAN")], steps
        assert any(index in step for step in steps), steps
    engine.dispose()


def test_the_document_a_sender_names_is_found_by_its_id_and_sender(sqlite_url):
    """As a send status, a take-back or a revocation asks: among the documents of that
    DocumentId, not among every document the sender ever sent, without statistics too."""
    gateway = build_gateway(Settings(db_url=sqlite_url))
    for code in (G12, H31):
        gateway.directory.add(code, code, "pw")
    gateway.hub.send(G12, document(recipients=(H31,), document_id="G12,named"))
    plans = sqlite_plans(
        gateway, lambda: gateway.hub.send_status(G12, "G12,named"), "documents.sender ="
    )
    gateway.engine.dispose()
    [plan] = plans.values()
    assert "ix_documents_document_id_sender (document_id=? AND sender=?)" in plan, plan


def test_the_operator_finds_the_senders_of_a_document_id_through_its_index(sqlite_url):
    gateway = build_gateway(Settings(db_url=sqlite_url))
    for code in (G12, H31):
        gateway.directory.add(code, code, "pw")
    gateway.hub.send(G12, document(recipients=(H31,), document_id="G12,traced"))
    plans = sqlite_plans(gateway, lambda: gateway.hub.trace("G12,traced"), "GROUP BY")
    gateway.engine.dispose()
    [plan] = plans.values()
    assert "ix_documents_document_id_sender (document_id=?)" in plan, plan
    assert "SCAN documents" not in plan, plan
