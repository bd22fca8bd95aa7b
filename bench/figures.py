"""The speed, memory and scale figures, each next to its target, measured in one run.

    python -m bench.figures           # the full run (minutes; 1,000,000 pending messages)
    python -m bench.figures --smoke   # seconds: small sizes, to keep the benchmarks working

Throughput is a ratio to a bare spyne echo service on the same server and client load,
run side by side, because these machines are noisy.
"""

from __future__ import annotations

import argparse
import base64
import itertools
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import requests
from lxml import etree
from sqlalchemy import create_engine, func, insert, select
from sqlalchemy.engine import make_url

from client.connector import Connector
from gateway import ns
from gateway.bootstrap import build_gateway
from gateway.errors import Unavailable
from gateway.hub.model import DeliveryState
from gateway.settings import Settings
from gateway.store.tables import deliveries, document_chunks, documents
from tests.builders import G12, H31, document
from tests.hubprocess import free_port, start_hub, stop_hub
from tests.wsgi import envelope, send_body

NAME_WIDTH = 64
"""Of the printed table's first column: the longest figure's name fits."""


@dataclass
class Figure:
    name: str
    value: float
    target: str
    met: bool | None
    spread: float | None = None
    """Twice the standard error of the value, where it is measured round by round."""

    def row(self) -> str:
        verdict = {True: "met", False: "MISSED", None: ""}[self.met]
        spread = f"± {self.spread:.3f}" if self.spread is not None else ""
        return (
            f"{self.name:<{NAME_WIDTH}} {self.value:>12.3f} {spread:<8}  {self.target:<12} "
            f"{verdict}"
        )


# --- throughput -------------------------------------------------------------------------


HEADERS = {"Content-Type": "text/xml; charset=utf-8"}
SERVER_THREADS = 4
"""Threads of the one gunicorn worker, for the hub and the echo alike."""
SLICE_SECONDS = 3.0
"""Throughput is measured in slices of about this long, the echo's and the hub's in turn:
this machine's speed drifts by half within minutes."""


def requests_per_second(step, seconds: float, threads: int = 8) -> float:
    """Keep ``threads`` clients calling ``step(session)`` (which returns the requests it
    made) for ``seconds``; return the requests per second they completed."""
    done, stop = [0] * threads, threading.Event()

    def client(index: int):
        session = requests.Session()
        while not stop.is_set():
            done[index] += step(session)

    workers = [threading.Thread(target=client, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    time.sleep(seconds)
    stop.set()
    for worker in workers:
        worker.join()
    return sum(done) / seconds


def rate(url: str, make_body, seconds: float) -> float:
    """Requests per second answered with 200, each a fresh ``make_body()``."""
    return requests_per_second(
        lambda session: int(session.post(url, data=make_body(), headers=HEADERS, timeout=60).ok),
        seconds,
    )


def echo_body(content: bytes) -> bytes:
    encoded = base64.b64encode(content).decode()
    return (
        f'<soapenv:Envelope xmlns:soapenv="{ns.SOAP11_ENV}" xmlns:e="urn:lienthong:bench:echo">'
        f"<soapenv:Body><e:Echo><e:Document>{encoded}</e:Document></e:Echo></soapenv:Body>"
        "</soapenv:Envelope>"
    ).encode()


def sample_document() -> bytes:
    """The throughput benchmarks' edXML: about 10 KB."""
    return document(recipients=(H31,), attachment=b"%PDF" + bytes(7000))


def start_echo(port: int, pinned: bool = False) -> subprocess.Popen:
    """The baseline echo service, on the same gunicorn settings as the hub."""
    echo = subprocess.Popen(
        [sys.executable, "-m", "bench.echo", "--port", str(port),
         "--threads", str(SERVER_THREADS), *(["--pin-workers"] if pinned else [])],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    _wait(f"http://127.0.0.1:{port}/?wsdl")
    return echo


def echo_rate(port: int, sample: bytes):
    """The echo's rate measure: seconds -> requests per second."""
    return lambda seconds: rate(f"http://127.0.0.1:{port}/", lambda: echo_body(sample), seconds)


def hub_rates(hub, sample: bytes) -> dict:
    """A hub's rate measures (seconds -> requests per second): SendDocument alone, and the
    Send+Get+Ack cycle."""
    password = hub.passwords[G12]

    def send():
        unique = sample.replace(b"15/BTTTT-VP", uuid.uuid4().hex.encode())
        return envelope(send_body(unique), G12, password)

    return {
        "send": lambda seconds: rate(hub.url, send, seconds),
        "cycle": lambda seconds: cycle_rate(hub, sample, seconds),
    }


def throughput(folder: Path, seconds: float, pinned: bool = False) -> list[Figure]:
    """The rates of the echo, SendDocument and the cycle, and the ratios the targets ask
    for; with ``pinned``, both servers' workers are kept on one CPU
    (``LIENTHONG_PIN_WORKERS``)."""
    sample = sample_document()
    port = free_port()
    echo = start_echo(port, pinned)
    try:
        hub = start_hub(
            folder, f"sqlite:///{folder / f'throughput-{pinned}.db'}", quota_per_minute=0,
            workers=1, threads=SERVER_THREADS, pin_workers=pinned,
        )  # fmt: skip
        rounds: list[dict] = []
        try:
            rates = interleaved({"echo": echo_rate(port, sample), **hub_rates(hub, sample)},
                                seconds, rounds)  # fmt: skip
        finally:
            stop_hub(hub)
    finally:
        echo.terminate()
    baseline = rates["echo"]
    send, cycle = rates["send"] / baseline, rates["cycle"] / baseline
    send_spread = ratio_over_rounds(rounds, "send", "echo")[1]
    cycle_spread = ratio_over_rounds(rounds, "cycle", "echo")[1]
    which = ", workers pinned" if pinned else ""
    return [
        Figure(f"echo baseline (requests/s{which})", baseline, "", None),
        Figure(f"SendDocument (requests/s{which})", rates["send"], "", None),
        Figure(f"Send+Get+Ack cycle (requests/s{which})", rates["cycle"], "", None),
        Figure(f"SendDocument / echo{which}", send, ">= 0.80", send >= 0.80, send_spread),
        Figure(f"Send+Get+Ack cycle / echo{which}", cycle, ">= 1.00", cycle >= 1,
               cycle_spread),
    ]  # fmt: skip


def ratio_over_rounds(rounds: list[dict], over, under) -> tuple[float, float | None]:
    """The mean over ``rounds`` of rate ``over`` / rate ``under``, and twice its standard
    error (None from a single round): a difference smaller than that is one this
    machine's drift can hide."""
    ratios = [r[over] / r[under] for r in rounds]
    if len(ratios) < 2:
        return ratios[0], None
    return statistics.mean(ratios), 2 * statistics.stdev(ratios) / len(ratios) ** 0.5


def interleaved(
    measures: dict, seconds: float, rounds: list[dict] | None = None
) -> dict[str, float]:
    """Each measure's rate over ``seconds``, taken in slices of about SLICE_SECONDS: the
    measures in turn, in reverse order every other round, so that the machine's drift
    weighs on all of them alike. Each round's rates are appended to ``rounds`` if given."""
    count = max(1, round(seconds / SLICE_SECONDS))
    piece = seconds / count
    done = dict.fromkeys(measures, 0.0)
    names = list(measures)
    for number in range(count):
        this_round = {}
        for name in names if number % 2 == 0 else reversed(names):
            this_round[name] = measures[name](piece)
            done[name] += this_round[name] * piece
        if rounds is not None:
            rounds.append(this_round)
    return {name: done[name] / seconds for name in names}


def cycle_rate(hub, sample: bytes, seconds: float) -> float:
    """Requests per second when each client sends, fetches and acknowledges in turn."""

    def cycle(session) -> int:
        unique = sample.replace(b"15/BTTTT-VP", uuid.uuid4().hex.encode())
        session.post(hub.url, data=envelope(send_body(unique), G12, hub.passwords[G12]),
                     headers=HEADERS, timeout=60)  # fmt: skip
        got = session.post(
            hub.url, headers=HEADERS, timeout=60,
            data=envelope("<lt:GetDocuments><lt:MaxCount>1</lt:MaxCount></lt:GetDocuments>",
                          H31, hub.passwords[H31]),
        )  # fmt: skip
        ids = etree.fromstring(got.content).findall(f".//{{{ns.GATEWAY}}}MessageId")
        acks = "".join(f"<lt:MessageIds>{e.text}</lt:MessageIds>" for e in ids)
        session.post(hub.url, headers=HEADERS, timeout=60,
                     data=envelope(f"<lt:AckDocument>{acks}</lt:AckDocument>",
                                   H31, hub.passwords[H31]))  # fmt: skip
        return 3

    return requests_per_second(cycle, seconds)


def _wait(url: str) -> None:
    for _ in range(100):
        try:
            if requests.get(url, timeout=5).ok:
                return
        except (requests.ConnectionError, requests.Timeout):
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


# --- backlog and concurrency --------------------------------------------------------------


def seeded(db_url: str, agencies: int, pending: int, **settings):
    """A hub whose store holds ``pending`` messages for ``agencies`` agencies, bulk-loaded."""
    gateway = build_gateway(Settings(db_url=db_url, quota_per_minute=0, **settings))
    codes = [f"000.00.{n // 100:02d}.H{n % 100:02d}" for n in range(agencies)]
    gateway.directory.import_names((code, f"Cơ quan {code}") for code in codes)
    now = datetime.now(UTC)
    batch = 20_000
    with gateway.engine.begin() as conn:
        for start in range(0, pending, batch):
            ids = range(start + 1, min(start + batch, pending) + 1)
            conn.execute(insert(documents), [
                dict(id=i, sender=codes[0], document_id=f"D{i}", idempotency_key=f"k{i}",
                     kind="document", business_type=0, sha256="0" * 64, size=100, subject="",
                     received_at=now, status_code="", signature="none", document_type="")
                for i in ids
            ])  # fmt: skip
            conn.execute(insert(document_chunks), [
                dict(document_pk=i, seq=0, data=b"<edXML/>") for i in ids
            ])  # fmt: skip
            conn.execute(insert(deliveries), [
                dict(message_id=str(uuid.UUID(int=i)), document_pk=i,
                     recipient=codes[i % agencies], inbox=codes[i % agencies],
                     state="pending", visible_at=now, created_at=now,
                     lease_count=0)
                for i in ids
            ])  # fmt: skip
    with gateway.engine.begin() as conn:
        # After a bulk load, as PostgreSQL's autovacuum soon does by itself: without
        # statistics the planner reads every row of an agency's backlog to find ten.
        conn.exec_driver_sql("ANALYZE")
    return gateway, codes


def fetch_latencies(gateway, codes: list[str], samples: int) -> Iterator[float]:
    """Seconds of a GetDocuments (lease 10) and its AckDocument, one agency after another."""
    for code in codes[1 : samples + 1]:
        started = time.perf_counter()
        messages = gateway.hub.fetch(code, 10)
        gateway.hub.acknowledge(code, [m.message_id for m in messages])
        yield time.perf_counter() - started


def backlog(folder: Path, small: int, large: int, db_url: str | None) -> list[Figure]:
    """GetDocuments at a large backlog over at a small one. Both backlogs are held at
    once (two SQLite files; two schemas of PostgreSQL's database) and asked in turn, so
    that the machine's drift weighs on both alike."""
    figures = [_backlog_in_turn("SQLite", small, large, [
        f"sqlite:///{folder / f'backlog-{size}.db'}" for size in (small, large)
    ])]  # fmt: skip
    if db_url:
        _reset_postgres(db_url)
        urls = [_postgres_schema(db_url, f"backlog_{size}") for size in (small, large)]
        figures.append(_backlog_in_turn("PostgreSQL", small, large, urls))
    return figures


def _backlog_in_turn(label: str, small: int, large: int, urls: list[str]) -> Figure:
    stores = [_backlog_store(url, size) for url, size in zip(urls, (small, large), strict=True)]
    samples = min(100, *(len(codes) - 1 for _, codes in stores))  # one agency each
    turns = zip(*(fetch_latencies(*store, samples=samples) for store in stores), strict=True)
    at_small, at_large = (statistics.median(column) for column in zip(*turns, strict=True))
    for gateway, _ in stores:
        gateway.engine.dispose()
    ratio = at_large / at_small
    return Figure(f"GetDocuments at {large:,} / at {small:,} ({label})", ratio, "<= 1.50",
                  ratio <= 1.5)  # fmt: skip


def _backlog_store(db_url: str, size: int):
    # At least 10 pending per agency, so that every GetDocuments leases a full batch of
    # 10 at both sizes: the latency compared is the backlog's, not the batch's (1,000
    # over 1,000 agencies would lease one message each).
    return seeded(db_url, min(1000, size // 10), size)


def _reset_postgres(url: str) -> None:
    """Empty the database: its public schema and the schemas the backlogs made."""
    engine = create_engine(url)
    with engine.begin() as conn:
        for (schema,) in conn.exec_driver_sql(
            "SELECT nspname FROM pg_namespace WHERE starts_with(nspname, 'backlog_')"
        ):
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        conn.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    engine.dispose()


def _postgres_schema(url: str, schema: str) -> str:
    """``url`` with a new schema of that name first on its search path."""
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    engine.dispose()
    in_schema = make_url(url).update_query_dict({"options": f"-c search_path={schema}"})
    return in_schema.render_as_string(hide_password=False)


def patiently(call):
    """``call()``, asked again after a pause while the hub answers Server.Unavailable (a
    database too busy to take the lock in time), as a connector does."""
    while True:
        try:
            return call()
        except Unavailable:
            time.sleep(0.05)


RACE_LEASE_SECONDS = 1
"""The pollers' lease: short, so that late acknowledgements race its expiry."""
LATE_EVERY = 5
"""Every so many batches (counted over all pollers) is acknowledged only after its lease
has expired."""
POLLING_SECONDS_AT_MOST = 600
"""The pollers give up then: a message never acknowledged shows in the figure."""


@dataclass
class Lease:
    message_id: str
    asked: float
    """When the GetDocuments that leased it was sent (perf_counter seconds)."""
    answered: float


def concurrency(
    folder: Path, messages: int, db_url: str | None = None, pollers: int = 50
) -> list[Figure]:
    """``pollers`` threads drain one agency's ``messages`` in process, on SQLite, and on
    PostgreSQL too when ``db_url`` is given; then, on PostgreSQL, through SOAP from
    gateway worker processes that share nothing but the database."""
    figures = _in_process("SQLite", f"sqlite:///{folder / 'pollers.db'}", messages, pollers)
    if db_url:
        _reset_postgres(db_url)
        figures += _in_process("PostgreSQL", db_url, messages, pollers)
        _reset_postgres(db_url)
        figures += _across_workers(folder, db_url, min(messages, 1_000), pollers)
    return figures


def _in_process(label: str, db_url: str, messages: int, pollers: int) -> list[Figure]:
    gateway, codes = seeded(db_url, 1, messages, lease_seconds=RACE_LEASE_SECONDS)
    hub, inbox = gateway.hub, codes[0]

    def fetch() -> list[str]:
        return [m.message_id for m in patiently(lambda: hub.fetch(inbox, 10))]

    def acknowledge(ids: list[str]) -> set[str]:
        return set(ids) - set(patiently(lambda: hub.acknowledge(inbox, ids)).unknown)

    leases = race(fetch, acknowledge, messages, pollers)
    figures = _race_figures(f"{pollers} pollers ({label})", leases, gateway.engine, messages)
    gateway.engine.dispose()
    return figures


def _across_workers(folder: Path, db_url: str, messages: int, pollers: int,
                    workers: int = 2) -> list[Figure]:  # fmt: skip
    """The race through SOAP, against ``workers`` gateway processes on one PostgreSQL."""
    hub = start_hub(folder, db_url, workers=workers, quota_per_minute=0,
                    lease_seconds=RACE_LEASE_SECONDS)  # fmt: skip
    sessions = threading.local()

    def post(body: str) -> etree._Element:
        if not hasattr(sessions, "session"):
            sessions.session = requests.Session()
        while True:
            answer = sessions.session.post(
                hub.url, data=envelope(body, H31, hub.passwords[H31]), headers=HEADERS,
                timeout=60,
            )  # fmt: skip
            root = etree.fromstring(answer.content)
            if answer.ok:
                return root
            if not root.findtext(".//faultcode", "").endswith("Unavailable"):
                raise RuntimeError(f"the gateway refused a poller: {answer.text}")
            time.sleep(0.05)  # asked again, as a connector does

    def fetch() -> list[str]:
        answer = post("<lt:GetDocuments><lt:MaxCount>10</lt:MaxCount></lt:GetDocuments>")
        return [e.text for e in answer.iter(f"{{{ns.GATEWAY}}}MessageId")]

    def acknowledge(ids: list[str]) -> set[str]:
        post("<lt:AckDocument>" + "".join(f"<lt:MessageIds>{i}</lt:MessageIds>" for i in ids)
             + "</lt:AckDocument>")  # fmt: skip
        return set(ids)  # every id is the inbox's own: a repeated ack is acknowledged again

    try:
        sender = Connector(hub.url, G12, hub.passwords[G12])
        for number in range(messages):
            sender.send(document(recipients=(H31,), document_id=f"{number}/race"))
        leases = race(fetch, acknowledge, messages, pollers)
        engine = create_engine(db_url)
        figures = _race_figures(f"{pollers} pollers, {workers} workers (PostgreSQL)",
                                leases, engine, messages)  # fmt: skip
        engine.dispose()
    finally:
        stop_hub(hub)
    return figures


def race(fetch, acknowledge, messages: int, pollers: int) -> list[Lease]:
    """``pollers`` threads lease (``fetch``: the ids leased) and acknowledge
    (``acknowledge(ids)``: those acknowledged) until all ``messages`` are acknowledged;
    every LATE_EVERY-th batch is acknowledged only after its lease has expired, racing
    the poller that leases it again. The leases, each with the time of its request."""
    leases: list[Lease] = []
    acknowledged: set[str] = set()
    lock, batches = threading.Lock(), itertools.count()
    deadline = time.monotonic() + POLLING_SECONDS_AT_MOST

    def poll():
        # Until every message is acknowledged: a message is hidden while it is leased,
        # so an empty answer does not mean that the others are done.
        while len(acknowledged) < messages and time.monotonic() < deadline:
            asked = time.perf_counter()
            ids = fetch()
            answered = time.perf_counter()
            if not ids:
                time.sleep(0.05)
                continue
            with lock:
                leases.extend(Lease(i, asked, answered) for i in ids)
            if next(batches) % LATE_EVERY == LATE_EVERY - 1:
                time.sleep(RACE_LEASE_SECONDS * 1.2)
            done = acknowledge(ids)
            with lock:
                acknowledged.update(done)

    threads = [threading.Thread(target=poll) for _ in range(pollers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return leases


def _race_figures(label: str, leases: list[Lease], engine, messages: int) -> list[Figure]:
    with engine.connect() as conn:
        done = conn.execute(
            select(func.count()).where(deliveries.c.state == DeliveryState.ACKNOWLEDGED.value)
        ).scalar()
    at_once = leased_while_held(leases, RACE_LEASE_SECONDS)
    again = len(leases) - len({lease.message_id for lease in leases})
    return [
        Figure(f"{label}: leased to two at once", at_once, "0", at_once == 0),
        Figure(f"{label}: leased again after expiry", again, "", None),
        Figure(f"{label}: acknowledged / sent", done / messages, "1.00", done == messages),
    ]


def leased_while_held(leases: list[Lease], lease_seconds: float) -> int:
    """Pairs of leases of one message that certainly overlapped: the hub's clock read each
    lease's time between its request's sending and its answer, and every pair of times
    that allows is less than the lease time apart."""
    by_message: dict[str, list[Lease]] = {}
    for lease in leases:
        by_message.setdefault(lease.message_id, []).append(lease)
    overlapping = 0
    for held in by_message.values():
        overlapping += sum(
            max(one.answered - other.asked, other.answered - one.asked) < lease_seconds
            for one, other in itertools.combinations(held, 2)
        )
    return overlapping


# --- a large document -------------------------------------------------------------------


def workers_status(master_pid: int) -> list[dict[str, str]]:
    """The /proc status fields of each of gunicorn's worker processes under ``master_pid``."""
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines())
        except (OSError, ValueError):
            continue
        if fields.get("PPid", "").strip() == str(master_pid):
            found.append({name: value.strip() for name, value in fields.items()})
    return found


def worker_status(master_pid: int) -> dict[str, str]:
    """The /proc status fields of gunicorn's (one) worker process under ``master_pid``."""
    for fields in workers_status(master_pid):
        return fields
    raise RuntimeError("no worker process found")


def worker_memory(master_pid: int) -> tuple[int, int]:
    """(VmRSS, VmHWM) in KiB of the gateway's worker process."""
    fields = worker_status(master_pid)
    return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])


def large_document(folder: Path, megabytes: int) -> list[Figure]:
    """A document of ``megabytes`` sent and fetched, as it is and gzip-compressed: each
    byte-exact, and the worker's peak memory growth over each against its size."""
    hub = start_hub(folder, f"sqlite:///{folder / 'large.db'}", workers=1, quota_per_minute=0)
    try:
        recipient = Connector(hub.url, H31, hub.passwords[H31], timeout=600)
        figures = []
        for compress, how in ((False, ""), (True, ", sent gzip-compressed")):
            sender = Connector(hub.url, G12, hub.passwords[G12], timeout=600, compress=compress)
            data = document(recipients=(H31,), document_id=f"large{how}",
                            attachment=bytes(range(256)) * (megabytes * 4096))  # fmt: skip
            warm_up = document(recipients=(H31,), document_id=f"warm-up{how}", attachment=b"x")
            sender.send(warm_up)
            recipient.receive(lambda message: None)  # the worker has served both operations once
            worker = int(worker_status(hub.process.pid)["Pid"])
            Path(f"/proc/{worker}/clear_refs").write_text("5")  # the peak starts again from here
            before, _ = worker_memory(hub.process.pid)
            sender.send(data)
            [message] = recipient.fetch()
            _, peak = worker_memory(hub.process.pid)
            recipient.ack([message.message_id])
            exact = message.content == data
            growth = (peak - before) * 1024 / len(data)
            figures += [
                Figure(f"{len(data) / 2**20:.0f} MB edXML round trip byte-exact{how}",
                       1.0 * exact, "1", exact),
                Figure("  peak worker memory growth / edXML size", growth, "<= 3.0",
                       growth <= 3.0),
            ]  # fmt: skip
    finally:
        stop_hub(hub)
    return figures


# --- the directory ----------------------------------------------------------------------


def directory_listing(folder: Path, agencies: int) -> list[Figure]:
    """The whole directory in one GetAgencies, read by the client as it arrives: the
    worker's peak memory growth against the response's size."""
    url = f"sqlite:///{folder / 'directory.db'}"
    hub = start_hub(folder, url, workers=1, quota_per_minute=0)
    try:
        gateway = build_gateway(Settings(db_url=url), migrate=False)
        gateway.directory.import_names(
            (f"{n // 10_000:03d}.{n // 100 % 100:02d}.{n % 100:02d}.K{n % 97:02d}",
             f"Ủy ban nhân dân xã số {n}") for n in range(agencies)
        )  # fmt: skip
        gateway.engine.dispose()
        list_agencies(hub, "<lt:MaxCount>1500</lt:MaxCount>")  # both statements, once
        worker = int(worker_status(hub.process.pid)["Pid"])
        Path(f"/proc/{worker}/clear_refs").write_text("5")  # the peak starts again from here
        before, _ = worker_memory(hub.process.pid)
        listed, size = list_agencies(hub, "")
        _, peak = worker_memory(hub.process.pid)
    finally:
        stop_hub(hub)
    return [
        Figure(f"GetAgencies of {agencies:,} agencies: all listed", 1.0 * (listed >= agencies),
               "1", listed >= agencies),
        Figure("  its response (MB)", size / 2**20, "", None),
        Figure("  peak worker memory growth (MB)", (peak - before) / 1024, "", None),
    ]  # fmt: skip


def list_agencies(hub, fields: str) -> tuple[int, int]:
    """GetAgencies with ``fields``, parsed as it arrives: how many agencies, how many bytes."""
    body = envelope(f"<lt:GetAgencies>{fields}</lt:GetAgencies>", H31, hub.passwords[H31])
    with requests.post(hub.url, data=body, headers=HEADERS, stream=True, timeout=600) as response:
        response.raise_for_status()
        response.raw.decode_content = True
        counted = _Counted(response.raw)
        listed = 0
        for _, element in etree.iterparse(counted, tag=f"{{{ns.GATEWAY}}}Agency"):
            listed += 1
            element.clear()
    return listed, counted.size


class _Counted:
    """A stream that counts the bytes read from it."""

    def __init__(self, stream):
        self._stream, self.size = stream, 0

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(size)
        self.size += len(data)
        return data


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="seconds, small sizes")
    parser.add_argument("--postgres", help="URL of an empty PostgreSQL database to use too")
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="lienthong-bench-"))
    if args.smoke:
        sizes = dict(seconds=1.0, small=1_000, large=5_000, pollers=300, megabytes=2,
                     agencies=2_000)  # fmt: skip
    else:
        sizes = dict(seconds=15.0, small=1_000, large=1_000_000, pollers=5_000, megabytes=50,
                     agencies=100_000)  # fmt: skip
    figures = [
        *throughput(folder, sizes["seconds"]),
        *throughput(folder, sizes["seconds"], pinned=True),
        *backlog(folder, sizes["small"], sizes["large"], args.postgres),
        *concurrency(folder, sizes["pollers"], args.postgres),
        *large_document(folder, sizes["megabytes"]),
        *directory_listing(folder, sizes["agencies"]),
    ]
    print(f"{'figure':<{NAME_WIDTH}} {'value':>12} {'':<8}  {'target':<12}")
    for figure in figures:
        print(figure.row())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
