"""`make bench-smoke` in the suite: every figure is measured and printed (targets are not
asserted here; benchmarks are not unit tests)."""

import pytest

from bench import figures, sidebyside


def test_the_benchmark_prints_every_figure(capsys):
    assert figures.main(["--smoke"]) == 0
    output = capsys.readouterr().out
    for name in ("echo baseline", "SendDocument / echo", "cycle / echo", "GetDocuments at",
                 "leased to two at once", "leased again after expiry",
                 "acknowledged / sent", "round trip byte-exact",
                 "memory growth", "GetAgencies of"):  # fmt: skip
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


@pytest.mark.postgres
def test_the_pollers_race_lease_expiry_on_postgresql_in_process_and_across_workers(
    tmp_path, postgres_url
):
    measured = figures.concurrency(tmp_path, 300, postgres_url, pollers=20)
    rows = {figure.name: figure.value for figure in measured}
    for label in ("20 pollers (PostgreSQL)", "20 pollers, 2 workers (PostgreSQL)"):
        assert rows[f"{label}: leased to two at once"] == 0
        assert rows[f"{label}: acknowledged / sent"] == 1.0
        assert rows[f"{label}: leased again after expiry"] > 0  # late acks raced new leases


@pytest.mark.postgres
def test_the_backlogs_are_held_at_once_and_asked_in_turn_on_both_databases(tmp_path, postgres_url):
    measured = figures.backlog(tmp_path, 100, 1_000, postgres_url)
    assert [figure.name for figure in measured] == [
        "GetDocuments at 1,000 / at 100 (SQLite)",
        "GetDocuments at 1,000 / at 100 (PostgreSQL)",
    ]
    assert all(figure.value > 0 for figure in measured)
