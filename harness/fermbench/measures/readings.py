"""What a runner reads of the process and the device at a moment: memory, thermal and battery,
foreground. One type each, used by the runner protocol (its result), the store (a repeat's record)
and the report; the field names are the runner's JSON keys and the stored keys alike."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class MemoryReading:
    """One memory reading in KiB; a counter the platform cannot read is None."""

    pss_kb: int | None = None  # proportional set size (Debug.MemoryInfo.getTotalPss, smaps_rollup Pss)
    rss_kb: int | None = None  # resident set size
    native_heap_kb: int | None = None  # bytes malloc'ed (Debug.getNativeHeapAllocatedSize / mallinfo2)
    peak_rss_kb: int | None = None  # VmHWM: the process's largest RSS so far (the host resets it per run)

    def counter_kb(self, counter: str) -> int | None:
        """The reading of a headline counter named as a record names it: PSS or RSS (any case)."""
        value: int | None = getattr(self, f"{counter.lower()}_kb")
        return value


@dataclass
class EnvReading:
    """Thermal and battery state; None where not available (the host), with a note saying why."""

    thermal_status: int | None = None  # PowerManager.THERMAL_STATUS_* (API 29+): 0 none ... 6 shutdown
    thermal_status_name: str | None = None  # none, light, moderate, severe, critical, emergency, shutdown
    battery_temp_c: float | None = None  # battery temperature, degrees C
    battery_level_pct: int | None = None  # battery charge, percent
    charging: bool | None = None
    note: str | None = None  # why a value is missing (e.g. "not available on host")


@dataclass
class Foreground:
    """Whether the run held the foreground, read just before the timed loop (classify: its loop).

    On Android an opaque isolation activity keeps the process the top app, as AndroidX Benchmark
    does, so big.LITTLE schedulers give it the big cores; None where there is no activity manager.
    """

    isolation_activity: bool | None = None  # the opaque activity was started and shown
    importance: int | None = None  # ActivityManager.RunningAppProcessInfo.importance (100 = foreground)
    importance_name: str | None = None  # foreground, foreground_service, visible, perceptible, service, cached, ...
    sustained_performance_supported: bool | None = None  # PowerManager.isSustainedPerformanceModeSupported (API 24+)
    sustained_performance_enabled: bool | None = None  # the activity's window asked for it
    note: str | None = None  # why a value is missing (e.g. the host has no such thing)
