"""The host runner's timing loop on a fake clock: every stop rule gives an exact count and wall
time, whatever the load on the machine (the same rules, measured live, are in test_host_runner)."""

from __future__ import annotations

import numpy as np

from fermbench.intervals import median_interval, median_ranks
from fermbench.runner import host
from fermbench.runner import protocol as p

STEP_S = 0.010  # every fake iteration takes exactly 10 ms


def loop(clock, **rules):
    """(samples, wall_ns, stop_reason) of a timed phase (samples kept, as in the timed phase)."""
    phase = host.timed_loop(
        lambda: clock.advance(STEP_S), buffer=host.sample_buffer(rules["iterations"], rules["max_iterations"]), **rules
    )
    return phase.samples_ns(), phase.wall_ns, phase.stop_reason


def test_count_and_time_both_reached(fake_clock):
    clock = fake_clock("fermbench.runner.host")
    samples, wall_ns, reason = loop(clock, iterations=7, min_seconds=0.0, max_iterations=100, max_seconds=60.0)
    assert (reason, samples, wall_ns) == ("count_and_time", [10_000_000] * 7, 70_000_000)


def test_minimum_time_keeps_running_after_the_count(fake_clock):
    clock = fake_clock("fermbench.runner.host")
    samples, wall_ns, reason = loop(clock, iterations=1, min_seconds=0.035, max_iterations=100, max_seconds=60.0)
    assert (reason, len(samples), wall_ns) == ("count_and_time", 4, 40_000_000)  # 40 ms: first past 35


def test_time_cap_ends_the_run_at_the_first_check_past_it(fake_clock):
    clock = fake_clock("fermbench.runner.host")
    samples, wall_ns, reason = loop(
        clock, iterations=10_000_000, min_seconds=0.0, max_iterations=10_000_000, max_seconds=0.05
    )
    assert (reason, len(samples), wall_ns) == ("max_s", 5, 50_000_000)


def test_count_cap_ends_the_run_before_the_minimum_time(fake_clock):
    clock = fake_clock("fermbench.runner.host")
    samples, wall_ns, reason = loop(clock, iterations=3, min_seconds=30.0, max_iterations=4, max_seconds=60.0)
    assert (reason, len(samples), wall_ns) == ("max_runs", 4, 40_000_000)


# -- --target-precision: time on until the median's 95% interval is precise enough ---------------


def precise_loop(clock, steps, target, **rules):
    """A timed phase whose iterations take the given seconds, one after another."""
    durations = iter(steps)
    phase = host.timed_loop(
        lambda: clock.advance(next(durations)),
        buffer=host.sample_buffer(rules["iterations"], rules["max_iterations"]),
        target_precision=target,
        **rules,
    )
    return phase.samples_ns(), phase.wall_ns, phase.stop_reason


def test_precision_stops_a_stable_source_at_its_minimums(fake_clock):
    clock = fake_clock("fermbench.runner.host")
    samples, wall_ns, reason = precise_loop(
        clock, [STEP_S] * 10_000, 0.01, iterations=20, min_seconds=0.0, max_iterations=100_000, max_seconds=60.0
    )
    assert (reason, len(samples), wall_ns) == ("precision", 20, 200_000_000)


def test_precision_keeps_timing_until_the_interval_is_narrow_enough(fake_clock):
    # 10 ms +- up to 1 ms (seeded): needs more than the minimum 20 samples for +-1%, far fewer than 60 s
    clock = fake_clock("fermbench.runner.host")
    steps = (STEP_S * (1 + 0.1 * np.random.default_rng(5).uniform(-1, 1, 100_000))).tolist()
    samples, wall_ns, reason = precise_loop(
        clock, steps, 0.01, iterations=20, min_seconds=0.0, max_iterations=100_000, max_seconds=60.0
    )
    assert reason == "precision" and 20 < len(samples) < 6000
    iv = median_interval(samples)
    assert iv is not None and iv.half_width <= 0.01 * np.median(samples)  # the report's interval agrees
    # one check earlier (about 10% fewer samples) was not yet precise
    assert not p.precision_reached(samples, len(samples) * 10 // 11 - 1, 0.01)


def test_precision_on_a_noisy_source_runs_to_max_seconds(fake_clock):
    clock = fake_clock("fermbench.runner.host")
    steps = (STEP_S * np.random.default_rng(6).lognormal(0.0, 1.5, 100_000)).tolist()
    samples, wall_ns, reason = precise_loop(
        clock, steps, 0.001, iterations=20, min_seconds=0.0, max_iterations=100_000, max_seconds=5.0
    )
    assert reason == "max_s" and wall_ns >= 5_000_000_000
    assert not p.precision_reached(samples, len(samples), 0.001)


def test_without_a_target_the_minimums_end_the_phase_as_before(fake_clock):
    clock = fake_clock("fermbench.runner.host")
    steps = (STEP_S * np.random.default_rng(6).lognormal(0.0, 1.5, 1000)).tolist()
    _, _, reason = precise_loop(
        clock, steps, 0.0, iterations=20, min_seconds=0.0, max_iterations=100_000, max_seconds=5.0
    )
    assert reason == "count_and_time"


def test_the_runners_precision_ranks_are_the_exact_order_statistic_ranks():
    for n in range(1, 3000):
        exact = median_ranks(n)
        assert p.precision_ranks(n) == (exact[:2] if exact else None), n
