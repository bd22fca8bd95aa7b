"""Prometheus metrics: requests by operation and fault code, latency, busy refusals, backlog,
sign-ins locked.

With several worker processes, gunicorn's master sets PROMETHEUS_MULTIPROC_DIR before the
workers start, and a scrape adds up every worker's counters (prometheus-client's
multiprocess mode).
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable
from contextlib import contextmanager

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

REQUESTS = Counter(
    "lienthong_requests_total", "SOAP requests by operation and outcome", ["operation", "outcome"]
)
LATENCY = Histogram(
    "lienthong_request_seconds", "SOAP request latency by operation", ["operation"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)  # fmt: skip
BUSY = Counter("lienthong_busy_total", "Requests refused with Server.Busy", ["reason"])


@contextmanager
def observed(operation: str):
    """Count a request and time it; ``outcome`` is ok or the fault code raised."""
    started = time.perf_counter()
    outcome = "ok"
    try:
        yield
    except Exception as error:
        outcome = getattr(error, "faultcode", None) or getattr(error, "code", "Server.Internal")
        raise
    finally:
        record(operation, outcome, time.perf_counter() - started)


def record(operation: str, outcome: str, seconds: float) -> None:
    """Count one request of ``operation`` that ended in ``outcome`` (ok or a fault code)."""
    outcome = outcome.split(":", 1)[-1]
    count, latency = _series(operation, outcome)
    count.inc()
    if outcome == "Server.Busy":
        BUSY.labels("quota").inc()
    latency.observe(seconds)


@functools.cache
def _series(operation: str, outcome: str):
    """The counter and histogram of one operation and outcome (``labels`` looks them up
    under a lock at every call)."""
    return REQUESTS.labels(operation, outcome), LATENCY.labels(operation)


def count_refusal(code: str) -> None:
    """A request refused before it reached an operation."""
    REQUESTS.labels("-", code).inc()
    if code == "Server.Busy":
        BUSY.labels("in-flight").inc()


class BacklogCollector:
    """Open deliveries and the first one's age per inbox, read at scrape time."""

    def __init__(self, backlog: Callable[[], list]):
        self._backlog = backlog

    def collect(self):
        pending = GaugeMetricFamily(
            "lienthong_backlog_messages", "Deliveries not yet acknowledged", labels=["inbox"]
        )
        oldest = GaugeMetricFamily(
            "lienthong_oldest_pending_seconds", "Age of the oldest open delivery",
            labels=["inbox"],
        )  # fmt: skip
        now = time.time()
        for row in self._backlog():
            pending.add_metric([row.inbox], row.pending)
            oldest.add_metric([row.inbox], now - row.oldest.timestamp())
        yield pending
        yield oldest


class LockedSignInsCollector:
    """Agencies and operators whose sign-ins are locked after wrong passwords, read at
    scrape time: an alert on it shows someone guessing."""

    def __init__(self, locked: Callable[[], dict[str, int]]):
        self._locked = locked

    def collect(self):
        locked = GaugeMetricFamily(
            "lienthong_sign_ins_locked", "Sign-ins locked after wrong passwords in a row",
            labels=["who"],
        )  # fmt: skip
        for who, count in self._locked().items():
            locked.add_metric([who], count)
        yield locked


def exposition(backlog: Callable[[], list], locked: Callable[[], dict[str, int]]) -> bytes:
    """The text a Prometheus scrape gets."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)
    else:
        from prometheus_client import REGISTRY

        registry = REGISTRY
    scrape = CollectorRegistry()
    scrape.register(BacklogCollector(backlog))
    scrape.register(LockedSignInsCollector(locked))
    return generate_latest(registry) + generate_latest(scrape)


__all__ = ["CONTENT_TYPE_LATEST", "observed", "record", "count_refusal", "exposition"]
