"""The real gateway, started as a process on a loopback port, with registered agencies."""

from __future__ import annotations

import pytest

from tests.conftest import fresh_postgres_database
from tests.hubprocess import start_hub, stop_hub


@pytest.fixture(
    scope="module",
    params=["sqlite", "sqlite-spyne", pytest.param("postgres", marks=pytest.mark.postgres)],
)
def hub(request, tmp_path_factory):
    """A running hub: on SQLite, on SQLite with spyne alone answering every request (no
    streaming front), and on PostgreSQL."""
    tmp = tmp_path_factory.mktemp("hub")
    limits = dict(max_request_bytes=40 * 2**20, max_document_bytes=24 * 2**20)
    if request.param.startswith("sqlite"):
        streaming = int(request.param == "sqlite")
        running = start_hub(tmp, f"sqlite:///{tmp / 'hub.db'}", streaming=streaming, **limits)
        yield running
        stop_hub(running)
    else:
        with fresh_postgres_database() as url:
            running = start_hub(tmp, url, **limits)
            yield running
            stop_hub(running)


@pytest.fixture(scope="module")
def short_lease_hub(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("lease")
    running = start_hub(tmp, f"sqlite:///{tmp / 'hub.db'}", lease_seconds=2)
    yield running
    stop_hub(running)
