"""Soak: mixed traffic against a real gateway for a while; errors must be 0, memory flat.

    .venv/bin/python -m bench.soak [--seconds 120] [--db URL]

Three agencies send documents, three fetch and acknowledge, and senders ask for
timelines, all at once. Prints the number of operations and errors, and the resident
memory of the gateway's worker after a warm-up and at the end (growth must stay under
10 %). Exits non-zero when a target is missed.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

from client.connector import Connector
from client.errors import ConnectorError
from tests.builders import G12, H31, H49, document
from tests.hubprocess import start_hub, stop_hub

SENDERS = {G12: (H31, H49), H31: (G12, H49), H49: (G12, H31)}


def worker_rss_kib(master_pid: int) -> int:
    """Resident memory of the gateway's worker processes (children of the master), KiB."""
    total = 0
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(
                line.split(":", 1) for line in status.read_text().splitlines() if ":" in line
            )
        except OSError:
            continue
        if int(fields.get("PPid", "0").strip() or 0) == master_pid:
            total += int(fields.get("VmRSS", "0 kB").split()[0])
    return total


def traffic(hub, agency: str, stop: threading.Event, counts: Counter, lock: threading.Lock):
    connector = Connector(hub.url, agency, hub.passwords[agency], timeout=30)
    sent = []
    while not stop.is_set():
        try:
            receipt = connector.send(
                document(
                    sender=agency,
                    document_id=f"{agency},{uuid.uuid4().hex}",
                    recipients=SENDERS[agency],
                    attachment=b"%PDF" + bytes(8000),
                )
            )
            sent.append(receipt.document_id)
            handled = connector.receive(lambda message: None, max_count=20)
            if sent:
                connector.status(sent[-1])
            with lock:
                counts["operations"] += 3 + handled
        except ConnectorError as exc:
            with lock:
                counts["errors"] += 1
                counts[f"error: {exc}"[:120]] += 1


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--warmup", type=float, default=10)
    parser.add_argument("--db", help="database URL (default: a new SQLite file)")
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="lienthong-soak-"))
    hub = start_hub(folder, args.db or f"sqlite:///{folder / 'hub.db'}")
    counts: Counter = Counter()
    lock, stop = threading.Lock(), threading.Event()
    threads = [
        threading.Thread(target=traffic, args=(hub, agency, stop, counts, lock))
        for agency in SENDERS
    ]
    try:
        for thread in threads:
            thread.start()
        time.sleep(args.warmup)
        start_rss = worker_rss_kib(hub.process.pid)
        time.sleep(args.seconds)
        end_rss = worker_rss_kib(hub.process.pid)
        stop.set()
        for thread in threads:
            thread.join()
    finally:
        stop.set()
        stop_hub(hub)
    growth = (end_rss - start_rss) / start_rss if start_rss else 0.0
    print(f"{'figure':<28} {'value':>12}  target")
    print(f"{'seconds':<28} {args.seconds:>12.0f}")
    print(f"{'operations':<28} {counts['operations']:>12}")
    print(f"{'errors':<28} {counts['errors']:>12}  0")
    print(f"{'worker memory at start (KiB)':<28} {start_rss:>12}")
    print(f"{'worker memory at end (KiB)':<28} {end_rss:>12}")
    print(f"{'memory growth':<28} {growth:>12.1%}  < 10 %")
    for key, value in counts.items():
        if key.startswith("error: "):
            print(f"  {value} x {key}")
    return 0 if counts["errors"] == 0 and growth < 0.10 else 1


if __name__ == "__main__":
    raise SystemExit(main())
