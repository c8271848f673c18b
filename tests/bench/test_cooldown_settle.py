"""The cool-down between models: wait for thermal status none and the battery back near its
start temperature, never longer than cooldown_seconds, not at all where nothing is readable.

On a fake clock (bench/session.py's `time`): every wait is exact and instant, whatever the load."""

from __future__ import annotations

from fermbench.bench.session import SETTLE_POLL_S, BenchmarkSession
from fermbench.bench.settings import build_settings
from fermbench.targets import Environment, Target


class ScriptedTarget(Target):
    """environment() answers from a script of (seconds from start, Environment) on the clock,
    and counts how often it was read."""

    serial = "scripted"

    def __init__(self, clock, script):
        self.clock, self.script, self.reads = clock, script, 0

    def environment(self) -> Environment:
        self.reads += 1
        return [env for at, env in self.script if at <= self.clock.monotonic()][-1]

    # The cool-down reads the environment only: anything else is a test bug.
    def describe(self):
        raise AssertionError("not used by the cool-down")

    def put_file(self, local, name):
        raise AssertionError("not used by the cool-down")

    def _instrument(self, runtime, extras, timeout, stop):
        raise AssertionError("not used by the cool-down")

    def _fetch(self, path):
        raise AssertionError("not used by the cool-down")


def session(cooldown: float) -> BenchmarkSession:
    return BenchmarkSession(
        store=None, settings=build_settings(cooldown_seconds=cooldown), targets=[], variants=[], images={}, files={}
    )


def test_waits_until_thermal_status_clears(fake_clock):
    clock = fake_clock("fermbench.bench.session")
    target = ScriptedTarget(
        clock,
        [
            (0, Environment(thermal_status=2, battery_temp_c=30.0)),
            (2.5 * SETTLE_POLL_S, Environment(thermal_status=0, battery_temp_c=30.0)),
        ],
    )
    waited = session(30.0).settle(target, Environment(thermal_status=0, battery_temp_c=30.0))
    assert waited == 3 * SETTLE_POLL_S  # the first poll after the change sees it
    assert clock.sleeps == [SETTLE_POLL_S] * 3 and target.reads == 4


def test_waits_for_battery_to_come_back_near_its_start(fake_clock):
    clock = fake_clock("fermbench.bench.session")
    target = ScriptedTarget(
        clock,
        [
            (0, Environment(thermal_status=0, battery_temp_c=33.0)),
            (1.5 * SETTLE_POLL_S, Environment(thermal_status=0, battery_temp_c=31.5)),
            (3.5 * SETTLE_POLL_S, Environment(thermal_status=0, battery_temp_c=30.8)),
        ],
    )
    waited = session(30.0).settle(target, Environment(battery_temp_c=30.0))
    assert waited == 4 * SETTLE_POLL_S  # 31.5 is still more than 1 degree above the start: wait on
    assert target.reads == 5


def test_bounded_by_cooldown_seconds(fake_clock):
    clock = fake_clock("fermbench.bench.session")
    hot = ScriptedTarget(clock, [(0, Environment(thermal_status=3, battery_temp_c=45.0))])
    waited = session(2.5 * SETTLE_POLL_S).settle(hot, Environment(battery_temp_c=30.0))
    assert waited == 2.5 * SETTLE_POLL_S  # the last sleep is cut to end at the bound exactly
    assert clock.sleeps == [SETTLE_POLL_S, SETTLE_POLL_S, 0.5 * SETTLE_POLL_S]


def test_no_wait_where_nothing_is_readable(fake_clock):
    clock = fake_clock("fermbench.bench.session")
    blind = ScriptedTarget(clock, [(0, Environment())])
    assert session(30.0).settle(blind, Environment()) == 0.0
    assert clock.sleeps == [] and blind.reads == 1
