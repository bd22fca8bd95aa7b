"""`make bench-smoke` in the suite: every figure is measured and printed (targets are not
asserted here; benchmarks are not unit tests)."""

from bench import figures, sidebyside


def test_the_benchmark_prints_every_figure(capsys):
    assert figures.main(["--smoke"]) == 0
    output = capsys.readouterr().out
    for name in ("echo baseline", "SendDocument / echo", "cycle / echo", "GetDocuments at",
                 "leased twice", "delivered / sent", "round trip byte-exact",
                 "memory growth"):  # fmt: skip
        assert name in output


def test_two_versions_side_by_side_print_their_rates_and_costs(capsys):
    assert sidebyside.main([".", "--seconds", "0.5"]) == 0  # this checkout as both
    rows = capsys.readouterr().out.splitlines()[1:]
    assert [row[: figures.NAME_WIDTH].strip() for row in rows] == [
        "echo (requests/s)", "SendDocument / echo", "Send+Get+Ack cycle / echo",
        "worker CPU per request, SendDocument (ms)",
        "worker CPU per request, Send+Get+Ack cycle (ms)",
        "SendDocument after / before", "Send+Get+Ack cycle after / before",
    ]  # fmt: skip
    assert all(float(value) > 0 for row in rows[:5] for value in row.split()[-2:])
    assert all(float(row[figures.NAME_WIDTH :].split()[0]) > 0 for row in rows[5:])
