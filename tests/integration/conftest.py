"""Fixtures shared by the integration tests."""

import pytest

from gateway.store.engine import make_engine
from gateway.store.migrate import upgrade


@pytest.fixture
def sqlite_engine(sqlite_url):
    """An engine on a migrated SQLite file that gives up on a lock after a second."""
    engine = make_engine(sqlite_url, timeout_seconds=1)
    upgrade(engine)
    yield engine
    engine.dispose()
