"""The cool-down between models: wait for thermal status none and the battery back near its
start temperature, never longer than cooldown_seconds, not at all where nothing is readable."""

from __future__ import annotations

import time

from fermbench.bench.session import BenchmarkSession
from fermbench.bench.settings import build_settings
from fermbench.bench.targets import Environment, Target


class ScriptedTarget(Target):
    """environment() answers from a script of (seconds from start, Environment)."""

    serial = "scripted"

    def __init__(self, script):
        self.script, self.t0 = script, time.monotonic()

    def environment(self) -> Environment:
        now = time.monotonic() - self.t0
        return [env for at, env in self.script if at <= now][-1]

    # The cool-down reads the environment only: anything else is a test bug.
    def describe(self):
        raise AssertionError("not used by the cool-down")

    def put_file(self, local, name):
        raise AssertionError("not used by the cool-down")

    def _instrument(self, extras, timeout):
        raise AssertionError("not used by the cool-down")

    def _fetch(self, path):
        raise AssertionError("not used by the cool-down")


def session(cooldown: float) -> BenchmarkSession:
    return BenchmarkSession(store=None, settings=build_settings(cooldown_seconds=cooldown), targets=[], variants=[],
                            images={}, files={})


def test_waits_until_thermal_status_clears(monkeypatch):
    monkeypatch.setattr("fermbench.bench.session.SETTLE_POLL_S", 0.05)
    target = ScriptedTarget([(0, Environment(thermal_status=2, battery_temp_c=30.0)),
                             (0.3, Environment(thermal_status=0, battery_temp_c=30.0))])
    waited = session(5.0).settle(target, Environment(thermal_status=0, battery_temp_c=30.0))
    assert 0.25 <= waited < 1.5


def test_waits_for_battery_to_come_back_near_its_start(monkeypatch):
    monkeypatch.setattr("fermbench.bench.session.SETTLE_POLL_S", 0.05)
    target = ScriptedTarget([(0, Environment(thermal_status=0, battery_temp_c=33.0)),
                             (0.3, Environment(thermal_status=0, battery_temp_c=30.8))])
    waited = session(5.0).settle(target, Environment(battery_temp_c=30.0))
    assert 0.25 <= waited < 1.5


def test_bounded_by_cooldown_seconds(monkeypatch):
    monkeypatch.setattr("fermbench.bench.session.SETTLE_POLL_S", 0.05)
    hot = ScriptedTarget([(0, Environment(thermal_status=3, battery_temp_c=45.0))])
    waited = session(0.4).settle(hot, Environment(battery_temp_c=30.0))
    assert 0.35 <= waited < 1.0


def test_no_wait_where_nothing_is_readable():
    blind = ScriptedTarget([(0, Environment())])
    assert session(30.0).settle(blind, Environment()) < 0.1
