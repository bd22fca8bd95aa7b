"""Two versions of the hub side by side: one echo, one client load, every rate taken in
turn in short slices, so that a change shows through this machine's drift.

    git worktree add ../before HEAD~1
    python -m bench.sidebyside ../before [--seconds 12]

This checkout is "after"; each hub runs from its own tree (``python -m`` puts the
current directory first on ``sys.path``, so a hub started from here would run this
checkout's code whatever ``PYTHONPATH`` says). Besides each rate over the echo's, it
prints the worker's CPU time (user and system) per request, and each rate of "after"
over "before" round by round, with twice its standard error: a change smaller than that
is one this machine's drift can hide.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from bench.figures import (
    NAME_WIDTH,
    SERVER_THREADS,
    echo_rate,
    hub_rates,
    interleaved,
    ratio_over_rounds,
    sample_document,
    start_echo,
    worker_status,
)
from tests.hubprocess import free_port, start_hub, stop_hub

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User and system time of process ``pid`` so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def counted(measure, pid: int, spent: dict, key: tuple[str, str]):
    """``measure``, adding the requests it made and the CPU time ``pid`` spent on them
    to ``spent[key]``."""

    def run(seconds: float) -> float:
        before = cpu_seconds(pid)
        per_second = measure(seconds)
        requests, cpu = spent.get(key, (0.0, 0.0))
        spent[key] = (requests + per_second * seconds, cpu + cpu_seconds(pid) - before)
        return per_second

    return run


def change(rounds: list[dict], name: str) -> tuple[float, float | None]:
    """The mean over ``rounds`` of rate ``name`` after over before, and twice its standard
    error (None from a single round)."""
    return ratio_over_rounds(rounds, (name, "after"), (name, "before"))


def compare(before: Path, seconds: float) -> tuple[list[tuple[str, float, float]], list]:
    """(figure, before, after) rows, each rate measured for ``seconds`` in slices; and
    (figure, after/before, its spread, rounds) for each hub rate."""
    folder = Path(tempfile.mkdtemp(prefix="lienthong-sidebyside-"))
    sample, port = sample_document(), free_port()
    echo = start_echo(port)
    hubs = {}
    try:
        for version, source in (("before", before.resolve()), ("after", None)):
            hubs[version] = start_hub(
                folder, f"sqlite:///{folder / version}.db", source=source,
                quota_per_minute=0, workers=1, threads=SERVER_THREADS,
            )  # fmt: skip
        spent: dict = {}
        measures = {"echo": echo_rate(port, sample)}
        for version, hub in hubs.items():
            worker = int(worker_status(hub.process.pid)["Pid"])
            for name, measure in hub_rates(hub, sample).items():
                measures[name, version] = counted(measure, worker, spent, (name, version))
        rounds: list[dict] = []
        rates = interleaved(measures, seconds, rounds)
    finally:
        for hub in hubs.values():
            stop_hub(hub)
        echo.terminate()
    rows = [("echo (requests/s)", rates["echo"], rates["echo"])]
    for name, label in (("send", "SendDocument"), ("cycle", "Send+Get+Ack cycle")):
        rows.append((f"{label} / echo", *(rates[name, v] / rates["echo"] for v in hubs)))
    for name, label in (("send", "SendDocument"), ("cycle", "Send+Get+Ack cycle")):
        rows.append((
            f"worker CPU per request, {label} (ms)",
            *(1000 * spent[name, v][1] / spent[name, v][0] for v in hubs),
        ))  # fmt: skip
    changes = [
        (f"{label} after / before", *change(rounds, name), len(rounds))
        for name, label in (("send", "SendDocument"), ("cycle", "Send+Get+Ack cycle"))
    ]
    return rows, changes


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path, help="the other checkout, run as 'before'")
    parser.add_argument("--seconds", type=float, default=12.0, help="of each rate, in slices")
    args = parser.parse_args(argv)
    rows, changes = compare(args.before, args.seconds)
    print(f"{'figure':<{NAME_WIDTH}} {'before':>10} {'after':>10}")
    for name, before, after in rows:
        print(f"{name:<{NAME_WIDTH}} {before:>10.3f} {after:>10.3f}")
    for name, ratio, spread, count in changes:
        spread_text = f"± {spread:.3f} over {count} rounds" if spread is not None else "(one round)"
        print(f"{name:<{NAME_WIDTH}} {ratio:>10.3f} {spread_text}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
