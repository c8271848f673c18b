"""The measurement phases of one (device, model): latency, FER-2013 accuracy, real-world
accuracy, app size. Each returns its typed phase (store/records.py) and writes its raw data
through the store; errors propagate to the session, which records them.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..apk.archive import apk_runtime
from ..errors import RunnerError
from ..export.runtimes import get_runtime
from ..labels import INPUT_SHAPE, NORM_MEAN, NORM_STD
from ..runner import protocol as p
from ..stats import summarize_ns
from ..store import (
    OK,
    AccuracyPhase,
    AppSizePhase,
    LatencyRepeat,
    LatencySettings,
    Memory,
    PhotoCounts,
    RealworldPhase,
    RuntimeUsed,
    SessionStore,
    Thermal,
    TimingInput,
)
from ..targets import Target
from ..zoo.spec import spec_from_meta
from .appsize import measure_app_size
from .exports import ModelFile
from .inputs import ImageSet
from .settings import Settings
from .variants import runner_runtime


def runtime_of(model: ModelFile) -> str:
    """The runner runtime (pytorch_lite | executorch) that runs this file."""
    return runner_runtime(get_runtime(model.variant.runtime))


@dataclass
class Timing:
    """Where a phase's time went, for the overhead figure: runner vs everything else."""

    runner_s: float = 0.0
    transfer_s: float = 0.0
    stop: threading.Event | None = None  # the session's: set when it is stopping, ends runner calls early


def _ms(ns: int | None) -> float | None:
    return None if ns is None else ns / 1e6


def _memory(r: p.LatencyResult) -> Memory:
    return Memory(
        counter=r.memory_counter.upper(),
        source=r.memory_source,
        before_load=r.memory_before_load,
        after_runtime=r.memory_after_runtime,
        after_load=r.memory_after_load,
        after_run=r.memory_after_run,
    )


def push_model(target: Target, model: ModelFile, timing: Timing) -> str:
    import time

    t0 = time.perf_counter()
    path = target.put_file(model.path, model.path.name)
    timing.transfer_s += time.perf_counter() - t0
    return path


def check_measured_file(measured_sha256: str, model: ModelFile) -> None:
    """The runner names the sha256 of the file it loaded: it must be the one the session recorded."""
    if measured_sha256 != model.sha256:
        raise RunnerError(
            f"the runner measured a file with sha256 {measured_sha256[:12]}, not "
            f"{model.variant.label}'s {model.sha256[:12]}; push it again",
            "bad_result",
        )


def latency_phase(
    store: SessionStore, target: Target, model: ModelFile, repeat: int, settings: Settings, timing: Timing
) -> LatencyRepeat:
    device_path = push_model(target, model, timing)
    extras = p.latency_args(
        device_path,
        run_id=f"latency-{model.name}-r{repeat}",
        input_shape=model_input_shape(model),
        **settings.protocol_args(),
    )
    call = target.run(runtime_of(model), extras, settings.timeout_seconds, p.LatencyResult, timing.stop)
    timing.runner_s += call.seconds
    r = call.result
    check_measured_file(r.model_sha256, model)
    rel = store.write_samples(target.serial, model.variant, repeat, r.samples_ns, first_ns=r.first_inference_ns)
    return LatencyRepeat(
        status=OK,
        settings=LatencySettings.of(settings),
        threads=r.threads,
        summary=summarize_ns(r.samples_ns),
        samples=rel,
        runtime_load_ms=_ms(r.runtime_load_ns),
        runtime_preloaded=r.runtime_preloaded,
        load_ms=_ms(r.load_ns),
        first_inference_ms=_ms(r.first_inference_ns),
        warmup_count=r.warmup_count,
        warmup_ms=_ms(r.warmup_ns),
        timed_ms=_ms(r.timed_ns),
        stop_reason=r.stop_reason,
        memory=_memory(r),
        thermal=Thermal(before=r.env_before, after=r.env_after),
        runtime=RuntimeUsed(
            name=r.runtime_name, version=r.runtime_version, runner=r.runner_kind, runner_version=r.runner_version
        ),
        foreground=r.foreground,
        thread_priority=r.thread_priority,
        metrics=dict(r.metrics),
        runner_seconds=round(call.seconds, 4),
        timing_input=timing_input(r, model),
    )


def model_input_shape(model: ModelFile) -> tuple[int, ...]:
    """The input the model takes, as its metadata says (an export's, or a given file's); the FER
    models' 1x1x48x48 for metadata that does not say."""
    shape = model.meta.get("input_shape")
    return tuple(int(d) for d in shape) if shape else INPUT_SHAPE


def timing_input(r: p.LatencyResult, model: ModelFile) -> TimingInput:
    """What the runner fed every forward: the protocol's pattern at the shape it reports."""
    return TimingInput(
        shape=list(r.input_shape),
        dtype=str(model.meta.get("input_dtype") or "float32"),
        pattern=p.LATENCY_INPUT_PATTERN,
        pattern_version=p.LATENCY_INPUT_VERSION,
        sha256=p.latency_input_sha256(r.input_shape),
    )


def model_normalisation(model: ModelFile) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """The mean and std (per channel) the model's export recorded; FER-2013's for a file whose
    metadata records none."""
    spec = spec_from_meta(model.meta)
    if spec is None:
        return (NORM_MEAN,), (NORM_STD,)
    return spec.preprocess.mean, spec.preprocess.std


def classify_on_target(
    target: Target, model: ModelFile, images: ImageSet, settings: Settings, timing: Timing
) -> p.ClassifyResult:
    import time

    device_model = push_model(target, model, timing)
    t0 = time.perf_counter()
    device_input = target.put_file(images.file, f"inputs/{images.sha256[:16]}.ferb")
    timing.transfer_s += time.perf_counter() - t0
    mean, std = model_normalisation(model)
    extras = p.classify_args(
        device_model,
        device_input,
        mean=mean,
        std=std,
        threads=settings.threads,
        run_id=f"classify-{model.name}-{images.dataset}",
    )
    call = target.run(runtime_of(model), extras, settings.timeout_seconds, p.ClassifyResult, timing.stop)
    timing.runner_s += call.seconds
    result = call.result
    check_measured_file(result.model_sha256, model)
    if result.count != len(images.images):
        raise RunnerError(f"runner classified {result.count} images, {len(images.images)} were sent", "bad_result")
    return result


def _accuracy(pred: np.ndarray[Any, Any], labels: np.ndarray[Any, Any]) -> float | None:
    return float((pred == labels).mean()) if len(labels) else None


def accuracy_phase(
    store: SessionStore,
    target: Target,
    model: ModelFile,
    images: ImageSet,
    host_top: np.ndarray[Any, Any],
    settings: Settings,
    timing: Timing,
) -> AccuracyPhase:
    result = classify_on_target(target, model, images, settings, timing)
    top = np.asarray(result.top, dtype=np.int64)
    rows = [
        {
            "index": i,
            "name": images.names[i],
            "label": int(images.labels[i]),
            "device_pred": int(top[i]),
            "host_pred": int(host_top[i]),
            "latency_ns": int(result.latency_ns[i]),
        }
        for i in range(len(top))
    ]
    rel = store.write_predictions(
        target.serial,
        model.variant,
        images.dataset,  # fer2013, or images (a labelled folder: label = index into the model's classes)
        rows,
        ["index", "name", "label", "device_pred", "host_pred", "latency_ns"],
    )
    return AccuracyPhase(
        status=OK,
        dataset=images.dataset,
        split=images.info.get("split"),
        source=images.info.get("source"),
        limit=images.info.get("limit"),
        n=len(top),
        device_accuracy=_accuracy(top, images.labels),
        host_accuracy=_accuracy(host_top, images.labels),
        agreement=float((top == host_top).mean()),
        disagreements=int((top != host_top).sum()),
        predictions=rel,
        runner_seconds=round(timing.runner_s, 4),
    )


def realworld_phase(
    store: SessionStore,
    target: Target,
    model: ModelFile,
    images: ImageSet,
    host_top: np.ndarray[Any, Any] | None,
    settings: Settings,
    timing: Timing,
) -> RealworldPhase:
    from ..data.faces import CLASSIFIED, MULTI_SKIPPED, NO_FACE, UNDECODABLE

    crops = images.crops
    counts = crops.counts
    top = np.zeros(0, np.int64)
    latency: list[int] = []
    if len(images.images):
        result = classify_on_target(target, model, images, settings, timing)
        top, latency = np.asarray(result.top, dtype=np.int64), list(result.latency_ns)
    host = host_top if host_top is not None else np.zeros(0, np.int64)
    rows, k = [], 0
    for i, crop in enumerate(crops.crops):
        row = {
            "index": i,
            "photo": crop.photo.name,
            "label": crop.photo.label,
            "status": crop.status,
            "faces": crop.faces,
            "device_pred": "",
            "host_pred": "",
            "latency_ns": "",
        }
        if crop.status == CLASSIFIED:
            row.update(device_pred=int(top[k]), host_pred=int(host[k]), latency_ns=int(latency[k]))
            k += 1
        rows.append(row)
    rel = store.write_predictions(target.serial, model.variant, "photos", rows, list(rows[0]) if rows else ["index"])
    correct = int((top == images.labels).sum()) if len(top) else 0
    return RealworldPhase(
        status=OK,
        source=images.info.get("source"),
        policy=crops.policy,
        counts=PhotoCounts(**counts),
        no_face_photos=crops.names(NO_FACE),
        multi_face_photos=[c.photo.name for c in crops.crops if c.faces > 1],
        multi_face_skipped_photos=crops.names(MULTI_SKIPPED),
        undecodable_photos=crops.names(UNDECODABLE),
        undecodable_reasons={c.photo.name: c.reason for c in crops.crops if c.status == UNDECODABLE},
        accuracy=_accuracy(top, images.labels),
        accuracy_all_photos=correct / counts["photos"] if counts["photos"] else None,
        host_accuracy=_accuracy(host, images.labels) if len(host) else None,
        agreement=float((top == host).mean()) if len(top) else None,
        predictions=rel,
    )


def appsize_phase(target: Target, model: ModelFile, settings: Settings) -> AppSizePhase:
    """The model bundled into the runner APK of its runtime (given with --apk), else its file alone."""
    runtime = runtime_of(model)
    apk = next((a for a in settings.apk if apk_runtime(Path(a)) == runtime), None)
    installed, note = (None, None)
    if apk is not None:
        installed, note = target.installed_size(Path(apk), runtime)
    elif settings.apk:
        note = f"no {runtime} runner among --apk: model file size only"
    size = measure_app_size(model.path, apk, installed_bytes=installed, installed_note=note)
    return size
