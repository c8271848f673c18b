"""The host<->runner protocol (android-runner/PROTOCOL.md is the single source of truth).

The host starts the runner with `am instrument -w -r -e key value ... RUNNER_COMPONENT`.
This module builds those `-e` extras, validates them exactly as the runners do, and turns the
parsed `am instrument -r` output into typed results. The Android runner (Java) and the host
runner (`fermbench.runner.host`) both implement the same rules; keep the three in step.
"""

from __future__ import annotations

import json
import math
import re
import struct
from collections.abc import Callable, Sequence
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import runtimes
from ..errors import ConfigError, RunnerError
from ..labels import NORM_MEAN, NORM_STD
from ..latency_settings import DEFAULT_INPUT_SHAPE, LATENCY, LATENCY_SETTINGS, LatencySetting
from ..measures.metrics import MEASURED, check_measured

# One type each for what a runner reads, shared with the store and the report.
from ..measures.readings import EnvReading as EnvReading
from ..measures.readings import Foreground as Foreground
from ..measures.readings import MemoryReading as MemoryReading

if TYPE_CHECKING:
    from .instrument_output import InstrumentRun

PROTOCOL_VERSION = 4  # 4: images of C channels, classify's mean/std one per channel (PROTOCOL.md)

# One runner APK per runtime (their native libraries clash): the product flavors of
# android-runner/app/build.gradle.kts. Same instrumentation class, different package. The runtimes,
# their packages and formats are the registry's (runtimes/).
RUNTIME_LITE = runtimes.PYTORCH_LITE.name
RUNTIME_EXECUTORCH = runtimes.EXECUTORCH.name
RUNTIMES = tuple(runtimes.RUNTIMES)
RUNNER_PACKAGES = {r.name: r.package for r in runtimes.RUNTIMES.values()}
MODEL_FORMATS = {r.name: r.file_format for r in runtimes.RUNTIMES.values()}  # the file each runtime reads
RUNNER_CLASS = "org.fermbench.runner.BenchmarkInstrumentation"
RUNNER_PACKAGE = RUNNER_PACKAGES[RUNTIME_LITE]
RUNNER_COMPONENT = f"{RUNNER_PACKAGE}/{RUNNER_CLASS}"
DEVICE_MODEL_DIR = "/data/local/tmp/fermbench"  # world-readable; apps may read, not write
EXTERNAL_FILES_DIR = f"/sdcard/Android/data/{RUNNER_PACKAGE}/files"  # where the app writes results
RESULTS_SUBDIR = "results"  # result files: EXTERNAL_FILES_DIR/results/<run_id>.json
PAGE_SIZE_4K = 4096  # the page size pytorch_android_lite's native libraries are aligned for


def _known_runtime(runtime: str) -> str:
    return runtimes.get(runtime).name


def runner_package(runtime: str) -> str:
    """The runner APK's package for a runtime (org.fermbench.runner, org.fermbench.runner.executorch, ...)."""
    return runtimes.get(runtime).package


def runner_component(runtime: str) -> str:
    """What `am instrument` names: <package>/org.fermbench.runner.BenchmarkInstrumentation."""
    return f"{runner_package(runtime)}/{RUNNER_CLASS}"


def external_files_dir(runtime: str) -> str:
    """That runner's app-specific external files folder: where it writes large results below API 29."""
    return f"/sdcard/Android/data/{runner_package(runtime)}/files"


MEDIA_DIR_SDK = 29  # AndroidPlatform.MEDIA_DIR_SDK: from Android 10 results go to the app's media folder


def media_dir(runtime: str) -> str:
    """That runner's media folder (Context.getExternalMediaDirs()[0]), readable by the shell on API 29+."""
    return f"/sdcard/Android/media/{runner_package(runtime)}"


def results_base_dir(runtime: str, sdk_int: int) -> str:
    """Where that runner writes large results on a phone of that API level (then /results/<run_id>.json):
    the media folder from API 29, where `adb pull` reads it (AndroidX Benchmark's choice), else the
    external files folder. The host pulls the path the result names, so both sides agree by construction."""
    return media_dir(runtime) if sdk_int >= MEDIA_DIR_SDK else external_files_dir(runtime)


MODES = ("info", "latency", "classify")

# Keys of the status bundles the runner sends (`INSTRUMENTATION_STATUS: key=value`).
KEY_ID = "id"  # always "fermbench", like AndroidJUnitRunner's id=AndroidJUnitRunner
RUNNER_ID = "fermbench"
KEY_PROTOCOL = "fermbench_protocol"
KEY_PHASE = "fermbench_phase"  # progress: load, first, warmup, timed, classify
KEY_RESULT = "fermbench_result"  # one-line JSON
KEY_RESULT_FILE = "fermbench_result_file"  # device path of the JSON when too large to inline
KEY_RESULT_BYTES = "fermbench_result_bytes"
KEY_RESULT_SHA256 = "fermbench_result_sha256"
KEY_ERROR_CODE = "fermbench_error_code"
KEY_ERROR_MESSAGE = "fermbench_error_message"
KEY_STATUS = "fermbench_status"  # in the final INSTRUMENTATION_RESULT: ok or error

# Status codes of those bundles (the number on `INSTRUMENTATION_STATUS_CODE:`).
STATUS_PROGRESS = 1
STATUS_RESULT = 0
STATUS_ERROR = -2
FINAL_CODE = -1  # Activity.RESULT_OK: the runner finished (a coded error is still a finish)

# Error codes the runner answers with.
ERROR_CODES = (
    "bad_arguments",  # unknown key, missing or malformed value, protocol mismatch
    "model_missing",  # no file at the model path (push it first)
    "model_load_failed",  # the runtime refused the file (bytecode version, corrupt file)
    "input_missing",  # classify: no images file at the input path
    "input_invalid",  # classify: images file malformed
    "inference_failed",  # forward() threw (wrong input shape, unsupported op)
    "runtime_load_failed",  # the runtime's native library did not load (e.g. 4 KB-aligned on a 16 KB-page device)
    "out_of_memory",
    "internal",  # a bug in the runner
)
# Codes the host gives when the output itself is the problem (never sent by a runner).
HOST_CODES = ("crashed", "truncated", "not_installed", "aborted", "no_result", "bad_result", "protocol_mismatch")

# Defaults: the latency table's (latency_settings.py), as the wire carries them.
DEFAULTS: dict[str, dict[str, str]] = {
    "info": {},
    "latency": {"input_shape": DEFAULT_INPUT_SHAPE, **{row.name: row.wire_default for row in LATENCY_SETTINGS}},
    "classify": {"threads": LATENCY["threads"].wire_default},
}
REQUIRED: dict[str, tuple[str, ...]] = {
    "info": (),
    "latency": ("model",),
    "classify": ("model", "input", "mean", "std"),
}
COMMON_OPTIONAL = ("protocol", "run_id", "inline_max_bytes")
DEFAULT_INLINE_MAX_BYTES = 16384  # larger JSON goes to a file: am output rides on a binder call
# A Bundle holds strings as UTF-16 and the binder buffer is about 1 MB per process: past this,
# sendStatus can fail silently. 128 KiB of JSON is 256 KiB in the parcel.
MAX_INLINE_MAX_BYTES = 131072
_RUN_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_DECIMAL = re.compile(r"^[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]+)?$")
_SAFE_VALUE = re.compile(r"^[A-Za-z0-9._,/:+=@-]*$")  # no spaces or quotes: survives the device shell


# ----------------------------------------------------------------------------- argument checking


def _default(name: str) -> Any:
    return LATENCY[name].default


@dataclass(frozen=True)
class RunSettings:
    """The extras of one run, validated; what both runners act on. Defaults: DEFAULTS."""

    mode: str
    run_id: str | None = None
    inline_max_bytes: int = DEFAULT_INLINE_MAX_BYTES
    model: str | None = None
    input: str | None = None
    mean: tuple[float, ...] = (0.0,)  # classify: one per channel, or one for all
    std: tuple[float, ...] = (1.0,)
    input_shape: tuple[int, ...] = tuple(int(x) for x in DEFAULT_INPUT_SHAPE.split(","))
    # the latency table's rows, under their names (a test checks these fields against it)
    warmup: int = _default("warmup")
    warmup_seconds: float = _default("warmup_seconds")
    iterations: int = _default("iterations")
    min_seconds: float = _default("min_seconds")
    max_iterations: int = _default("max_iterations")
    max_seconds: float = _default("max_seconds")
    target_precision: float = _default("target_precision")  # 0: off
    threads: int = _default("threads")
    extras: dict[str, str] = field(default_factory=dict)  # the raw extras, echoed into results


def _bad(message: str) -> RunnerError:
    return RunnerError(message, "bad_arguments")


def _int(extras: dict[str, str], key: str, low: int, high: int) -> int:
    text = extras[key]
    if not re.fullmatch(r"[0-9]+", text):
        raise _bad(f"{key}={text!r} is not a whole number")
    value = int(text)
    if not low <= value <= high:
        raise _bad(f"{key}={value} is out of range [{low}, {high}]")
    return value


def _setting(extras: dict[str, str], row: LatencySetting) -> int | float:
    """A latency table row's value, checked against the row's type and range."""
    if row.kind is int:
        return _int(extras, row.name, int(row.minimum), int(row.maximum))
    return _float(extras, row.name, float(row.minimum), float(row.maximum))


def _float(extras: dict[str, str], key: str, low: float, high: float) -> float:
    text = extras[key]
    if not _DECIMAL.match(text):  # plain decimals only: the Java runner reads exactly the same set
        raise _bad(f"{key}={text!r} is not a number")
    value = float(text)
    if not (math.isfinite(value) and low <= value <= high):
        raise _bad(f"{key}={text} is out of range [{low}, {high}]")
    return value


MAX_CHANNEL_VALUES = 16  # mean/std: one value per channel, at most this many


def _floats(extras: dict[str, str], key: str, low: float, high: float) -> tuple[float, ...]:
    """A comma list of 1 to MAX_CHANNEL_VALUES decimals, each checked as _float checks one."""
    parts = extras[key].split(",")
    if len(parts) > MAX_CHANNEL_VALUES:
        raise _bad(f"{key} has {len(parts)} values: give one per channel, at most {MAX_CHANNEL_VALUES}")
    return tuple(_float({key: part}, key, low, high) for part in parts)


def channel_values(values: tuple[float, ...], channels: int, key: str) -> tuple[float, ...]:
    """mean or std for an image of `channels` channels: one value serves every channel, else one
    per channel (RunnerError bad_arguments naming the counts)."""
    if len(values) == 1:
        return values * channels
    if len(values) != channels:
        raise _bad(f"{key} has {len(values)} values, the images have {channels} channel(s): give 1 or {channels}")
    return values


def parse_extras(extras: dict[str, str]) -> RunSettings:
    """Validate the extras as a runner does; raises RunnerError(code='bad_arguments')."""
    if "mode" not in extras:
        raise _bad(f"missing mode: pass -e mode one of {', '.join(MODES)}")
    mode = extras["mode"]
    if mode not in MODES:
        raise _bad(f"unknown mode {mode!r}: choose one of {', '.join(MODES)}")
    # the version first: another version's arguments would read as unknown keys (3 renamed them)
    if "protocol" in extras and extras["protocol"] != str(PROTOCOL_VERSION):
        raise _bad(
            f"host speaks protocol {extras['protocol']}, this runner speaks {PROTOCOL_VERSION}: "
            "install the matching runner"
        )
    allowed = {"mode", *COMMON_OPTIONAL, *REQUIRED[mode], *DEFAULTS[mode]}
    unknown = sorted(set(extras) - allowed)
    if unknown:
        raise _bad(
            f"unknown argument(s) {', '.join(unknown)} for mode {mode}: allowed are {', '.join(sorted(allowed))}"
        )
    missing = [k for k in REQUIRED[mode] if k not in extras]
    if missing:
        raise _bad(f"mode {mode} needs {', '.join(missing)}")
    values = {**DEFAULTS[mode], **extras}
    kw: dict[str, Any] = {"mode": mode, "extras": dict(extras)}
    if "run_id" in values:
        if not _RUN_ID.match(values["run_id"]):
            raise _bad(f"run_id={values['run_id']!r} must be 1-64 of A-Z a-z 0-9 . _ -")
        kw["run_id"] = values["run_id"]
    if "inline_max_bytes" in values:
        kw["inline_max_bytes"] = _int(values, "inline_max_bytes", 0, MAX_INLINE_MAX_BYTES)
    for key in ("model", "input"):
        if key in values:
            if not values[key].startswith("/"):
                raise _bad(f"{key}={values[key]!r} must be an absolute device path")
            kw[key] = values[key]
    if mode == "classify":
        kw["mean"] = _floats(values, "mean", -1e6, 1e6)
        kw["std"] = _floats(values, "std", 1e-9, 1e6)
    if "threads" in values:
        kw["threads"] = _setting(values, LATENCY["threads"])
    if mode == "latency":
        shape_text = values["input_shape"]
        if not re.fullmatch(r"[0-9]+(,[0-9]+){0,5}", shape_text):
            raise _bad(f"input_shape={shape_text!r} must be comma-separated positive integers, e.g. 1,1,48,48")
        shape = tuple(int(x) for x in shape_text.split(","))
        if min(shape) < 1 or math.prod(shape) > (1 << 26):
            raise _bad(f"input_shape={shape_text} must have positive sizes and at most 2^26 elements")
        kw["input_shape"] = shape
        for row in LATENCY_SETTINGS:
            kw[row.name] = _setting(values, row)
        if kw["iterations"] > kw["max_iterations"]:
            raise _bad(f"iterations={kw['iterations']} exceeds max_iterations={kw['max_iterations']}")
        if kw["min_seconds"] > kw["max_seconds"] or kw["warmup_seconds"] > kw["max_seconds"]:
            raise _bad(f"min_seconds and warmup_seconds must not exceed max_seconds={kw['max_seconds']}")
    return RunSettings(**kw)


# ----------------------------------------------------------------------------- the precision rule

PRECISION_MIN_RUNS = 6  # fewer samples give no 95% interval of the median


def precision_ranks(n: int) -> tuple[int, int] | None:
    """1-based ranks (l, n + 1 - l) of the order statistics that bound the median's 95% interval:
    the largest l with P(Binomial(n, 1/2) <= l - 1) <= 2.5% (intervals.median_ranks, which the
    report uses, computes the same with scipy; a test checks them against each other and the
    Java runner's copy). None below 6 samples. O(n) like the sort it goes with."""
    log_pmf, cdf, k = -n * math.log(2.0), 0.0, 0
    while k <= n:
        pmf = math.exp(log_pmf)
        if cdf + pmf > 0.025:
            break
        cdf += pmf
        k += 1
        log_pmf += math.log((n - k + 1) / k)
    return None if k < 1 else (k, n + 1 - k)


def precision_reached(samples: Any, n: int, target: float) -> bool:
    """Whether the first n samples' median interval has a half-width within `target` x the median."""
    if target <= 0 or n < PRECISION_MIN_RUNS:
        return False
    ranks = precision_ranks(n)
    if ranks is None:
        return False
    x = sorted(samples[:n])
    low, high = ranks
    median = (x[(n - 1) // 2] + x[n // 2]) / 2
    return bool(median > 0 and (x[high - 1] - x[low - 1]) / 2 <= target * median)


def next_precision_check(n: int) -> int:
    """After a check at n samples the next comes after about 10% more (sorting stays O(n log n) overall)."""
    return n + max(1, n // 10)


# ----------------------------------------------------------------------------- argument builders


def _finish(extras: dict[str, Any]) -> dict[str, str]:
    """Stringify, drop Nones, check with the runner's own rules; user mistakes become ConfigError."""
    out = {"protocol": str(PROTOCOL_VERSION)}
    for key, value in extras.items():
        if value is None:
            continue
        if isinstance(value, (tuple, list)):
            value = ",".join(str(v) for v in value)
        text = repr(float(value)) if isinstance(value, float) else str(value)
        if not _SAFE_VALUE.match(text):
            raise ConfigError(f"runner argument {key}={text!r} has spaces or quotes: rename the file or folder")
        out[key] = text
    try:
        parse_extras(out)
    except RunnerError as exc:
        raise ConfigError(f"bad runner settings: {exc}") from None
    return out


def info_args(run_id: str | None = None) -> dict[str, str]:
    """Extras for `info`: runner, runtime and device facts."""
    return _finish({"mode": "info", "run_id": run_id})


def latency_args(
    model: str, *, run_id: str | None = None, inline_max_bytes: int | None = None, **settings: Any
) -> dict[str, str]:
    """Extras for `latency`; `settings` are DEFAULTS["latency"] keys (the latency table's names:
    threads, warmup, iterations, min_seconds, ...), and those not given take the runner's
    defaults. Warm-up and timed phases each go on until BOTH their count and their minimum time
    are reached, and stop at max_iterations iterations or max_seconds seconds anyway."""
    unknown = sorted(set(settings) - set(DEFAULTS["latency"]))
    if unknown:
        raise ConfigError(
            f"unknown latency argument(s) {', '.join(unknown)}: choose from {', '.join(sorted(DEFAULTS['latency']))}"
        )
    return _finish(
        {"mode": "latency", "model": model, **settings, "run_id": run_id, "inline_max_bytes": inline_max_bytes}
    )


def classify_args(
    model: str,
    input: str,
    *,
    mean: float | Sequence[float] = NORM_MEAN,
    std: float | Sequence[float] = NORM_STD,
    threads: int | None = None,
    run_id: str | None = None,
    inline_max_bytes: int | None = None,
) -> dict[str, str]:
    """Extras for `classify`: `input` is the device path of an images file (write_images_file);
    each pixel p of channel c becomes (p / 255 - mean[c]) / std[c] (one value: every channel)."""
    return _finish(
        {
            "mode": "classify",
            "model": model,
            "input": input,
            "mean": _channel_text(mean),
            "std": _channel_text(std),
            "threads": threads,
            "run_id": run_id,
            "inline_max_bytes": inline_max_bytes,
        }
    )


def _channel_text(values: float | Sequence[float]) -> str:
    """1.5 or (0.485, 0.456) as the wire carries them: "1.5", "0.485,0.456" (repr: exact)."""
    seq = [values] if isinstance(values, (int, float)) else list(values)
    return ",".join(repr(float(v)) for v in seq)


def am_instrument_argv(extras: dict[str, str], component: str = RUNNER_COMPONENT) -> list[str]:
    """The device command line: `am instrument -w -r -e k v ... component` (keys sorted)."""
    argv = ["am", "instrument", "-w", "-r"]
    for key in sorted(extras):
        argv += ["-e", key, extras[key]]
    return argv + [component]


def parse_am_instrument_argv(argv: list[str]) -> tuple[dict[str, str], str, set[str]]:
    """Inverse of am_instrument_argv, for a simulated `am`: (extras, component, flags like -w -r)."""
    if argv[:2] != ["am", "instrument"]:
        raise ValueError(f"not an am instrument command: {argv[:2]}")
    extras: dict[str, str] = {}
    flags: set[str] = set()
    rest = argv[2:]
    i = 0
    while i < len(rest) - 1:
        arg = rest[i]
        if arg == "-e":
            if i + 2 >= len(rest):
                raise ValueError("-e needs a key and a value")
            extras[rest[i + 1]] = rest[i + 2]
            i += 3
        elif arg.startswith("-"):
            flags.add(arg)
            i += 1
        else:
            raise ValueError(f"unexpected argument {arg!r}")
    if i != len(rest) - 1:
        raise ValueError("missing component")
    return extras, rest[-1], flags


# ----------------------------------------------------------------------------- images file

IMAGES_MAGIC = b"FERB"
IMAGES_VERSION = 2  # the version written for C > 1; one channel is written as version 1
IMAGES_VERSION_GRAY = 1
_IMAGES_HEADER_V1 = struct.Struct("<4sIIII")  # magic, version 1, N, H, W; then N*H*W uint8 (C = 1)
_IMAGES_HEADER = struct.Struct("<4sIIIII")  # magic, version 2, N, C, H, W; then N*C*H*W uint8 [N, C, H, W]
_HEADERS = {IMAGES_VERSION_GRAY: _IMAGES_HEADER_V1, IMAGES_VERSION: _IMAGES_HEADER}


def images_file_bytes(images: np.ndarray) -> bytes:
    """uint8 [N, C, H, W] (or [N, H, W], one channel) as an images file. One channel is written as
    version 1, byte for byte what protocol 3 wrote, so cached files and stored sessions keep their hashes."""
    images = np.asarray(images)
    if images.ndim not in (3, 4) or images.dtype != np.uint8:
        raise ConfigError(f"images must be a uint8 array [N, C, H, W], got {images.dtype} {list(images.shape)}")
    pixels = np.ascontiguousarray(images).tobytes()
    if images.ndim == 3 or images.shape[1] == 1:
        n, h, w = images.shape[0], images.shape[-2], images.shape[-1]
        return _IMAGES_HEADER_V1.pack(IMAGES_MAGIC, IMAGES_VERSION_GRAY, n, h, w) + pixels
    n, c, h, w = images.shape
    return _IMAGES_HEADER.pack(IMAGES_MAGIC, IMAGES_VERSION, n, c, h, w) + pixels


def write_images_file(path: str | Path, images: np.ndarray) -> Path:
    """Write N images (uint8 [N, C, H, W], e.g. [N, 3, 224, 224]; [N, H, W] is grayscale) for `classify`."""
    from ..fileio import atomic_write_bytes

    return atomic_write_bytes(path, images_file_bytes(images))


def parse_images_bytes(data: bytes, name: str = "images file") -> np.ndarray:
    """Inverse of images_file_bytes, always uint8 [N, C, H, W] (version 1: C = 1); raises
    RunnerError(code='input_invalid') on a malformed file."""
    if len(data) < _IMAGES_HEADER_V1.size:
        raise RunnerError(
            f"{name} is {len(data)} bytes, shorter than its {_IMAGES_HEADER_V1.size}-byte header", "input_invalid"
        )
    magic, version = struct.unpack_from("<4sI", data)
    if magic != IMAGES_MAGIC:
        raise RunnerError(
            f"{name} does not start with {IMAGES_MAGIC!r}: write it with write_images_file", "input_invalid"
        )
    header = _HEADERS.get(version)
    if header is None:
        raise RunnerError(f"{name} has format version {version}, runner reads 1 and 2", "input_invalid")
    if len(data) < header.size:
        raise RunnerError(f"{name} is {len(data)} bytes, shorter than its {header.size}-byte header", "input_invalid")
    if version == IMAGES_VERSION_GRAY:
        _, _, n, h, w = header.unpack_from(data)
        c = 1
    else:
        _, _, n, c, h, w = header.unpack_from(data)
    if n < 1 or c < 1 or h < 1 or w < 1:
        raise RunnerError(f"{name} declares an empty set ({n}x{c}x{h}x{w})", "input_invalid")
    expected = header.size + n * c * h * w
    if len(data) != expected:
        raise RunnerError(f"{name} is {len(data)} bytes, its header ({n}x{c}x{h}x{w}) says {expected}", "input_invalid")
    return np.frombuffer(data, dtype=np.uint8, offset=header.size).reshape(n, c, h, w)


def read_images_file(path: str | Path) -> np.ndarray:
    return parse_images_bytes(Path(path).read_bytes(), str(path))


# The fixed input of `latency`, by name and version: a new pattern (in both runners) is a new version,
# so that stored repeats say which bytes they timed.
LATENCY_INPUT_PATTERN = "ramp37"  # pixel i = (i * 37) % 256, then (p / 255 - mean) / std (FER's mean, std)
LATENCY_INPUT_VERSION = 1


def latency_input_values(count: int, mean: float = NORM_MEAN, std: float = NORM_STD) -> np.ndarray:
    """The fixed input of `latency`: pixel i = (i * 37) % 256, normalised. Same in Java."""
    pixels = (np.arange(count, dtype=np.int64) * 37) % 256
    return ((pixels.astype(np.float32) / np.float32(255.0) - np.float32(mean)) / np.float32(std)).astype(np.float32)


def classify_input(image: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """One uint8 [C, H, W] image as classify feeds it: (p / 255 - mean[c]) / std[c], every step in
    float32 as the Java runner computes it; mean and std float32 [C, 1, 1]."""
    out: np.ndarray = (image.astype(np.float32) / np.float32(255.0) - mean) / std
    return out


def latency_input_sha256(shape: tuple[int, ...] | list[int]) -> str:
    """sha256 of the latency input a runner feeds for `shape`: its float32 values, little-endian,
    row-major (an int8 model's runner quantises these same values)."""
    import hashlib

    values = latency_input_values(math.prod(shape)).astype("<f4", copy=False)
    return hashlib.sha256(values.tobytes()).hexdigest()


# ----------------------------------------------------------------------------- typed results


@dataclass
class _Common:
    protocol_version: int
    mode: str
    runner_kind: str  # "android" or "host"
    runner_version: str
    runtime_name: str  # pytorch_lite or executorch
    runtime_version: str
    settings: dict[str, str]  # the extras the run was started with


@dataclass
class InfoResult(_Common):
    model_format: str  # the file the runtime reads: "ptl" (pytorch_lite) or "pte" (executorch)
    bytecode_min: int | None  # lite-interpreter bytecode range (pytorch_lite); None for executorch
    bytecode_max: int | None
    pte_identifiers: list[str]  # .pte program identifiers read (bytes 4-7 of the file, e.g. ET12); [] for Lite
    page_size: int  # the OS page size in bytes: 16384 refuses native libraries aligned for 4 KB
    abis: list[str]
    cpu_count: int
    debuggable: bool | None
    device: dict[str, Any]  # manufacturer, model, device, sdk_int, release, hardware, is_emulator, ...


@dataclass
class LatencyResult(_Common):
    model_path: str
    model_bytes: int
    model_sha256: str
    threads: int  # the runtime's thread count during the run
    input_shape: list[int]
    output_numel: int
    runtime_load_ns: int  # loading the runtime's native library and setting its threads
    runtime_preloaded: bool  # the library was already in the process (host, simulated phone): load_ns small
    load_ns: int  # loading the model file (ExecuTorch: the program and its forward method)
    first_inference_ns: int  # the first forward after load, outside warm-up and timed phases
    warmup_count: int
    warmup_ns: int
    samples_ns: list[int]  # every timed iteration, in order
    timed_ns: int  # wall time of the timed phase
    stop_reason: (
        str  # "count_and_time" (both minimums met), "precision" (and target_precision too), "max_runs" or "max_s"
    )
    memory_counter: str  # the headline counter: "pss" (or "rss")
    memory_source: str  # where it was read, e.g. Debug.MemoryInfo.getTotalPss
    memory_before_load: MemoryReading  # before the runtime library loads
    memory_after_runtime: MemoryReading  # runtime library loaded, no model yet
    memory_after_load: MemoryReading  # model loaded
    memory_after_run: MemoryReading  # after the timed loop (its sample buffer predates memory_before_load)
    env_before: EnvReading
    env_after: EnvReading
    foreground: Foreground
    thread_priority: int | None  # the benchmark thread's priority (nice) in the loops, raised on Android; None: not set
    # The measured rows of the metric table (measures/metrics.py), by name: top-level keys of the
    # result JSON like the fields above, gathered here so a new metric needs no new field.
    metrics: dict[str, int | float | None] = field(default_factory=dict)

    def memory_delta_kb(self) -> int | None:
        """Headline counter after the run minus before load."""
        before = getattr(self.memory_before_load, f"{self.memory_counter}_kb")
        after = getattr(self.memory_after_run, f"{self.memory_counter}_kb")
        return None if before is None or after is None else after - before

    def peak_rss_kb(self) -> int | None:
        """The largest RSS of the run (VmHWM after the timed loop)."""
        return self.memory_after_run.peak_rss_kb


@dataclass
class ClassifyResult(_Common):
    model_path: str
    model_bytes: int
    model_sha256: str
    threads: int
    count: int
    channels: int
    height: int
    width: int
    mean: list[float]  # one per channel, as applied
    std: list[float]
    runtime_load_ns: int
    runtime_preloaded: bool
    load_ns: int
    num_classes: int
    top: list[int]  # argmax per image
    logits: list[list[float | None]]  # per image; None where the runtime gave NaN/inf
    latency_ns: list[int]  # per image, batch 1, no warm-up (first image includes it)
    foreground: Foreground


@dataclass
class RunnerErrorResult:
    code: str
    message: str


Result = InfoResult | LatencyResult | ClassifyResult
_RESULT_TYPES: dict[str, type] = {"info": InfoResult, "latency": LatencyResult, "classify": ClassifyResult}
_NESTED = {
    "memory_before_load": MemoryReading,
    "memory_after_runtime": MemoryReading,
    "memory_after_load": MemoryReading,
    "memory_after_run": MemoryReading,
    "env_before": EnvReading,
    "env_after": EnvReading,
    "foreground": Foreground,
}


def _gather_metrics(data: dict[str, Any]) -> dict[str, Any]:
    """A latency result's measured metrics moved from its top level into `metrics` (every one is
    required: a runner of this protocol measures them all, or sends null)."""
    missing = [m.name for m in MEASURED if m.name not in data]
    if "metrics" in data:
        raise RunnerError("runner result latency: unknown key 'metrics' (metrics are top-level keys)", "bad_result")
    if missing:
        raise RunnerError(
            f"runner result latency does not match protocol {PROTOCOL_VERSION} (missing: {missing}): "
            "runner and harness disagree, reinstall the runner",
            "bad_result",
        )
    for m in MEASURED:
        problem = check_measured(m.name, data[m.name])
        if problem:
            raise RunnerError(f"runner result latency: {problem}", "bad_result")
    rest = {k: v for k, v in data.items() if k not in {m.name for m in MEASURED}}
    return {**rest, "metrics": {m.name: data[m.name] for m in MEASURED}}


def _build(cls: type, data: Any, where: str, every: bool = False) -> Any:
    """`data` as `cls`; `every`: each field is required (a reading's defaults are the store's, for
    files that predate a field; a runner of this protocol sends them all)."""
    if not isinstance(data, dict):
        raise RunnerError(f"runner result: {where} is not an object", "bad_result")
    if cls is LatencyResult:
        data = _gather_metrics(data)
    names = {f.name for f in fields(cls)}
    required = {f.name for f in fields(cls) if every or (f.default is MISSING and f.default_factory is MISSING)}
    unknown, missing = set(data) - names, required - set(data)
    if unknown or missing:
        raise RunnerError(
            f"runner result {where} does not match protocol {PROTOCOL_VERSION} "
            f"(unknown: {sorted(unknown)}, missing: {sorted(missing)}): runner and harness disagree, reinstall the runner",
            "bad_result",
        )
    kw = {k: (_build(_NESTED[k], v, k, every=True) if k in _NESTED else v) for k, v in data.items()}
    return cls(**kw)


def result_from_json(obj: dict[str, Any]) -> Result:
    """A result JSON object (as the runners write it) -> its dataclass."""
    if not isinstance(obj, dict):
        raise RunnerError("runner result is not a JSON object", "bad_result")
    if obj.get("protocol_version") != PROTOCOL_VERSION:
        raise RunnerError(
            f"runner speaks protocol {obj.get('protocol_version')}, harness speaks {PROTOCOL_VERSION}: install the matching runner",
            "protocol_mismatch",
        )
    mode = obj.get("mode")
    if mode not in _RESULT_TYPES:
        raise RunnerError(f"runner result has unknown mode {mode!r}", "bad_result")
    result: Result = _build(_RESULT_TYPES[mode], obj, mode)
    return result


def dumps_result(obj: dict[str, Any]) -> str:
    """One-line JSON exactly as the host runner writes it (sorted keys, no NaN)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=False)


# ----------------------------------------------------------------------------- decoding a run


@dataclass
class ResultRef:
    """Where a run's result is: inline JSON text, or a file on the device to pull."""

    inline: str | None = None
    file: str | None = None
    size: int | None = None
    sha256: str | None = None


def read_outcome(run: InstrumentRun) -> ResultRef | RunnerErrorResult:
    """What a parsed run says, without raising: the result's location or a coded error."""
    for status in run.statuses:
        if KEY_ERROR_CODE in status.values:
            return RunnerErrorResult(status.values[KEY_ERROR_CODE], status.values.get(KEY_ERROR_MESSAGE, ""))
    for status in run.statuses:
        if KEY_RESULT in status.values:
            return ResultRef(inline=status.values[KEY_RESULT])
        if KEY_RESULT_FILE in status.values:
            size = status.values.get(KEY_RESULT_BYTES)
            return ResultRef(
                file=status.values[KEY_RESULT_FILE],
                size=int(size) if size and size.isdigit() else None,
                sha256=status.values.get(KEY_RESULT_SHA256),
            )
    if run.not_installed:
        return RunnerErrorResult("not_installed", f"{run.not_installed}: install the runner APK first")
    if run.aborted:
        return RunnerErrorResult(
            "aborted",
            f"am reported INSTRUMENTATION_ABORTED ({run.aborted}): the phone's "
            "system server restarted mid-run; wait for it to settle and run again",
        )
    if run.crashed:
        return RunnerErrorResult("crashed", f"runner process crashed: {run.crash_message}")
    if run.truncated:
        return RunnerErrorResult(
            "truncated", "runner output ended before INSTRUMENTATION_CODE (connection lost or runner killed)"
        )
    detail = "; ".join(run.errors) or f"final code {run.code}"
    return RunnerErrorResult("no_result", f"runner finished without a result ({detail})")


def decode_result(run: InstrumentRun, fetch: Callable[[str], bytes] | None = None) -> Result:
    """Parsed `am instrument -r` output -> typed result, or raise RunnerError(message, code).

    A large result lives in a device file; `fetch(device_path) -> bytes` pulls it (the bench
    step passes its Device.pull). Its size and SHA-256 are checked against what the runner said.
    """
    outcome = read_outcome(run)
    if isinstance(outcome, RunnerErrorResult):
        raise RunnerError(f"runner error {outcome.code}: {outcome.message}", outcome.code)
    if outcome.inline is not None:
        text = outcome.inline
    else:
        assert outcome.file is not None
        if fetch is None:
            raise RunnerError(f"result is in device file {outcome.file}: pass fetch= to pull it", "no_result")
        data = fetch(outcome.file)
        if outcome.size is not None and len(data) != outcome.size:
            raise RunnerError(
                f"result file {outcome.file} is {len(data)} bytes, runner wrote {outcome.size}", "bad_result"
            )
        if outcome.sha256 is not None:
            import hashlib

            if hashlib.sha256(data).hexdigest() != outcome.sha256:
                raise RunnerError(f"result file {outcome.file} does not match its SHA-256: pull it again", "bad_result")
        text = data.decode("utf-8")
    try:
        obj = json.loads(text)
    except ValueError as exc:
        raise RunnerError(f"runner result is not valid JSON ({exc}): {text[:80]!r}", "bad_result") from None
    return result_from_json(obj)
