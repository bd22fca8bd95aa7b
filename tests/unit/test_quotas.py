"""Quotas on the fake store: a burst is refused with a wait, others are not held up."""

from datetime import UTC, datetime, timedelta

import pytest

from gateway.errors import Busy
from gateway.hub.directory import Directory
from gateway.hub.hub import Hub
from gateway.settings import Settings
from tests.builders import G12, H31, H49, document
from tests.fakes import FakeDatabase, FakeUnitOfWork


class Clock:
    def __init__(self):
        self.now = datetime(2026, 11, 25, 16, 59, 0, tzinfo=UTC)  # 23:59 in Vietnam

    def __call__(self):
        return self.now


@pytest.fixture
def db():
    return FakeDatabase()


@pytest.fixture
def clock():
    return Clock()


def make_hub(db, clock, **settings):
    directory = Directory(lambda: FakeUnitOfWork(db), None)
    for code in (G12, H31, H49):
        if code not in db.agencies:
            directory.add(code, code, "pw")
    return Hub(lambda: FakeUnitOfWork(db), Settings(**settings), clock=clock), directory


def test_a_burst_past_the_per_minute_limit_is_busy_and_stores_nothing(db, clock):
    hub, _ = make_hub(db, clock, quota_per_minute=3)
    for n in range(3):
        hub.send(G12, document(document_id=f"G12,{n}"))
        clock.now += timedelta(seconds=10)
    with pytest.raises(Busy) as caught:
        hub.send(G12, document(document_id="G12,3"))
    assert caught.value.retry_after == 30  # the first of the three leaves the window then
    assert len(db.documents) == 3
    hub.send(H31, document(sender=H31, recipients=(H49,), document_id="H31,0"))  # others go on
    clock.now += timedelta(seconds=30)
    hub.send(G12, document(document_id="G12,3"))


def test_the_daily_byte_limit_waits_until_midnight_in_vietnam(db, clock):
    hub, _ = make_hub(db, clock, quota_bytes_per_day=5000)
    hub.send(G12, document(document_id="G12,0", attachment=b"x" * 1000))
    with pytest.raises(Busy) as caught:
        hub.send(G12, document(document_id="G12,1", attachment=b"x" * 3000))
    assert caught.value.retry_after == 60


def test_an_agency_can_have_its_own_limits(db, clock):
    hub, directory = make_hub(db, clock, quota_per_minute=1)
    directory.set_quota(G12, per_minute=0)  # no limit for this one
    for n in range(5):
        hub.send(G12, document(document_id=f"G12,{n}"))
    hub.send(H31, document(sender=H31, recipients=(H49,), document_id="H31,0"))
    with pytest.raises(Busy):
        hub.send(H31, document(sender=H31, recipients=(H49,), document_id="H31,1"))


def test_resending_an_accepted_document_is_never_busy_and_counts_nothing(db, clock):
    hub, _ = make_hub(db, clock, quota_per_minute=1)
    data = document()
    first = hub.send(G12, data)
    assert hub.send(G12, data) == first
    assert list(db.usage.values()) == [len(data)]


def test_the_day_is_counted_without_a_limit_so_a_new_limit_sees_it(db, clock):
    hub, directory = make_hub(db, clock, quota_per_minute=0, quota_bytes_per_day=0)
    first, second = (document(document_id=f"G12,{n}") for n in (0, 1))
    hub.send(G12, first)
    directory.set_quota(G12, bytes_per_day=len(first) + len(second) - 1)
    with pytest.raises(Busy):
        hub.send(G12, second)
    clock.now += timedelta(minutes=2)  # past midnight in Vietnam: a new day
    hub.send(G12, second)
