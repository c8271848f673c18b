"""The latency settings, defined once: one row per setting, one name everywhere.

A row's `name` is the `fermbench run` option (`--min-seconds`), the config-file key
(`min_seconds`), the runner's `-e` argument (`-e min_seconds 1.0`, android-runner/PROTOCOL.md),
the field of the stored `LatencySettings` and of the runners' parsed settings. From this table
come the bench settings (bench/settings.py), the protocol's defaults and range checks
(runner/protocol.py), and the Java runner's defaults (`python -m fermbench.runner.gen_java`
writes ProtocolTable.java; a test regenerates it and compares the bytes).

Rule (TFLite benchmark_model-like): warm-up and timed phases each go on until BOTH their count
and their minimum time are reached, and stop anyway at max_iterations or max_seconds.

This module is at the bottom of the package: it imports only labels.py (no step of the pipeline).
"""

from __future__ import annotations

from dataclasses import dataclass

from .labels import INPUT_SHAPE

Number = int | float


@dataclass(frozen=True)
class LatencySetting:
    """One latency setting: its name, type, default, inclusive range, unit and help."""

    name: str  # the CLI option (dashes), config key, wire key and stored field alike
    kind: type[int] | type[float]  # int: a whole number; float: a decimal
    default: Number
    minimum: Number
    maximum: Number
    unit: str
    help: str
    user: bool = True  # a `fermbench run` option and config key; False: a runner argument only

    @property
    def flag(self) -> str | None:
        """The `fermbench run` option, or None for a runner-only argument."""
        return "--" + self.name.replace("_", "-") if self.user else None

    @property
    def config_key(self) -> str | None:
        return self.name if self.user else None

    @property
    def wire_key(self) -> str:
        """The runner's `-e` key."""
        return self.name

    def wire(self, value: Number) -> str:
        """The value as the host sends it: a whole number, or the shortest decimal of the float."""
        return str(int(value)) if self.kind is int else repr(float(value))

    @property
    def wire_default(self) -> str:
        return self.wire(self.default)


# The runner refuses more threads than this; the setting's range is the runner's.
MAX_THREADS = 64
_MAX_COUNT = 10_000_000  # iterations per phase: the timed-sample buffer is at most 80 MB
_MAX_PHASE_SECONDS = 3600.0

LATENCY_SETTINGS: tuple[LatencySetting, ...] = (
    LatencySetting("warmup", int, 10, 0, _MAX_COUNT, "iterations", "warm-up iterations"),
    LatencySetting("warmup_seconds", float, 0.5, 0.0, _MAX_PHASE_SECONDS, "seconds", "minimum warm-up time"),
    LatencySetting("iterations", int, 50, 1, _MAX_COUNT, "iterations", "minimum timed iterations"),
    LatencySetting("min_seconds", float, 1.0, 0.0, _MAX_PHASE_SECONDS, "seconds", "minimum timed-phase time"),
    LatencySetting(
        "max_iterations",
        int,
        100_000,
        1,
        _MAX_COUNT,
        "iterations",
        "cap on iterations, per phase (at least iterations)",
        user=False,
    ),
    LatencySetting("max_seconds", float, 60.0, 0.001, _MAX_PHASE_SECONDS, "seconds", "timed phase stops here"),
    LatencySetting(
        "target_precision",
        float,
        0.0,
        0.0,
        0.5,
        "(a fraction of the median)",
        "time on past the minimums until the median's 95% interval is within this fraction of "
        "the median (0.01: +-1%), or max_seconds; 0: off",
    ),
    LatencySetting("threads", int, 1, 1, MAX_THREADS, "threads", "runtime threads"),
)
LATENCY = {row.name: row for row in LATENCY_SETTINGS}
USER_LATENCY = tuple(row.name for row in LATENCY_SETTINGS if row.user)  # bench Settings and stored fields

# Not a setting of `fermbench run`: the runner's default input, the FER-2013 model's N,C,H,W.
DEFAULT_INPUT_SHAPE = ",".join(str(d) for d in INPUT_SHAPE)
