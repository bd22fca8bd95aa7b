"""Throughput is measured in alternating slices, so that drift weighs on every measure."""

from bench.figures import (
    SLICE_SECONDS,
    Figure,
    Lease,
    interleaved,
    leased_while_held,
    ratio_over_rounds,
)
from bench.sidebyside import change


def test_measures_take_turns_and_their_rates_are_kept():
    calls = []

    def measure(name, per_second):
        def run(seconds):
            calls.append((name, seconds))
            return per_second

        return run

    rates = interleaved(
        {"echo": measure("echo", 100.0), "hub": measure("hub", 80.0)}, 3 * SLICE_SECONDS
    )
    assert rates == {"echo": 100.0, "hub": 80.0}
    assert [name for name, _ in calls] == ["echo", "hub", "hub", "echo", "echo", "hub"]
    assert {seconds for _, seconds in calls} == {SLICE_SECONDS}


def test_a_short_run_is_one_slice():
    rates = interleaved({"echo": lambda seconds: seconds * 10}, 1.0)
    assert rates == {"echo": 10.0}


def test_each_round_is_kept_for_the_spread():
    rounds = []
    rates = iter([100.0, 50.0, 110.0, 50.0])
    interleaved(
        {"before": lambda seconds: next(rates), "after": lambda seconds: next(rates)},
        2 * SLICE_SECONDS, rounds,
    )  # fmt: skip
    # the second round runs in reverse order: "after" first
    assert rounds == [{"before": 100.0, "after": 50.0}, {"after": 110.0, "before": 50.0}]


def test_the_change_is_the_mean_ratio_with_twice_its_standard_error():
    rounds = [{("send", "before"): 100.0, ("send", "after"): after} for after in (90.0, 110.0)]
    ratio, spread = change(rounds, "send")
    assert ratio == 1.0
    assert round(spread, 6) == round(2 * (0.2 / 2**0.5) / 2**0.5, 6)  # stdev 0.1414, n = 2
    assert change(rounds[:1], "send") == (0.9, None)


def test_a_figure_measured_round_by_round_is_printed_with_its_spread():
    rounds = [{"send": send, "echo": 100.0} for send in (70.0, 80.0, 90.0)]
    ratio, spread = ratio_over_rounds(rounds, "send", "echo")
    assert round(ratio, 6) == 0.8 and round(spread, 6) == round(2 * 0.1 / 3**0.5, 6)
    row = Figure("SendDocument / echo", ratio, ">= 0.80", True, spread).row()
    assert "0.800 ± 0.115" in row and row.endswith("met")
    assert "±" not in Figure("echo baseline", 500.0, "", None).row()


def test_only_leases_that_certainly_overlapped_are_counted():
    # Each lease's time lies between its request's sending and its answer.
    first = Lease("m", asked=0.0, answered=0.2)
    assert leased_while_held([first, Lease("m", asked=0.3, answered=0.5)], 1.0) == 1
    assert leased_while_held([first, Lease("m", asked=1.3, answered=1.5)], 1.0) == 0
    # 0.0 and 1.05 are possible times, over a second apart: not certainly overlapping.
    assert leased_while_held([first, Lease("m", asked=0.7, answered=1.05)], 1.0) == 0
    assert leased_while_held([first, Lease("other", asked=0.3, answered=0.5)], 1.0) == 0
