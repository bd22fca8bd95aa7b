"""Statistics counted from the store, on SQLite and PostgreSQL."""

from datetime import UTC, date, datetime, timedelta

import pytest

from gateway.bootstrap import build_gateway
from gateway.errors import AuthenticationFailed, Duplicate, InvalidRequest, SenderMismatch
from gateway.hub.hub import Hub
from gateway.security.wsse import UsernameToken
from gateway.settings import Settings
from tests.builders import G12, H31, H49, document, status
from tests.plans import sqlite_plans
from tests.unit.test_timeline import Clock


@pytest.fixture
def hub(database_url):
    gateway = build_gateway(Settings(db_url=database_url))
    for code in (G12, H31, H49):
        gateway.directory.add(code, code, "pw")
    clock = Clock()
    yield Hub(gateway.unit_of_work, gateway.settings, clock=clock), clock
    gateway.engine.dispose()


def test_the_figures_match_what_was_sent(hub):
    hub, clock = hub
    for n in range(3):
        hub.send(G12, document(document_id=f"G12,{n}", attachment=b"x" * 100))
    [first, *_] = hub.fetch(H31, 10)
    hub.acknowledge(H31, [first.message_id])
    hub.send(H31, status(H31, G12, "G12,0", code="03"))
    with pytest.raises(Duplicate):
        hub.send(G12, document(document_id="G12,0", subject="other bytes"))  # refused
    clock.now += timedelta(hours=30)

    mine = hub.statistics(G12)
    assert (mine.sent, mine.refused) == (3, 1)
    assert mine.sent_bytes > 300
    assert mine.by_type == (("Công văn", 3),)
    assert [count for _, count, _ in mine.by_day] == [3]
    assert {(s.recipient, s.document_id) for s in mine.not_picked_up} == {
        (H49, "G12,0"), (H49, "G12,1"), (H49, "G12,2")
    }  # fmt: skip
    theirs = hub.statistics(H31)
    assert (theirs.sent, theirs.received, theirs.acknowledged, theirs.pending) == (1, 3, 1, 2)
    assert theirs.by_status == (("03", 1),)
    assert theirs.oldest_pending is not None
    backlog = {b.inbox: b.pending for b in hub.backlog()}
    assert backlog == {H31: 2, H49: 3, G12: 1}
    assert len(hub.not_picked_up(24)) == 4
    with pytest.raises(InvalidRequest):
        hub.statistics(G12, clock.now, clock.now - timedelta(days=1))


def test_days_run_midnight_to_midnight_in_vietnam(hub):
    hub, clock = hub
    clock.now = datetime(2026, 3, 1, 16, 58, 58, tzinfo=UTC)  # 23:59 in Vietnam
    hub.send(G12, document(document_id="G12,late", attachment=b"x" * 100))
    clock.now = datetime(2026, 3, 1, 16, 59, 59, tzinfo=UTC)  # then midnight there
    hub.send(G12, document(document_id="G12,midnight", attachment=b"x" * 1000))
    hub.send(G12, document(document_id="G12,after", attachment=b"x" * 1000))
    hub.send(H31, status(H31, G12, "G12,late", code="03"))

    figures = hub.statistics(G12, since=datetime(2026, 2, 28, tzinfo=UTC))
    days = [(day, count) for day, count, _ in figures.by_day]
    assert days == [(date(2026, 3, 1), 1), (date(2026, 3, 2), 2)]
    [(_, _, late_bytes), (_, _, next_bytes)] = figures.by_day
    assert next_bytes > late_bytes + 1000
    assert late_bytes + next_bytes == figures.sent_bytes
    assert figures.sent == 3
    theirs = hub.statistics(H31, since=datetime(2026, 2, 28, tzinfo=UTC))
    assert theirs.by_status == (("03", 1),)

    seen = hub.overview()
    assert seen.volume == {
        G12: {date(2026, 3, 1): 1, date(2026, 3, 2): 2}, H31: {date(2026, 3, 2): 1}
    }  # fmt: skip
    assert (seen.today_messages, seen.today_bytes) == (3, next_bytes + theirs.sent_bytes)


def test_the_overview_names_only_the_agencies_it_shows(database_url):
    gateway = build_gateway(Settings(db_url=database_url))
    for code in (G12, H31, H49):
        gateway.directory.add(code, f"Cơ quan {code}", "pw")
    gateway.directory.import_names(
        [(f"000.{n // 100:02d}.{n % 100:02d}.K05", "Xã") for n in range(1200)]
    )
    gateway.directory.set_quota(H49, per_minute=30, bytes_per_day=None)
    gateway.hub.send(G12, document(recipients=(H31,)))

    seen = gateway.hub.overview()
    assert seen.names == {G12: f"Cơ quan {G12}", H31: f"Cơ quan {H31}"}
    assert [(a.code, a.quota_per_minute) for a in seen.own_limits] == [(H49, 30)]
    codes = [f"000.{n // 100:02d}.{n % 100:02d}.K05" for n in range(1200)] + ["000.00.00.Z99"]
    with gateway.reading() as uow:
        assert len(uow.agencies.names(codes)) == 1200  # in batches; the unknown left out
    gateway.engine.dispose()


def test_the_overview_lists_the_agencies_with_limits_of_their_own(database_url):
    gateway = build_gateway(Settings(db_url=database_url))
    for code in (G12, H31, H49):
        gateway.directory.add(code, f"Cơ quan {code}", "pw")
    gateway.directory.set_networks(H49, ["10.1.0.0/16", "192.0.2.7"])
    gateway.directory.set_quota(H31, bytes_per_day=1000)
    gateway.directory.set_networks(G12, ["10.2.0.0/16"])
    gateway.directory.set_networks(G12, [])  # from anywhere again
    own = {a.code: (a.quota_bytes_per_day, a.networks) for a in gateway.hub.overview().own_limits}
    assert list(own) == [H31, H49]
    assert own == {H31: (1000, None), H49: (None, "10.1.0.0/16 192.0.2.7/32")}
    gateway.engine.dispose()


def test_the_overview_lists_who_is_locked_out_now(database_url):
    gateway = build_gateway(Settings(db_url=database_url, max_failed_sign_ins=1))
    for code in (G12, H31):
        gateway.directory.add(code, f"Cơ quan {code}", "pw")
    gateway.operators.add("Trực ban", "đúng")
    with pytest.raises(AuthenticationFailed):
        gateway.hub.authenticate(UsernameToken(H31, "sai", False, None, None, None))
    assert gateway.operators.sign_in("Trực ban", "sai") is None

    seen = gateway.hub.overview()
    assert [agency.code for agency in seen.locked_agencies] == [H31]
    assert [account.name for account in seen.locked_operators] == ["Trực ban"]
    if gateway.engine.dialect.name == "sqlite":
        plans = sqlite_plans(gateway, gateway.hub.overview, "locked_until >")
        assert any("ix_agencies_locked" in plan for plan in plans.values()), plans
    gateway.directory.unlock(H31)
    gateway.operators.unlock("Trực ban")
    seen = gateway.hub.overview()
    assert (seen.locked_agencies, seen.locked_operators) == ((), ())
    gateway.engine.dispose()


def test_refusals_and_failed_forwards_are_read_through_their_own_indexes(sqlite_url):
    gateway = build_gateway(Settings(db_url=sqlite_url))
    gateway.directory.add(G12, "G12", "pw")
    plans = sqlite_plans(
        gateway, lambda: (gateway.hub.statistics(G12), gateway.hub.overview()), "FROM events"
    )
    gateway.engine.dispose()
    assert len(plans) == 3  # an agency's refusals; the latest refusals and failed forwards
    for steps in plans.values():
        assert "ix_events_refused" in steps or "ix_events_failed" in steps, steps


def test_the_agencies_with_figures_sent_were_sent_or_were_refused_something(hub):
    hub, clock = hub
    hub.send(G12, document(recipients=(H31,), document_id="G12,active"))

    def active():
        return hub.active_agencies(clock.now - timedelta(days=30), clock.now + timedelta(1))

    assert active() == [G12, H31]
    with pytest.raises(SenderMismatch):
        hub.send(H49, document(recipients=(H31,)))  # G12's document: refused, on record
    assert active() == [G12, H31, H49]
    clock.now += timedelta(days=40)
    assert active() == [H31]  # still waiting
    [message] = hub.fetch(H31, 10)
    hub.acknowledge(H31, [message.message_id])
    assert active() == []


def test_the_dashboard_and_the_active_agencies_read_each_agency_in_its_index_range(sqlite_url):
    """However long the history, the overview's volume and the agencies active in a period
    are read one agency at a time, each from its range of an index, and what nobody picked
    up from an index of its own: no pass over every document or delivery, without
    statistics too."""
    gateway = build_gateway(Settings(db_url=sqlite_url))
    gateway.directory.add(G12, "G12", "pw")
    now = datetime.now(UTC)

    def reports():
        gateway.hub.overview()
        gateway.hub.active_agencies(now - timedelta(days=30), now)

    plans = sqlite_plans(gateway, reports, "WITH RECURSIVE")
    [not_picked_up] = sqlite_plans(gateway, reports, "lease_count").values()
    gateway.engine.dispose()
    assert len(plans) == 5  # volume, today's total; senders, recipients, inboxes
    ranges = ("sender=? AND received_at>?", "recipient=? AND created_at>?", "open (inbox>?)")
    for plan in plans.values():
        assert "SCAN documents" not in plan and "SCAN deliveries" not in plan, plan
        assert any(r in plan for r in ranges), plan
    assert "ix_deliveries_unfetched (created_at<?)" in not_picked_up


def test_what_an_agency_received_is_counted_by_when_each_delivery_was_made(hub):
    hub, clock = hub
    start = clock.now
    hub.send(G12, document(recipients=(H31,), document_id="G12,before"))
    clock.now += timedelta(days=2)
    for n in range(3):
        hub.send(G12, document(recipients=(H31, H49), document_id=f"G12,{n}"))
    [one] = [m for m in hub.fetch(H31, 10) if m.document_id == "G12,0"]
    hub.acknowledge(H31, [one.message_id])
    clock.now += timedelta(days=2)
    hub.send(G12, document(recipients=(H31,), document_id="G12,after"))

    period = (start + timedelta(days=1), start + timedelta(days=3))
    figures = hub.statistics(H31, *period)
    assert (figures.received, figures.acknowledged) == (3, 1)
    assert hub.statistics(H49, *period).received == 3
    assert hub.statistics(H31, start, clock.now + timedelta(seconds=1)).received == 5


def test_what_an_agency_received_is_read_through_its_range_and_nothing_else_is(sqlite_url):
    """The index of deliveries by recipient serves that count; the other queries by
    recipient keep their own plans, without statistics too."""
    gateway = build_gateway(Settings(db_url=sqlite_url))
    gateway.directory.add(G12, "G12", "pw")

    def reports():
        gateway.hub.statistics(G12)
        gateway.hub.backlog()
        with gateway.reading() as uow:
            uow.messages.received_original(G12, "15/BTTTT-VP")

    plans = sqlite_plans(gateway, reports, "FROM deliveries")
    gateway.engine.dispose()
    by_index = [s for s, plan in plans.items() if "ix_deliveries_recipient_created_at" in plan]
    assert len(by_index) == 1 and "created_at >=" in by_index[0], plans
    assert len(plans) >= 4


def test_what_waits_is_counted_in_the_open_index_alone(sqlite_url):
    """Per inbox for the dashboard, one inbox for an agency's statistics: the deliveries'
    rows are not read, nor their documents, but for each inbox's first delivery."""
    gateway = build_gateway(Settings(db_url=sqlite_url))
    for code in (G12, H31, H49):
        gateway.directory.add(code, code, "pw")
    gateway.hub.send(G12, document(recipients=(H31, H49)))
    gateway.hub.send(G12, document(recipients=(H31,), document_id="G12,second"))
    figures = []
    plans = sqlite_plans(
        gateway, lambda: figures.append((gateway.hub.statistics(H31), gateway.hub.backlog())),
        "GROUP BY deliveries.inbox",
    )  # fmt: skip
    gateway.engine.dispose()
    statistics, backlog = figures[0]
    assert statistics.pending == 2
    assert [(b.inbox, b.pending) for b in backlog] == [(H31, 2), (H49, 1)]
    assert backlog[0].oldest == statistics.oldest_pending
    [agency, every_inbox] = plans.values()
    assert "ix_deliveries_open (inbox=?)" in agency
    for plan in (agency, every_inbox):
        assert "ix_deliveries_open" in plan and "documents" not in plan, plan


def test_what_nobody_picked_up_is_listed_for_the_period_asked(hub):
    hub, clock = hub
    start = clock.now
    hub.send(G12, document(recipients=(H31,), document_id="G12,old"))
    clock.now += timedelta(days=40)
    hub.send(G12, document(recipients=(H31,), document_id="G12,recent"))
    clock.now += timedelta(hours=30)

    def listed(**period):
        return [s.document_id for s in hub.statistics(G12, **period).not_picked_up]

    assert listed() == ["G12,recent"]  # the last 30 days
    assert listed(since=start - timedelta(hours=1)) == ["G12,old", "G12,recent"]
    assert listed(since=start - timedelta(hours=1), until=start + timedelta(days=1)) == ["G12,old"]
    assert [s.document_id for s in hub.not_picked_up(24)] == ["G12,old", "G12,recent"]
