"""The latency-repeat metric table, in the manner of pyperf's metadata registry: each metric's
name, type, unit, how the repeats of one model combine, and how it prints, written once.

A row is either *measured* (the runner writes it under its name, the store keeps it under the
same name in `LatencyRepeat.metrics`, the report and its CSV/JSON column use that name too) or
*derived* (the report computes it from a stored repeat's other fields). Adding a measured metric
is one row here plus its measurement in the runners (runner/host.py, the Java `Platform`); the
protocol parser, the codec, the report's columns and its warnings read this table.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

MISSING = "–"  # an en dash: no value (phase skipped, failed, or not measured)

Number = int | float
Aggregate = Literal["median", "max", "sum", "first"]


def _median(values: Sequence[Number]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return float(ordered[mid]) if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


AGGREGATES: dict[Aggregate, Callable[[Sequence[Number]], Number]] = {
    "median": _median,  # the typical repeat
    "max": max,  # the worst repeat (a count of bad events)
    "sum": sum,
    "first": lambda values: values[0],
}


def fmt_ms(v: Number | None) -> str:
    return MISSING if v is None or math.isnan(v) else f"{v:.3f}"


def fmt_int(v: Number | None) -> str:
    return MISSING if v is None or math.isnan(v) else f"{int(v):,}"


def fmt_mib_from_kb(v: Number | None) -> str:
    """Memory counters are in KiB (Android's PSS/RSS); shown in MiB, one decimal."""
    return MISSING if v is None or math.isnan(v) else f"{v / 1024:.1f}"


def fmt_kib_from_bytes(v: Number | None) -> str:
    return MISSING if v is None or math.isnan(v) else f"{v / 1024:,.1f} KiB"


@dataclass(frozen=True)
class Metric:
    """One row of the table."""

    name: str  # the runner's key, the record's key, the report's column: one name everywhere
    kind: type  # int or float: what the runner must send (None where it cannot measure it)
    unit: str  # ms, KiB, bytes, count, threads
    aggregate: Aggregate  # how the repeats of one model combine: median, max (the worst repeat), sum, first
    fmt: Callable[[Number | None], str]  # how a value prints in the report's tables and warnings
    doc: str  # one line: what it is
    header: str | None = None  # the latency table's column header; None: CSV/JSON (and warnings) only
    derive: Callable[[Any], Number | None] | None = None  # derived: the value from a stored LatencyRepeat
    warn_above: Number | None = None  # an aggregate above this is said under the table...
    warning: str = ""  # ...as this message ({value} is the formatted aggregate)
    advice: str = ""

    @property
    def measured(self) -> bool:
        return self.derive is None

    def combine(self, values: Sequence[Number | None]) -> Number | None:
        """The repeats' values as one number (None where no repeat has one)."""
        clean = [v for v in values if v is not None]
        if not clean:
            return None
        combined = AGGREGATES[self.aggregate](clean)
        return int(combined) if self.kind is int else float(combined)

    def warns(self, value: Number | None) -> bool:
        return value is not None and self.warn_above is not None and value > self.warn_above


def _memory(read: Callable[[Any], Number | None]) -> Callable[[Any], Number | None]:
    """A derived memory figure of a repeat; None where the repeat stored no memory."""
    return lambda repeat: read(repeat.memory) if repeat.memory is not None else None


def _first(*values: Number | None) -> Number | None:
    return next((v for v in values if v is not None), None)


def _delta(after: Number | None, before: Number | None) -> float | None:
    return None if after is None or before is None else float(after - before)


METRICS: tuple[Metric, ...] = (
    Metric(
        "threads",
        int,
        "threads",
        "median",
        fmt_int,
        "threads the runtime used",
        header="Threads",
        derive=lambda r: r.threads,
    ),
    Metric(
        "runtime_load_ms",
        float,
        "ms",
        "median",
        fmt_ms,
        "loading the runtime's native library",
        header="Runtime load",
        derive=lambda r: r.runtime_load_ms,
    ),
    Metric(
        "load_ms", float, "ms", "median", fmt_ms, "loading the model file", header="Load", derive=lambda r: r.load_ms
    ),
    Metric(
        "first_inference_ms",
        float,
        "ms",
        "median",
        fmt_ms,
        "the first forward after load",
        header="First",
        derive=lambda r: r.first_inference_ms,
    ),
    Metric(
        "mem_runtime_kb",
        float,
        "KiB",
        "median",
        fmt_mib_from_kb,
        "memory the runtime library added",
        header="Mem runtime MiB",
        derive=_memory(lambda m: _delta(m.kb("after_runtime"), m.kb("before_load"))),
    ),
    Metric(
        "mem_load_kb",
        float,
        "KiB",
        "median",
        fmt_mib_from_kb,
        "memory the model added (schema 1: with the runtime)",
        header="Mem load MiB",
        derive=_memory(lambda m: _delta(m.kb("after_load"), _first(m.kb("after_runtime"), m.kb("before_load")))),
    ),
    Metric(
        "mem_run_kb",
        float,
        "KiB",
        "median",
        fmt_mib_from_kb,
        "memory after the timed loop minus before load",
        header="Mem run MiB",
        derive=_memory(lambda m: _delta(m.kb("after_run"), m.kb("before_load"))),
    ),
    Metric(
        "peak_rss_kb",
        float,
        "KiB",
        "median",
        fmt_mib_from_kb,
        "the runner process's largest RSS (VmHWM)",
        header="Peak RSS MiB",
        derive=_memory(lambda m: m.peak_rss_kb),
    ),
    Metric(
        "gc_count_timed",
        int,
        "count",
        "max",
        fmt_int,
        "garbage collections during the timed loop (Android: ART's count; the host pauses its collector)",
        warn_above=0,
        warning="timed loop collected garbage {value} time(s) in a repeat",
        advice="a collection lands in a sample: compare the median with p90 and rerun on a quieter device",
    ),
    Metric(
        "native_heap_growth_timed",
        int,
        "bytes",
        "max",
        fmt_kib_from_bytes,
        "native heap allocated after the timed loop minus before it (Android: Debug.getNativeHeapAllocatedSize; "
        "host: glibc mallinfo2)",
        warn_above=1 << 20,
        warning="timed loop grew the native heap by {value} in a repeat",
        advice="the runtime allocated while it was timed (caches, leaked outputs): check the model and runtime",
    ),
)
BY_NAME: dict[str, Metric] = {m.name: m for m in METRICS}
MEASURED: tuple[Metric, ...] = tuple(m for m in METRICS if m.measured)


def check_measured(name: str, value: Any) -> str | None:
    """Why a runner's value for a measured metric is wrong, or None when it is fine."""
    kind = BY_NAME[name].kind
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (kind is int and not isinstance(value, int)):
        return f"{name} must be {'a whole number' if kind is int else 'a number'} or null, not {value!r}"
    return None
