"""The host implementation of the runner: the protocol of android-runner/PROTOCOL.md, in Python.

It runs a .ptl with the host's lite interpreter (`torch.jit.mobile._load_for_lite_interpreter`,
the same interpreter Android's pytorch_android_lite wraps) and prints exactly what
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
import tempfile
import threading
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

from .. import __version__
from ..errors import RunnerError
from ..fileio import atomic_write_bytes, sha256_file
from ..labels import NORM_MEAN, NORM_STD
from . import protocol as p
from ..device.instrument_output import parse_instrument_output

RUNTIME_NAME = "pytorch_lite"
HOST_BYTECODE_RANGE = (4, 9)  # torch 2.x lite interpreter: kMinSupportedBytecodeVersion..kMaxSupported
HOST_NOTE = "not available on host"

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
    _fields_ = [(name, ctypes.c_size_t) for name in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]


def _native_heap_kb() -> int | None:
    """Bytes malloc'ed now (glibc mallinfo2: in-use + mmapped), like Debug.getNativeHeapAllocatedSize."""
    try:
        fn = ctypes.CDLL(None).mallinfo2
    except (OSError, AttributeError):
        return None
    fn.restype = _MallInfo2
    info = fn()
    return int(info.uordblks + info.hblkhd) // 1024


def read_memory() -> p.MemoryReading:
    """PSS and RSS from /proc/self/smaps_rollup (kB), native heap from malloc."""
    values: dict[str, int] = {}
    try:
        with open("/proc/self/smaps_rollup", encoding="ascii") as fh:
            for line in fh:
                key, _, rest = line.partition(":")
                if key in ("Pss", "Rss"):
                    values[key] = int(rest.split()[0])
    except OSError:
        pass
    return p.MemoryReading(pss_kb=values.get("Pss"), rss_kb=values.get("Rss"), native_heap_kb=_native_heap_kb())


def _read_env(environment: Environment | None) -> p.EnvReading:
    if environment is None:
        return p.EnvReading(None, None, None, None, None, note=HOST_NOTE)
    return p.EnvReading(**{"note": None, **environment()})


@contextlib.contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Intra-op threads for the run, restored after (it is process-wide state)."""
    import torch

    old = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(old)


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def timed_loop(step: Callable[[], Any], min_runs: int, min_s: float, max_runs: int, max_s: float,
               cancel: threading.Event | None = None) -> tuple[list[int], int, str]:
    """Run `step` until min_runs AND min_s are reached, or max_runs / max_s (caps) come first.

    Returns (per-iteration ns, phase wall ns, stop reason). The same rule as the Java runner.
    """
    clock = time.perf_counter_ns
    min_ns, max_ns = int(min_s * 1e9), int(max_s * 1e9)
    samples: list[int] = []
    start = clock()
    while True:
        count, elapsed = len(samples), clock() - start
        if count >= min_runs and elapsed >= min_ns:
            reason = "count_and_time"
            break
        if count >= max_runs:
            reason = "max_runs"
            break
        if elapsed >= max_ns:
            reason = "max_s"
            break
        if cancel is not None and cancel.is_set():
            raise _Cancelled()
        t0 = clock()
        step()
        samples.append(clock() - t0)
    return samples, clock() - start, reason


# ----------------------------------------------------------------------------- the modes


def _first_line(exc: BaseException) -> str:
    """TorchScript errors carry a C++ trace; keep the line that says what went wrong."""
    lines = [ln.strip() for ln in str(exc).strip().splitlines() if ln.strip()]
    for ln in lines:
        if ln.startswith(("RuntimeError:", "Error:")) or "version" in ln.lower():
            return ln[:500]
    return (lines[0] if lines else type(exc).__name__)[:500]


def _is_oom(exc: BaseException) -> bool:
    text = str(exc)
    return isinstance(exc, MemoryError) or "can't allocate memory" in text or "not enough memory" in text


class _Model:
    def __init__(self, device_path: str, host_path: Path, bytecode_range: tuple[int, int] | None):
        self.device_path = device_path
        self.host_path = host_path
        if not host_path.is_file():
            raise RunnerError(f"model file {device_path} not found on the device: push it to {p.DEVICE_MODEL_DIR}/", "model_missing")
        self.bytes = host_path.stat().st_size
        self.sha256 = sha256_file(host_path)
        self.bytecode_range = bytecode_range
        self.module: Any = None

    def load(self) -> int:
        """Load with the lite interpreter; returns the load time in ns."""
        import torch
        import torch.jit.mobile  # not imported by `import torch`

        if self.bytecode_range is not None:  # imitate an older phone runtime's check
            lo, hi = self.bytecode_range
            try:
                version = torch.jit.mobile._get_model_bytecode_version(str(self.host_path))
            except Exception as exc:  # torch raises RuntimeError or ValueError for non-model files
                raise RunnerError(f"cannot load {self.device_path}: {_first_line(exc)}", "model_load_failed") from None
            if not lo <= version <= hi:
                raise RunnerError(
                    f"cannot load {self.device_path}: Lite Interpreter version number does not match. "
                    f"The model version must be between {lo} and {hi} but the model version is {version}",
                    "model_load_failed",
                )
        t0 = time.perf_counter_ns()
        try:
            self.module = torch.jit.mobile._load_for_lite_interpreter(str(self.host_path))
        except Exception as exc:  # the interpreter's own message says why (version, corrupt file)
            if _is_oom(exc):
                raise
            raise RunnerError(f"cannot load {self.device_path}: {_first_line(exc)}", "model_load_failed") from None
        return time.perf_counter_ns() - t0

    def forward(self, x: Any) -> Any:
        try:
            out = self.module(x)
        except Exception as exc:
            if _is_oom(exc):
                raise
            raise RunnerError(f"{self.device_path} failed on input {list(x.shape)}: {_first_line(exc)}", "inference_failed") from None
        return out


def _common(settings: p.RunSettings) -> dict[str, Any]:
    import torch

    return {
        "protocol_version": p.PROTOCOL_VERSION,
        "mode": settings.mode,
        "runner_kind": "host",
        "runner_version": __version__,
        "runtime_name": RUNTIME_NAME,
        "runtime_version": torch.__version__,
        "settings": dict(settings.extras),
    }


def _abi() -> str:
    machine = platform.machine().lower()
    return {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "arm64-v8a", "arm64": "arm64-v8a",
            "i686": "x86", "armv7l": "armeabi-v7a"}.get(machine, machine)


def _info(settings: p.RunSettings, ctx: "_Context") -> dict[str, Any]:
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
    lo, hi = ctx.bytecode_range or HOST_BYTECODE_RANGE
    return {**_common(settings), "bytecode_min": lo, "bytecode_max": hi, "abis": [_abi()],
            "cpu_count": os.cpu_count() or 1, "debuggable": None, "device": device}


def _check_output(model: _Model, out: Any) -> Any:
    import torch

    if not isinstance(out, torch.Tensor):
        raise RunnerError(f"{model.device_path} returned {type(out).__name__}, expected one tensor of logits", "inference_failed")
    return out


def _latency(settings: p.RunSettings, ctx: "_Context") -> dict[str, Any]:
    import torch

    assert settings.model is not None
    model = _Model(settings.model, ctx.resolve(settings.model), ctx.bytecode_range)
    count = int(np.prod(settings.input_shape))
    # Input built once, before load; the loops only call forward.
    x = torch.from_numpy(p.latency_input_values(count)).reshape(settings.input_shape)
    env_before = _read_env(ctx.environment)
    mem_before = read_memory()
    ctx.am.phase("load")
    with torch_threads(settings.threads), torch.inference_mode():
        load_ns = model.load()
        mem_after_load = read_memory()
        ctx.am.phase("first")
        t0 = time.perf_counter_ns()
        out = model.forward(x)
        first_ns = time.perf_counter_ns() - t0
        out = _check_output(model, out)

        def step() -> None:
            model.forward(x)

        ctx.am.phase("warmup")
        with _gc_paused():
            warm, warm_ns, _ = timed_loop(step, settings.warmup_runs, settings.warmup_min_s,
                                          settings.max_runs, settings.max_s, ctx.cancel)
            ctx.am.phase("timed")
            samples, timed_ns, reason = timed_loop(step, settings.runs, settings.min_s,
                                                   settings.max_runs, settings.max_s, ctx.cancel)
    mem_after_run = read_memory()
    env_after = _read_env(ctx.environment)
    return {
        **_common(settings),
        "model_path": model.device_path, "model_bytes": model.bytes, "model_sha256": model.sha256,
        "threads": settings.threads, "input_shape": list(settings.input_shape), "output_numel": int(out.numel()),
        "load_ns": load_ns, "first_inference_ns": first_ns,
        "warmup_count": len(warm), "warmup_ns": warm_ns,
        "samples_ns": samples, "timed_ns": timed_ns, "stop_reason": reason,
        "memory_counter": "pss", "memory_source": "/proc/self/smaps_rollup (Pss, Rss); mallinfo2 (native heap)",
        "memory_before_load": asdict(mem_before), "memory_after_load": asdict(mem_after_load),
        "memory_after_run": asdict(mem_after_run),
        "env_before": asdict(env_before), "env_after": asdict(env_after),
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


def _classify(settings: p.RunSettings, ctx: "_Context") -> dict[str, Any]:
    import torch

    assert settings.model is not None and settings.input is not None
    input_path = ctx.resolve(settings.input)
    if not input_path.is_file():
        raise RunnerError(f"images file {settings.input} not found on the device: push it first", "input_missing")
    images = p.parse_images_bytes(input_path.read_bytes(), settings.input)
    n, h, w = images.shape
    model = _Model(settings.model, ctx.resolve(settings.model), ctx.bytecode_range)
    buf = np.zeros((1, 1, h, w), dtype=np.float32)
    x = torch.from_numpy(buf)  # shares memory with buf: refilled in place per image
    mean, std = np.float32(settings.mean), np.float32(settings.std)
    top: list[int] = []
    logits: list[list[float | None]] = []
    latency: list[int] = []
    ctx.am.phase("load")
    with torch_threads(settings.threads), torch.inference_mode():
        load_ns = model.load()
        ctx.am.phase("classify")
        num_classes = 0
        for i in range(n):
            if ctx.cancel is not None and ctx.cancel.is_set():
                raise _Cancelled()
            buf[0, 0] = (images[i].astype(np.float32) / np.float32(255.0) - mean) / std
            t0 = time.perf_counter_ns()
            out = model.forward(x)
            latency.append(time.perf_counter_ns() - t0)
            row = _check_output(model, out).reshape(-1).float().numpy()
            num_classes = row.size
            top.append(argmax_first(row))
            logits.append([_float32_json(v) for v in row.tolist()])
    return {
        **_common(settings),
        "model_path": model.device_path, "model_bytes": model.bytes, "model_sha256": model.sha256,
        "threads": settings.threads, "count": n, "height": h, "width": w,
        "mean": settings.mean, "std": settings.std, "load_ns": load_ns, "num_classes": num_classes,
        "top": top, "logits": logits, "latency_ns": latency,
    }


_MODES = {"info": _info, "latency": _latency, "classify": _classify}


class _Context:
    def __init__(self, am: _Am, resolve: Callable[[str], Path], cancel: threading.Event | None,
                 environment: Environment | None, device_facts: dict[str, Any] | None,
                 bytecode_range: tuple[int, int] | None):
        self.am, self.resolve, self.cancel = am, resolve, cancel
        self.environment, self.device_facts, self.bytecode_range = environment, device_facts, bytecode_range


def _deliver(am: _Am, obj: dict[str, Any], settings: p.RunSettings, resolve: Callable[[str], Path], external_dir: str) -> None:
    """Inline the JSON when small; otherwise write it under external_dir/results/ and say where."""
    text = p.dumps_result(obj)
    data = text.encode("utf-8")
    if len(data) <= settings.inline_max_bytes:
        am.status(p.STATUS_RESULT, {p.KEY_RESULT: text})
        return
    run_id = settings.run_id or f"{settings.mode}-{time.time_ns()}"
    device_path = f"{external_dir.rstrip('/')}/{p.RESULTS_SUBDIR}/{run_id}.json"
    atomic_write_bytes(resolve(device_path), data)
    am.status(p.STATUS_RESULT, {p.KEY_RESULT_FILE: device_path, p.KEY_RESULT_BYTES: str(len(data)),
                                p.KEY_RESULT_SHA256: hashlib.sha256(data).hexdigest()})


def run_instrumentation(
    extras: dict[str, str],
    resolve: Callable[[str], Path],
    emit: Callable[[str], None],
    cancel: threading.Event | None = None,
    external_dir: str = p.EXTERNAL_FILES_DIR,
    *,
    environment: Environment | None = None,
    device_facts: dict[str, Any] | None = None,
    bytecode_range: tuple[int, int] | None = None,
) -> int:
    """Run one `am instrument` of the fermbench runner; returns the exit code `am` gives (0).

    extras: the `-e key value` pairs. resolve: device path -> host path (identity on the host).
    emit: receives the `am instrument -r` text, whole lines, as the run goes.
    cancel: when set, the run stops at the next iteration and ends like a killed process.
    environment: returns thermal/battery fields (EnvReading); None -> nulls "not available on host".
    device_facts: what `info` reports as `device` (a simulated phone passes its own).
    bytecode_range: imitate a phone runtime that reads only these bytecode versions.
    """
    am = _Am(emit)
    ctx = _Context(am, resolve, cancel, environment, device_facts, bytecode_range)
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
        if _is_oom(exc):
            am.error("out_of_memory", f"out of memory: {_first_line(exc)}")
        else:
            am.error("internal", f"{type(exc).__name__}: {_first_line(exc)}")
    am.finish({p.KEY_STATUS: status}, p.FINAL_CODE)
    return 0


def run_host(
    mode: str,
    *,
    model: str | os.PathLike | None = None,
    images: np.ndarray | None = None,
    input_path: str | os.PathLike | None = None,
    work_dir: str | os.PathLike | None = None,
    cancel: threading.Event | None = None,
    environment: Environment | None = None,
    log: Callable[[str], None] | None = None,
    **options: Any,
) -> p.Result:
    """Run the host runner in one mode and return the typed result (raises RunnerError).

    latency: run_host("latency", model=PATH, runs=100, min_s=1.0, threads=1, ...)
    classify: run_host("classify", model=PATH, images=uint8 [N,48,48], mean=..., std=...)
    `log` receives the raw am text. Large results are written under work_dir (a temp folder if None).
    """
    with contextlib.ExitStack() as stack:
        if work_dir is None:
            work_dir = stack.enter_context(tempfile.TemporaryDirectory(prefix="fermbench-host-"))
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
            extras = p.classify_args(str(Path(model).resolve()) if model else "", str(Path(input_path).resolve()), **options)
        else:
            raise RunnerError(f"unknown mode {mode!r}: choose one of {', '.join(p.MODES)}", "bad_arguments")
        chunks: list[str] = []

        def emit(text: str) -> None:
            chunks.append(text)
            if log is not None:
                log(text)

        run_instrumentation(extras, Path, emit, cancel, external_dir=str(work), environment=environment)
        run = parse_instrument_output("".join(chunks))
        return p.decode_result(run, fetch=lambda path: Path(path).read_bytes())
