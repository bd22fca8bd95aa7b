"""Workers kept on one CPU each, spread evenly, a restarted worker on the CPU left free."""

from types import SimpleNamespace

from gateway.server import CpuPinning


def test_workers_are_spread_over_the_cpus_and_a_replacement_takes_the_free_one():
    pinning, server = CpuPinning([2, 0, 1]), SimpleNamespace(WORKERS={})
    for pid in range(1, 5):
        worker = SimpleNamespace()
        pinning.choose(server, worker)
        server.WORKERS[pid] = worker
    assert [w.cpu for w in server.WORKERS.values()] == [0, 1, 2, 0]
    del server.WORKERS[2]  # the worker on CPU 1 died
    replacement = SimpleNamespace()
    pinning.choose(server, replacement)
    assert replacement.cpu == 1
