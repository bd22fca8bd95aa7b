"""`make bench-smoke` in the suite: every figure is measured and printed (targets are not
asserted here; benchmarks are not unit tests)."""

from bench import figures


def test_the_benchmark_prints_every_figure(capsys):
    assert figures.main(["--smoke"]) == 0
    output = capsys.readouterr().out
    for name in ("echo baseline", "SendDocument / echo", "cycle / echo", "GetDocuments at",
                 "leased twice", "delivered / sent", "round trip byte-exact",
                 "memory growth"):  # fmt: skip
        assert name in output
