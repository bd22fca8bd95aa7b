"""The benchmarks run for a few seconds in the suite, so that they cannot rot.

Seconds are too short for the memory target (the worker is still warming up); the smoke
run checks that the benchmark works and that the traffic met no error.
"""

from bench import soak


def test_the_soak_benchmark_runs_without_errors(capsys):
    soak.main(["--seconds", "3", "--warmup", "1"])
    figures = dict(
        line.split(maxsplit=1)
        for line in capsys.readouterr().out.splitlines()[1:]
        if line[0] != " "
    )
    assert int(figures["operations"]) > 0
    assert figures["errors"].split()[0] == "0"
