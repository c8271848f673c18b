"""The host implementation of the runner: the protocol of android-runner/PROTOCOL.md, in Python.

It runs a .ptl with the host's lite interpreter (the interpreter pytorch_android_lite wraps) or a
.pte with ExecuTorch's Python runtime (runner/engines.py), and prints exactly what
`am instrument -w -r` would print. Two callers:
  - the simulated phone's `am instrument`, which maps device paths to its storage folder;
  - `fermbench run --device host` (a host-CPU baseline), through `run_host`.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import hashlib
import os
import platform
import threading
import time
from array import array
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .. import __version__
from ..errors import RunnerError
from ..fileio import atomic_write_bytes, sha256_file
from ..labels import NORM_MEAN, NORM_STD
from ..tempdirs import temp_dir
from . import protocol as p
from .engines import Engine, first_line, is_oom, make_engine
from .instrument_output import parse_instrument_output

HOST_NOTE = "not available on host"
HOST_FOREGROUND_NOTE = "host process: no Android activity manager, the host's scheduler decides"
MEMORY_SOURCE = "/proc/self/smaps_rollup (Pss, Rss); /proc/self/status VmHWM {peak}; mallinfo2 (native heap)"

Environment = Callable[[], dict[str, Any]]  # returns EnvReading fields (thermal, battery)


class _Cancelled(Exception):
    """The caller set `cancel`: behave like a runner process that was killed."""


# ----------------------------------------------------------------------------- output


class _Am:
    """Prints bundles the way `am instrument -r` does: keys sorted, one `key=value` per line."""

    def __init__(self, emit: Callable[[str], None]):
        self._emit = emit

    def status(self, code: int, values: dict[str, str]) -> None:
        bundle = {p.KEY_ID: p.RUNNER_ID, p.KEY_PROTOCOL: str(p.PROTOCOL_VERSION), **values}
        lines = [f"INSTRUMENTATION_STATUS: {k}={bundle[k]}" for k in sorted(bundle)]
        self._emit("\n".join(lines) + f"\nINSTRUMENTATION_STATUS_CODE: {code}\n")

    def phase(self, name: str) -> None:
        self.status(p.STATUS_PROGRESS, {p.KEY_PHASE: name})

    def error(self, code: str, message: str) -> None:
        self.status(p.STATUS_ERROR, {p.KEY_ERROR_CODE: code, p.KEY_ERROR_MESSAGE: message})

    def finish(self, values: dict[str, str], code: int) -> None:
        lines = [f"INSTRUMENTATION_RESULT: {k}={values[k]}" for k in sorted(values)]
        self._emit("\n".join(lines + [f"INSTRUMENTATION_CODE: {code}"]) + "\n")


# ----------------------------------------------------------------------------- measurements


class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena",
            "ordblks",
            "smblks",
            "hblks",
            "hblkhd",
            "usmblks",
            "fsmblks",
            "uordblks",
            "fordblks",
            "keepcost",
        )
    ]


def _native_heap_bytes() -> int | None:
    """Bytes malloc'ed now (glibc mallinfo2: in-use + mmapped), like Debug.getNativeHeapAllocatedSize;
    None where the C library has no mallinfo2 (musl, macOS, glibc before 2.33)."""
    try:
        fn = ctypes.CDLL(None).mallinfo2
    except (OSError, AttributeError):
        return None
    fn.restype = _MallInfo2
    info = fn()
    return int(info.uordblks + info.hblkhd)


def _native_heap_kb() -> int | None:
    heap = _native_heap_bytes()
    return None if heap is None else heap // 1024


def _proc_kb(path: str, keys: tuple[str, ...]) -> dict[str, int]:
    """`Key:   123 kB` lines of a /proc file, for the keys asked."""
    values: dict[str, int] = {}
    try:
        with open(path, encoding="ascii") as fh:
            for line in fh:
                key, _, rest = line.partition(":")
                if key in keys:
                    values[key] = int(rest.split()[0])
    except OSError:
        pass
    return values


def read_memory() -> p.MemoryReading:
    """PSS and RSS from /proc/self/smaps_rollup, peak RSS (VmHWM) from /proc/self/status (kB),
    native heap from malloc."""
    rollup = _proc_kb("/proc/self/smaps_rollup", ("Pss", "Rss"))
    peak = _proc_kb("/proc/self/status", ("VmHWM",))
    return p.MemoryReading(
        pss_kb=rollup.get("Pss"),
        rss_kb=rollup.get("Rss"),
        native_heap_kb=_native_heap_kb(),
        peak_rss_kb=peak.get("VmHWM"),
    )


def reset_peak_memory() -> bool:
    """Restart VmHWM from the current RSS (Linux clear_refs 5), so a run's peak is its own, not
    the host process's since it started; False where the kernel refuses."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as fh:
            fh.write("5")
    except OSError:
        return False
    return True


def _read_env(environment: Environment | None) -> p.EnvReading:
    if environment is None:
        return p.EnvReading(note=HOST_NOTE)
    return p.EnvReading(**{"note": None, **environment()})


def _host_foreground() -> p.Foreground:
    return p.Foreground(note=HOST_FOREGROUND_NOTE)


def _gc_count() -> int:
    """Collections of every generation so far in this process (Android reports ART's count)."""
    return sum(int(s["collections"]) for s in gc.get_stats())


# What the host reads just before and just after the timed loop, per measured row of the metric
# table (measures/metrics.py): the result's value is after minus before. A new metric is a row
# there and its reader here (and in the Java runner's Platform.loopCounters).
LOOP_COUNTERS: dict[str, Callable[[], int | None]] = {
    "gc_count_timed": lambda: _gc_count(),
    "native_heap_growth_timed": lambda: _native_heap_bytes(),
}


def _counter_growth(before: dict[str, int | None], after: dict[str, int | None]) -> dict[str, int | None]:
    grown: dict[str, int | None] = {}
    for name, start in before.items():
        end = after[name]
        grown[name] = None if start is None or end is None else end - start
    return grown


def _read_counters() -> dict[str, int | None]:
    return {name: read() for name, read in LOOP_COUNTERS.items()}


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def sample_buffer(iterations: int, max_iterations: int) -> array[int]:
    """Room for the timed samples, made before the first memory reading (as the Java runner does),
    so the buffer counts in no memory delta; it grows by doubling only past 2^20 samples."""
    return array("q", [0]) * min(max_iterations, max(iterations, 1 << 20))


@dataclass(frozen=True)
class LoopPhase:
    count: int  # iterations run
    wall_ns: int  # the phase's wall time
    stop_reason: str  # count_and_time, precision, max_runs or max_s (result values, unchanged since protocol 1)
    buffer: array[int] | None  # each iteration's time in its first `count` slots; None in warm-up

    def samples_ns(self) -> list[int]:
        """The kept samples as a list: make it after the last memory reading (it allocates)."""
        return [] if self.buffer is None else self.buffer[: self.count].tolist()


def timed_loop(
    step: Callable[[], Any],
    iterations: int,
    min_seconds: float,
    max_iterations: int,
    max_seconds: float,
    cancel: threading.Event | None = None,
    buffer: array[int] | None = None,
    target_precision: float = 0.0,
) -> LoopPhase:
    """Run `step` until iterations AND min_seconds are reached, or max_iterations / max_seconds
    (caps) come first: the same rule as the Java runner. With a target_precision (and a buffer), it goes on past the
    minimums until the median's interval is that precise (protocol.precision_reached, checked
    after every ~10% more samples): stop reason "precision". Samples go into `buffer`
    (sample_buffer) when one is given; without one (warm-up) none are kept."""
    clock = time.perf_counter_ns
    min_ns, max_ns = int(min_seconds * 1e9), int(max_seconds * 1e9)
    precise = target_precision > 0 and buffer is not None
    n = 0
    check_at = 0
    start = clock()
    while True:
        elapsed = clock() - start
        if n >= iterations and elapsed >= min_ns:
            if not precise:
                reason = "count_and_time"
                break
            if n >= check_at:
                assert buffer is not None
                if p.precision_reached(buffer, n, target_precision):
                    reason = "precision"
                    break
                check_at = p.next_precision_check(n)
        if n >= max_iterations:
            reason = "max_runs"
            break
        if elapsed >= max_ns:
            reason = "max_s"
            break
        if cancel is not None and cancel.is_set():
            raise _Cancelled()
        t0 = clock()
        step()
        dt = clock() - t0
        if buffer is not None:
            if n == len(buffer):
                buffer.extend(array("q", [0]) * (min(max_iterations, 2 * n) - n))
            buffer[n] = dt
        n += 1
    wall = clock() - start
    return LoopPhase(n, wall, reason, buffer)


# ----------------------------------------------------------------------------- the modes


class _ModelFile:
    """The model's file facts, checked before any runtime work (missing file: model_missing)."""

    def __init__(self, device_path: str, host_path: Path):
        self.device_path = device_path
        self.host_path = host_path
        if not host_path.is_file():
            raise RunnerError(
                f"model file {device_path} not found on the device: push it to {p.DEVICE_MODEL_DIR}/", "model_missing"
            )
        self.bytes = host_path.stat().st_size
        self.sha256 = sha256_file(host_path)

    def describe(self) -> dict[str, Any]:
        return {"model_path": self.device_path, "model_bytes": self.bytes, "model_sha256": self.sha256}


def _common(settings: p.RunSettings, engine: Engine) -> dict[str, Any]:
    return {
        "protocol_version": p.PROTOCOL_VERSION,
        "mode": settings.mode,
        "runner_kind": "host",
        "runner_version": __version__,
        "runtime_name": engine.name,
        "runtime_version": engine.version(),
        "settings": dict(settings.extras),
    }


def _abi() -> str:
    machine = platform.machine().lower()
    return {
        "x86_64": "x86_64",
        "amd64": "x86_64",
        "aarch64": "arm64-v8a",
        "arm64": "arm64-v8a",
        "i686": "x86",
        "armv7l": "armeabi-v7a",
    }.get(machine, machine)


def _info(settings: p.RunSettings, ctx: _Context) -> dict[str, Any]:
    device: dict[str, Any] = {
        "manufacturer": None,
        "model": platform.node() or None,
        "os": platform.platform(),
        "sdk_int": None,
        "is_emulator": False,
        "note": "host CPU baseline, not a phone",
    }
    if ctx.device_facts is not None:
        device = dict(ctx.device_facts)
    return {
        **_common(settings, ctx.engine),
        "model_format": ctx.engine.model_format,
        **ctx.engine.format_fields(),
        "page_size": ctx.page_size,
        "abis": [_abi()],
        "cpu_count": os.cpu_count() or 1,
        "debuggable": None,
        "device": device,
    }


def _load_runtime(stack: contextlib.ExitStack, engine: Engine, threads: int) -> tuple[int, bool, int]:
    """Load the runtime library and set its threads for the rest of the run (timed together,
    like the APK's Engine.loadRuntime): (ns, preloaded, threads in use)."""
    t0 = time.perf_counter_ns()
    preloaded = engine.load_runtime()
    used = stack.enter_context(engine.threads(threads))
    return time.perf_counter_ns() - t0, preloaded, used


def _load_model(engine: Engine, model: _ModelFile) -> int:
    t0 = time.perf_counter_ns()
    engine.load(model.host_path, model.device_path)
    return time.perf_counter_ns() - t0


def _latency(settings: p.RunSettings, ctx: _Context) -> dict[str, Any]:
    import torch

    assert settings.model is not None
    engine = ctx.engine
    model = _ModelFile(settings.model, ctx.resolve(settings.model))
    count = int(np.prod(settings.input_shape))
    # Input and sample buffer built before the first reading; the loops only call forward.
    x = torch.from_numpy(p.latency_input_values(count)).reshape(settings.input_shape)
    buffer = sample_buffer(settings.iterations, settings.max_iterations)
    peak = "reset at the run's start" if reset_peak_memory() else "since the process started (reset refused)"
    env_before = _read_env(ctx.environment)
    mem_before = read_memory()
    ctx.am.phase("load")
    with contextlib.ExitStack() as stack:
        runtime_ns, preloaded, threads = _load_runtime(stack, engine, settings.threads)
        mem_after_runtime = read_memory()
        stack.enter_context(torch.inference_mode())
        load_ns = _load_model(engine, model)
        mem_after_load = read_memory()
        ctx.am.phase("first")
        t0 = time.perf_counter_ns()
        raw = engine.forward(x)
        first_ns = time.perf_counter_ns() - t0
        out = engine.output(raw)

        def step() -> None:
            engine.forward(x)

        ctx.am.phase("warmup")
        with _gc_paused():
            warm = timed_loop(
                step,
                settings.warmup,
                settings.warmup_seconds,
                settings.max_iterations,
                settings.max_seconds,
                ctx.cancel,
            )
            foreground = _host_foreground()
            ctx.am.phase("timed")
            counters = _read_counters()
            timed = timed_loop(
                step,
                settings.iterations,
                settings.min_seconds,
                settings.max_iterations,
                settings.max_seconds,
                ctx.cancel,
                buffer,
                target_precision=settings.target_precision,
            )
            grown = _counter_growth(counters, _read_counters())
        mem_after_run = read_memory()
        env_after = _read_env(ctx.environment)
    return {
        **_common(settings, engine),
        **model.describe(),
        "threads": threads,
        "input_shape": list(settings.input_shape),
        "output_numel": int(out.numel()),
        "runtime_load_ns": runtime_ns,
        "runtime_preloaded": preloaded,
        "load_ns": load_ns,
        "first_inference_ns": first_ns,
        "warmup_count": warm.count,
        "warmup_ns": warm.wall_ns,
        "samples_ns": timed.samples_ns(),
        "timed_ns": timed.wall_ns,
        "stop_reason": timed.stop_reason,
        "memory_counter": "pss",
        "memory_source": MEMORY_SOURCE.format(peak=peak),
        "memory_before_load": asdict(mem_before),
        "memory_after_runtime": asdict(mem_after_runtime),
        "memory_after_load": asdict(mem_after_load),
        "memory_after_run": asdict(mem_after_run),
        "env_before": asdict(env_before),
        "env_after": asdict(env_after),
        "foreground": asdict(foreground),
        # The host's scheduler decides the thread's priority, which the host runner does not raise.
        "thread_priority": None,
        # The metric table's loop counters; the collector is paused in the loops (no collection can
        # land in a sample), so gc_count_timed is 0 here.
        **grown,
    }


def _float32_json(v: float) -> float | None:
    """Shortest decimal that reads back as the same float32 (as Java's Float.toString); NaN -> None."""
    if not np.isfinite(v):
        return None
    return float(str(np.float32(v)))


def argmax_first(row: np.ndarray) -> int:
    """Index of the first largest value, NaN ignored, 0 if none: the Java runner's rule."""
    clean = np.where(np.isnan(row), -np.inf, row)
    return int(np.argmax(clean))


def _classify(settings: p.RunSettings, ctx: _Context) -> dict[str, Any]:
    import torch

    assert settings.model is not None and settings.input is not None
    engine = ctx.engine
    input_path = ctx.resolve(settings.input)
    if not input_path.is_file():
        raise RunnerError(f"images file {settings.input} not found on the device: push it first", "input_missing")
    images = p.parse_images_bytes(input_path.read_bytes(), settings.input)
    n, c, h, w = images.shape
    mean_c = p.channel_values(settings.mean, c, "mean")
    std_c = p.channel_values(settings.std, c, "std")
    model = _ModelFile(settings.model, ctx.resolve(settings.model))
    buf = np.zeros((1, c, h, w), dtype=np.float32)
    x = torch.from_numpy(buf)  # shares memory with buf: refilled in place per image
    # [C, 1, 1]: broadcast over each channel's pixels; float32 like the Java runner's arithmetic
    mean = np.asarray(mean_c, dtype=np.float32).reshape(c, 1, 1)
    std = np.asarray(std_c, dtype=np.float32).reshape(c, 1, 1)
    top: list[int] = []
    logits: list[list[float | None]] = []
    latency: list[int] = []
    ctx.am.phase("load")
    with contextlib.ExitStack() as stack:
        runtime_ns, preloaded, threads = _load_runtime(stack, engine, settings.threads)
        stack.enter_context(torch.inference_mode())
        load_ns = _load_model(engine, model)
        foreground = _host_foreground()
        ctx.am.phase("classify")
        num_classes = 0
        for i in range(n):
            if ctx.cancel is not None and ctx.cancel.is_set():
                raise _Cancelled()
            buf[0] = p.classify_input(images[i], mean, std)
            t0 = time.perf_counter_ns()
            raw = engine.forward(x)
            latency.append(time.perf_counter_ns() - t0)
            row = engine.output(raw).reshape(-1).float().numpy()
            num_classes = row.size
            top.append(argmax_first(row))
            logits.append([_float32_json(v) for v in row.tolist()])
    return {
        **_common(settings, engine),
        **model.describe(),
        "threads": threads,
        "count": n,
        "channels": c,
        "height": h,
        "width": w,
        "mean": list(mean_c),
        "std": list(std_c),
        "runtime_load_ns": runtime_ns,
        "runtime_preloaded": preloaded,
        "load_ns": load_ns,
        "num_classes": num_classes,
        "top": top,
        "logits": logits,
        "latency_ns": latency,
        "foreground": asdict(foreground),
    }


_MODES = {"info": _info, "latency": _latency, "classify": _classify}


class _Context:
    def __init__(
        self,
        am: _Am,
        resolve: Callable[[str], Path],
        cancel: threading.Event | None,
        environment: Environment | None,
        device_facts: dict[str, Any] | None,
        engine: Engine,
        page_size: int,
    ):
        self.am, self.resolve, self.cancel = am, resolve, cancel
        self.environment, self.device_facts = environment, device_facts
        self.engine, self.page_size = engine, page_size


def _deliver(
    am: _Am, obj: dict[str, Any], settings: p.RunSettings, resolve: Callable[[str], Path], external_dir: str
) -> None:
    """Inline the JSON when small; otherwise write it under external_dir/results/ and say where."""
    text = p.dumps_result(obj)
    data = text.encode("utf-8")
    if len(data) <= settings.inline_max_bytes:
        am.status(p.STATUS_RESULT, {p.KEY_RESULT: text})
        return
    run_id = settings.run_id or f"{settings.mode}-{time.time_ns()}"
    device_path = f"{external_dir.rstrip('/')}/{p.RESULTS_SUBDIR}/{run_id}.json"
    atomic_write_bytes(resolve(device_path), data)
    am.status(
        p.STATUS_RESULT,
        {
            p.KEY_RESULT_FILE: device_path,
            p.KEY_RESULT_BYTES: str(len(data)),
            p.KEY_RESULT_SHA256: hashlib.sha256(data).hexdigest(),
        },
    )


def run_instrumentation(
    extras: dict[str, str],
    resolve: Callable[[str], Path],
    emit: Callable[[str], None],
    cancel: threading.Event | None = None,
    external_dir: str | None = None,
    *,
    runtime: str = p.RUNTIME_LITE,
    environment: Environment | None = None,
    device_facts: dict[str, Any] | None = None,
    bytecode_range: tuple[int, int] | None = None,
    page_size: int | None = None,
) -> int:
    """Run one `am instrument` of the fermbench runner; returns the exit code `am` gives (0).

    extras: the `-e key value` pairs. resolve: device path -> host path (identity on the host).
    emit: receives the `am instrument -r` text, whole lines, as the run goes.
    cancel: when set, the run stops at the next iteration and ends like a killed process.
    external_dir: where large results go; default that runtime's runner folder on a phone.
    runtime: pytorch_lite (.ptl) or executorch (.pte), as the two runner APKs; others: ConfigError.
    environment: returns thermal/battery fields (EnvReading); None -> nulls "not available on host".
    device_facts: what `info` reports as `device` (a simulated phone passes its own).
    bytecode_range: imitate a phone's Lite runtime that reads only these bytecode versions.
    page_size: imitate a phone's page size (default this host's); past 4 KB the Lite runtime's
        library refuses to load, as pytorch_android_lite's does on a 16 KB-page phone.
    """
    page_size = page_size or os.sysconf("SC_PAGE_SIZE")
    engine = make_engine(runtime, bytecode_range, page_size)
    external_dir = external_dir or p.external_files_dir(runtime)
    am = _Am(emit)
    ctx = _Context(am, resolve, cancel, environment, device_facts, engine, page_size)
    status = "error"
    try:
        settings = p.parse_extras(extras)
        obj = _MODES[settings.mode](settings, ctx)
        _deliver(am, obj, settings, resolve, external_dir)
        status = "ok"
    except _Cancelled:
        am.finish({"shortMsg": "Process crashed."}, 0)
        return 0
    except RunnerError as exc:
        am.error(exc.code, str(exc))
    except MemoryError as exc:
        am.error("out_of_memory", f"out of memory: {exc}")
    except Exception as exc:  # a bug in the runner: report it coded, as the Java runner does
        if is_oom(exc):
            am.error("out_of_memory", f"out of memory: {first_line(exc)}")
        else:
            am.error("internal", f"{type(exc).__name__}: {first_line(exc)}")
    am.finish({p.KEY_STATUS: status}, p.FINAL_CODE)
    return 0


def run_host(
    mode: str,
    *,
    model: str | os.PathLike[str] | None = None,
    images: np.ndarray | None = None,
    input_path: str | os.PathLike[str] | None = None,
    work_dir: str | os.PathLike[str] | None = None,
    cancel: threading.Event | None = None,
    environment: Environment | None = None,
    log: Callable[[str], None] | None = None,
    runtime: str = p.RUNTIME_LITE,
    **options: Any,
) -> p.Result:
    """Run the host runner in one mode and return the typed result (raises RunnerError).

    latency: run_host("latency", model=PATH, iterations=100, min_seconds=1.0, threads=1, ...)
    an ExecuTorch program: run_host("latency", model="m.fp32.pte", runtime="executorch", ...)
    classify: run_host("classify", model=PATH, images=uint8 [N,C,H,W], mean=..., std=...) (per channel or one)
    `log` receives the raw am text. Large results are written under work_dir (a temp folder if None).
    """
    with contextlib.ExitStack() as stack:
        if work_dir is None:
            work_dir = stack.enter_context(temp_dir("host"))
        work = Path(work_dir).resolve()
        work.mkdir(parents=True, exist_ok=True)
        if mode == "info":
            extras = p.info_args(**options)
        elif mode == "latency":
            extras = p.latency_args(str(Path(model).resolve()) if model else "", **options)
        elif mode == "classify":
            if images is not None:
                input_path = p.write_images_file(work / "images.ferb", images)
            if input_path is None:
                raise RunnerError("classify needs images= or input_path=", "bad_arguments")
            options.setdefault("mean", NORM_MEAN)
            options.setdefault("std", NORM_STD)
            extras = p.classify_args(
                str(Path(model).resolve()) if model else "", str(Path(input_path).resolve()), **options
            )
        else:
            raise RunnerError(f"unknown mode {mode!r}: choose one of {', '.join(p.MODES)}", "bad_arguments")
        chunks: list[str] = []

        def emit(text: str) -> None:
            chunks.append(text)
            if log is not None:
                log(text)

        run_instrumentation(
            extras, Path, emit, cancel, external_dir=str(work), runtime=runtime, environment=environment
        )
        run = parse_instrument_output("".join(chunks))
        return p.decode_result(run, fetch=lambda path: Path(path).read_bytes())
