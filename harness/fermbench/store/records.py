"""The typed results of a session: one Record per (device, model) and its phases, and the
session's own facts (SessionInfo). These dataclasses are the results schema: they are written
and read only through `store.codec`, their field names are the JSON keys, and the report and
the run summary read the same fields. results/README.md documents them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from .. import runtimes
from ..latency_settings import USER_LATENCY
from ..measures.metrics import MEASURED
from ..measures.readings import EnvReading, Foreground, MemoryReading
from ..stats import LatencySummary
from .codec import INLINE, OMIT_NONE
from .identity import ExportIdentity

# 3: a repeat's memory, thermal and foreground are the runner's readings (measures/readings.py);
# 2: records per (device, model, runtime, quant); 1 and 2 are read and migrated (store/migrate.py)
SCHEMA_VERSION = 3
SUPPORTED_SCHEMA_VERSIONS = (1, 2, 3)
LITE_FP32 = (runtimes.BASELINE.default_version, "fp32")  # what every schema-1 session ran

# Session status values. "running" on disk after the process died means it was killed.
RUNNING, COMPLETE, PARTIAL, FAILED, INTERRUPTED = "running", "complete", "partial", "failed", "interrupted"
# Phase and record status values.
OK, PHASE_FAILED, SKIPPED = "ok", "failed", "skipped"
FAILED_PHASES = "failed phases: "  # how a record's `error` names its failed phases


class PhaseName(str, Enum):
    """The phases of a record. A str, so that it is stored, logged and compared as its plain name;
    a name that is none of these is an error (`PhaseName("x")` raises ValueError)."""

    LATENCY = "latency"
    ACCURACY = "accuracy"
    REALWORLD = "realworld"
    APPSIZE = "appsize"

    def __str__(self) -> str:  # "latency", not "PhaseName.LATENCY", in labels and f-strings
        return self.value


PHASES = tuple(p.value for p in PhaseName)


# ------------------------------------------------------------------------------------ phases


@dataclass
class Phase:
    """What every phase has. A failed phase has only these; a skipped one says why in `reason`."""

    status: str = PHASE_FAILED  # ok | failed | skipped
    error: str | None = None  # why it failed, one line
    finished: str | None = None  # ISO time the phase ended
    reason: str | None = None  # why it was skipped
    model_sha256: str | None = None  # sha256 of the model file this phase measured (null: written before it was kept)

    @property
    def ok(self) -> bool:
        return self.status == OK


@dataclass
class LatencySettings:
    """The latency settings a repeat ran with (bench.settings.Settings names)."""

    warmup: int  # warm-up iterations (at least)
    warmup_seconds: float  # warm-up time (at least)
    iterations: int  # timed iterations (at least)
    min_seconds: float  # timed-phase time (at least)
    max_seconds: float  # the timed phase stops here whatever the count
    threads: int  # runtime threads asked for
    target_precision: float | None = None  # the median's interval asked for (fraction); None: off, or stored before it

    @classmethod
    def of(cls, settings: Any) -> LatencySettings:
        """From anything carrying the latency table's names as attributes (bench Settings, RunSettings):
        the fields are the table's user rows (fermbench.latency_settings; a test checks them)."""
        values = {name: getattr(settings, name) for name in USER_LATENCY}
        return cls(**{**values, "target_precision": values["target_precision"] or None})


@dataclass
class TimingInput:
    """What every forward of a repeat was fed: the runner protocol's fixed pattern (the same in
    both runners), named, versioned and hashed, so two repeats can be shown to time the same input."""

    shape: list[int]  # the input's shape, as the runner fed it
    dtype: str  # the model's input type: float32, or int8 (its runner quantised the pattern for it)
    pattern: str  # the pattern's name (runner/protocol.py LATENCY_INPUT_PATTERN): ramp37
    pattern_version: int  # its version: another pattern is another version
    sha256: str  # of the pattern's float32 values (little-endian, row-major), before any quantisation


@dataclass
class Memory:
    """Memory of the runner process around load and run, each a reading of every counter in KiB;
    `counter` names the headline counter (PSS or RSS) that the report's memory figures use."""

    counter: str  # PSS or RSS: the headline counter of the readings below
    source: str  # where the runner read it (e.g. Debug.MemoryInfo, /proc/self/smaps_rollup)
    before_load: MemoryReading | None = None  # before the runtime library (and the model) is loaded
    after_runtime: MemoryReading | None = None  # runtime library loaded, no model yet
    after_load: MemoryReading | None = None  # after the model is loaded
    after_run: MemoryReading | None = None  # after the timed loop (its peak_rss_kb: the run's largest RSS)

    def kb(self, point: str) -> int | None:
        """The headline counter at one point (before_load, after_runtime, after_load, after_run)."""
        reading: MemoryReading | None = getattr(self, point)
        return None if reading is None else reading.counter_kb(self.counter)

    @property
    def peak_rss_kb(self) -> int | None:
        """The process's largest RSS during the run (VmHWM after the timed loop)."""
        return self.after_run.peak_rss_kb if self.after_run is not None else None


@dataclass
class Thermal:
    """Thermal status and battery before and after a repeat, as the runner read them."""

    before: EnvReading | None = None  # before the model was loaded
    after: EnvReading | None = None  # after the timed loop

    def statuses(self) -> list[int]:
        """The thermal statuses read (0 none ... 6 shutdown), unreadable ones left out."""
        return [e.thermal_status for e in (self.before, self.after) if e is not None and e.thermal_status is not None]


@dataclass
class RuntimeUsed:
    """The runtime and runner that measured a repeat."""

    name: str  # pytorch_lite, ...
    version: str  # the runtime library's version
    runner: str  # android | host
    runner_version: str  # the runner app's (or fermbench's, for the host runner) version


@dataclass
class LatencyRepeat(Phase):
    """One latency repeat (`--repeats`): what the runner measured, summarised, with its context."""

    repeat: int | None = None  # 0, 1, ... (one record holds every repeat)
    settings: LatencySettings | None = None  # what it was asked to do
    threads: int | None = None  # threads the runtime used
    summary: LatencySummary | None = None  # stats.summarize_ns of the timed samples (ns)
    samples: str | None = None  # the raw samples' CSV, relative to the session folder
    runtime_load_ms: float | None = None  # loading the runtime's native library (and setting its threads)
    runtime_preloaded: bool | None = None  # the runtime was already in the process (host, simulated phone)
    load_ms: float | None = None  # loading the model file into the runtime
    first_inference_ms: float | None = None  # the first forward after load, on its own
    warmup_count: int | None = None  # warm-up iterations run
    warmup_ms: float | None = None  # their total time
    timed_ms: float | None = None  # wall time of the timed phase
    stop_reason: str | None = None  # count_and_time | precision (--target-precision met) | max_runs | max_s
    memory: Memory | None = None  # memory around load and run
    thermal: Thermal | None = None  # thermal and battery around the repeat
    runtime: RuntimeUsed | None = None  # what measured it
    foreground: Foreground | None = None  # was the runner the top app, in sustained-performance mode
    thread_priority: int | None = None  # the benchmark thread's priority (nice) in the loops (None: not raised)
    runner_seconds: float | None = None  # wall time of the whole runner call, seen from the host
    cooldown_seconds: float | None = None  # the wait before this repeat (thermal status, battery)
    timing_input: TimingInput | None = field(default=None, metadata={OMIT_NONE: True})  # what it timed on (old: none)
    # The metric table's measured rows (measures/metrics.py), stored as top-level keys of the repeat
    # under their own names (gc_count_timed, ...); a missing one was not measured by that fermbench.
    metrics: dict[str, int | float | None] = field(
        default_factory=dict, metadata={INLINE: tuple(m.name for m in MEASURED)}
    )


@dataclass
class AccuracyPhase(Phase):
    """FER-2013 classified on the device, compared with the labels and with the host."""

    dataset: str | None = None  # fer2013
    split: str | None = None  # PublicTest, PrivateTest or Training
    source: str | None = None  # the FER-2013 folder or CSV it came from
    limit: int | None = None  # --fer-limit: N images spread evenly over the split, or null for all
    n: int | None = None  # images classified
    device_accuracy: float | None = None  # top-1 on the device, 0..1
    host_accuracy: float | None = None  # top-1 of the same file on the host
    agreement: float | None = None  # device and host predict the same class
    disagreements: int | None = None  # images where device and host differ
    predictions: str | None = None  # per-image CSV, relative to the session folder
    runner_seconds: float | None = None  # wall time of the classify call


@dataclass
class PhotoCounts:
    """What happened to the photos: every photo is counted once in `photos`."""

    photos: int  # photos found
    classified: int  # with a face that the model classified
    no_face: int  # no face found
    multi_face: int  # several faces (classified or skipped, as the policy says)
    undecodable: int  # not a readable image


@dataclass
class RealworldPhase(Phase):
    """Labelled photos -> Haar face crop -> 48x48 -> the model on the device."""

    source: str | None = None  # the photo folder or CSV
    policy: str | None = None  # largest | skip (photos with several faces)
    counts: PhotoCounts | None = None  # photos by what happened to them
    no_face_photos: list[str] = field(default_factory=list)  # names, relative to the photo folder
    multi_face_photos: list[str] = field(default_factory=list)
    multi_face_skipped_photos: list[str] = field(default_factory=list)  # policy skip: not classified
    undecodable_photos: list[str] = field(default_factory=list)
    undecodable_reasons: dict[str, str | None] = field(default_factory=dict)  # name -> why
    accuracy: float | None = None  # of the classified photos
    accuracy_all_photos: float | None = None  # unclassified photos counted as wrong
    host_accuracy: float | None = None  # the same crops on the host
    agreement: float | None = None  # device and host predict the same class
    predictions: str | None = None  # per-photo CSV, relative to the session folder


@dataclass
class AppSizePhase(Phase):
    """App size: the runner APK with the model bundled, or the model file alone without an APK."""

    kind: str | None = None  # apk | model_only
    model_bytes: int | None = None  # the exported model file
    apk: str | None = None  # the runner APK measured (--apk)
    apk_bytes: int | None = None  # its size
    apk_with_model_bytes: int | None = None  # with the model added as an uncompressed, aligned asset
    model_asset_bytes: int | None = None  # the asset's stored size (== model_bytes: uncompressed)
    model_asset_offset: int | None = None  # where its data starts in the APK (a multiple of 4)
    model_share: float | None = None  # model asset / APK with the model
    runtime_bytes_by_abi: dict[str, int] = field(default_factory=dict)  # compressed, in the APK
    runtime_uncompressed_by_abi: dict[str, int] = field(default_factory=dict)
    runtime_share_by_abi: dict[str, float] = field(default_factory=dict)
    # An APK split for one ABI (what a store delivers to one phone): the APK with the model
    # minus the other ABIs' native libraries.
    single_abi_bytes: dict[str, int] = field(default_factory=dict)
    installed_bytes: int | None = None  # on the device, when the installed runner is this APK
    installed_note: str | None = None  # how installed_bytes was read, or why it is missing


PHASE_TYPES: dict[str, type[Phase]] = {
    PhaseName.LATENCY: LatencyRepeat,
    PhaseName.ACCURACY: AccuracyPhase,
    PhaseName.REALWORLD: RealworldPhase,
    PhaseName.APPSIZE: AppSizePhase,
}


# ------------------------------------------------------------------------------------ record


def variant_key(model: str, runtime: str, quant: str) -> str:
    """How a session names one exported file: shallow_cnn/executorch-1.4.1/int8."""
    return f"{model}/{runtime}/{quant}"


@dataclass(frozen=True, order=True)
class Variant:
    """One thing a session measures: a model exported for a runtime at a quantisation."""

    model: str
    runtime: str  # an export runtime name: pytorch_android_lite-2.1.0, executorch-1.4.1, ...
    quant: str  # fp32 | int8

    @property
    def key(self) -> str:
        return variant_key(self.model, self.runtime, self.quant)

    @property
    def label(self) -> str:
        """How a person reads it: 'shallow_cnn (executorch-1.4.1, int8)'."""
        return f"{self.model} ({self.runtime}, {self.quant})"


@dataclass
class Record:
    """The results of one model on one device; written to records/<device>/<model>.json."""

    device: str  # the device key (serial, host, sim)
    model: str  # the model's name
    runtime: str = LITE_FP32[0]  # the runtime it was exported for (export/runtimes.py)
    quant: str = LITE_FP32[1]  # fp32 | int8
    schema_version: int = SCHEMA_VERSION
    status: str = RUNNING  # ok (every planned phase ok or skipped) | failed | skipped | interrupted | running
    error: str | None = None  # the failed phases, or why the whole record failed
    failed_phases: list[str] = field(default_factory=list)  # e.g. latency[0]; empty: the whole record failed
    updated: str | None = None  # ISO time of the last write
    latency: list[LatencyRepeat] = field(default_factory=list)  # one per repeat
    accuracy: AccuracyPhase | None = None  # FER-2013 on the device
    realworld: RealworldPhase | None = None  # photos on the device
    appsize: AppSizePhase | None = None  # APK (or model file) size

    @property
    def variant(self) -> Variant:
        return Variant(self.model, self.runtime, self.quant)

    @property
    def key(self) -> str:
        """The variant's key, as session.json's `models` and the pandas frames name it."""
        return variant_key(self.model, self.runtime, self.quant)

    def phase(self, phase: str, repeat: int | None = None) -> Phase | None:
        if phase == "latency":
            return next((r for r in self.latency if r.repeat == repeat), None)
        if phase not in PHASES:
            raise ValueError(f"unknown phase {phase!r}")
        found: Phase | None = getattr(self, phase)
        return found

    def phase_done(self, phase: str, repeat: int | None = None) -> bool:
        """True when that phase (or latency repeat) finished ok; failed phases are run again."""
        found = self.phase(phase, repeat)
        return found is not None and found.ok

    def set_phase(self, phase: str, result: Phase, finished: str, repeat: int | None = None) -> None:
        if not isinstance(result, PHASE_TYPES[phase]):
            raise TypeError(f"{phase} takes a {PHASE_TYPES[phase].__name__}, not {type(result).__name__}")
        result.finished = finished
        if isinstance(result, LatencyRepeat):
            result.repeat = repeat
            rest = [r for r in self.latency if r.repeat != repeat]
            self.latency = sorted(rest + [result], key=lambda r: r.repeat or 0)
        else:
            setattr(self, phase, result)

    def drop_phase(self, phase: str, repeat: int | None = None) -> None:
        """Forget a phase that did not finish ok: under --shard another device of the pool runs it."""
        if phase == "latency":
            self.latency = [r for r in self.latency if r.repeat != repeat]
        else:
            setattr(self, phase, None)

    def phases(self) -> list[tuple[str, int | None, Phase]]:
        """Every stored phase with its name and repeat."""
        out: list[tuple[str, int | None, Phase]] = [("latency", r.repeat, r) for r in self.latency]
        return out + [(p, None, found) for p in PHASES[1:] if (found := getattr(self, p)) is not None]

    def measured_files(self) -> set[str]:
        """The sha256 of every model file a stored phase measured (phases written before it was kept: none)."""
        return {ph.model_sha256 for _, _, ph in self.phases() if ph.model_sha256}

    def keep_file(self, sha256: str | None) -> list[str]:
        """Drop every phase that measured another file than `sha256`, so that one row never shows
        two files; returns the dropped phases' names (a reader says they are missing)."""
        if not sha256:
            return []
        dropped = []
        for phase, repeat, found in self.phases():
            if found.model_sha256 and found.model_sha256 != sha256:
                self.drop_phase(phase, repeat)
                dropped.append(phase if repeat is None else f"{phase}[{repeat}]")
        return dropped

    def __post_init__(self) -> None:
        # A file written before `failed_phases` was kept has its list only in the error's text.
        if (
            not self.failed_phases
            and self.status == PHASE_FAILED
            and self.error
            and self.error.startswith(FAILED_PHASES)
        ):
            self.failed_phases = self.error.removeprefix(FAILED_PHASES).split(", ")

    def fail(self, error: str) -> None:
        """The whole record failed (e.g. export or a lost device) before or between phases."""
        self._end(PHASE_FAILED, error)

    def skip(self, why: str) -> None:
        """The device cannot run this variant (its runner flavor is missing, 16 KB pages, ...)."""
        self._end(SKIPPED, why)

    def interrupt(self, why: str) -> None:
        """The session stopped while this record's phases ran (Ctrl-C, SIGTERM): not a failure."""
        self._end(INTERRUPTED, why)

    def reopen(self) -> None:
        """Clear a record-level failure or interruption before its phases run again (--resume)."""
        self._end(RUNNING, None)

    def _end(self, status: str, why: str | None) -> None:
        """A status of the whole record: it stands until reopen(), whatever its phases say."""
        self.status = status
        self.error = why
        self.failed_phases = []

    def finish(self, planned: Sequence[tuple[str, int | None]]) -> None:
        """Set the record's status from its phases: ok when every planned phase is ok. A failure of
        the whole record (an error with no failed phase) stands."""
        if self.error and not self.failed_phases:
            self.status = PHASE_FAILED
            return
        states = [(found.status if (found := self.phase(p, r)) else None) for p, r in planned]
        self.failed_phases = [
            f"{p}[{r}]" if r is not None else str(p) for (p, r), s in zip(planned, states) if s == PHASE_FAILED
        ]
        self.error = FAILED_PHASES + ", ".join(self.failed_phases) if self.failed_phases else None
        if self.failed_phases:
            self.status = PHASE_FAILED
        elif all(s in (OK, SKIPPED) for s in states):
            self.status = OK
        else:
            self.status = RUNNING


# ------------------------------------------------------------------------------------ session


@dataclass
class Harness:
    """The fermbench that wrote the session."""

    version: str  # fermbench's version
    git_revision: str | None = None  # ends in -dirty with uncommitted changes; None outside git


@dataclass
class RunnerInfo:
    """What the runner on a device said about itself (`info`), and the installed package."""

    runner_kind: str | None = None  # android | host
    runner_version: str | None = None  # the runner's own version
    protocol_version: int | None = None  # of android-runner/PROTOCOL.md
    runtime: str | None = None  # pytorch_lite, ...
    runtime_version: str | None = None
    bytecode_min: int | None = None  # lite-interpreter bytecode versions the runtime reads (Lite)
    bytecode_max: int | None = None
    pte_identifiers: list[str] = field(default_factory=list)  # .pte formats it reads (ExecuTorch), e.g. ET12
    abis: list[str] = field(default_factory=list)  # ABIs the runner was built for
    facts: dict[str, Any] = field(default_factory=dict)  # what the app sees of the device
    package_version: str | None = None  # versionName of the installed runner package
    page_size: int | None = None  # the device's memory page size in bytes, as the runner reads it


@dataclass
class SessionDevice:
    """A device of the session: who it is, what preflight said, and whether it ran."""

    serial: str  # the device key: adb serial (HOST:PORT/SERIAL on another adb server), host, or sim / sim2 ...
    slug: str  # its file-name-safe form, the folder name under records/ and samples/
    kind: str | None = None  # android | sim | host; None when it could not be opened
    status: str | None = None  # ok | failed (refused by preflight, or lost mid-session)
    error: str | None = None  # why it failed
    identity: dict[str, Any] = field(default_factory=dict)  # model, manufacturer, soc, abis, release, sdk, fingerprint
    properties: dict[str, Any] = field(default_factory=dict)  # every fact the device layer read
    runners: dict[str, RunnerInfo] = field(default_factory=dict)  # per runner runtime (pytorch_lite, executorch)
    tags: list[str] = field(default_factory=list)  # emulator, debuggable, simulated, host
    warnings: list[str] = field(default_factory=list)  # preflight warnings, with their fixes


@dataclass
class SessionInfo:
    """session.json: the session's settings, status, devices and models."""

    session_id: str  # the folder name: YYYYmmdd-HHMMSS-xxxx
    harness: Harness  # which fermbench wrote it
    created: str  # ISO-8601 UTC
    updated: str  # ISO-8601 UTC of the last write
    schema_version: int = SCHEMA_VERSION
    status: str = RUNNING  # running (or killed) | interrupted | complete | partial | failed
    resumed: list[str] = field(default_factory=list)  # times it was resumed with --resume
    settings: dict[str, Any] = field(default_factory=dict)  # bench.settings.Settings, as stored
    seed: int | None = None  # of the randomised model order
    order: dict[str, dict[str, list[str]]] = field(default_factory=dict)  # serial -> repeat -> models
    devices: dict[str, SessionDevice] = field(default_factory=dict)  # device key -> device
    models: dict[str, dict[str, Any]] = field(default_factory=dict)  # variant key -> the exporter's meta
    totals: dict[str, float] | None = None  # where the wall time went, set when the session ends
    error: str | None = None  # why the session failed or stopped (e.g. no space left for results)
    adb_servers: list[str] = field(default_factory=list)  # HOST:PORT of every adb server it used; --resume asks them
    adb_local_server: str | None = None  # the one whose devices are keyed by bare serial (others: HOST:PORT/SERIAL)

    def identity(self, key: str) -> ExportIdentity:
        """The typed identity of a variant's exported file (all None where the session has no meta)."""
        return ExportIdentity.from_meta(self.models.get(key), f"session.json models[{key!r}]")
