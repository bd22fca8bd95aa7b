"""Throughput is measured in alternating slices, so that drift weighs on every measure."""

from bench.figures import SLICE_SECONDS, interleaved


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
