"""The host runner's timing loop on a fake clock: every stop rule gives an exact count and wall
time, whatever the load on the machine (the same rules, measured live, are in test_host_runner)."""

from __future__ import annotations

from fermbench.runner import host

STEP_S = 0.010  # every fake iteration takes exactly 10 ms


def loop(clock, **rules):
    """(samples, wall_ns, stop_reason) of a timed phase (samples kept, as in the timed phase)."""
    phase = host.timed_loop(lambda: clock.advance(STEP_S), buffer=host.sample_buffer(rules["min_runs"], rules["max_runs"]), **rules)
    return phase.samples_ns(), phase.wall_ns, phase.stop_reason


def test_count_and_time_both_reached(fake_clock):
    clock = fake_clock("fermbench.runner.host")
    samples, wall_ns, reason = loop(clock, min_runs=7, min_s=0.0, max_runs=100, max_s=60.0)
    assert (reason, samples, wall_ns) == ("count_and_time", [10_000_000] * 7, 70_000_000)


def test_minimum_time_keeps_running_after_the_count(fake_clock):
    clock = fake_clock("fermbench.runner.host")
    samples, wall_ns, reason = loop(clock, min_runs=1, min_s=0.035, max_runs=100, max_s=60.0)
    assert (reason, len(samples), wall_ns) == ("count_and_time", 4, 40_000_000)  # 40 ms: first past 35


def test_time_cap_ends_the_run_at_the_first_check_past_it(fake_clock):
    clock = fake_clock("fermbench.runner.host")
    samples, wall_ns, reason = loop(clock, min_runs=10_000_000, min_s=0.0, max_runs=10_000_000, max_s=0.05)
    assert (reason, len(samples), wall_ns) == ("max_s", 5, 50_000_000)


def test_count_cap_ends_the_run_before_the_minimum_time(fake_clock):
    clock = fake_clock("fermbench.runner.host")
    samples, wall_ns, reason = loop(clock, min_runs=3, min_s=30.0, max_runs=4, max_s=60.0)
    assert (reason, len(samples), wall_ns) == ("max_runs", 4, 40_000_000)

