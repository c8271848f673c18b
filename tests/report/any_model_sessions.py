"""Sessions holding models that are not the study's, written through the real store API (as
`fermbench run` writes them: bench/phases.py): a factory model with 5 classes at 1x3x64x64 scored
on a labelled image folder ("images"), the same model's ExecuTorch variant, a second 5-class model
on the same images, a ready model file with latency only, and (when asked) the study's shallow_cnn
scored on FER-2013. Predictions are made from seeded random choices with a known accuracy per class.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np

from fermbench.labels import CLASS_NAMES
from fermbench.stats import summarize_ns
from fermbench.store import (
    COMPLETE,
    OK,
    SKIPPED,
    AccuracyPhase,
    AppSizePhase,
    LatencyRepeat,
    RealworldPhase,
    SessionStore,
    Variant,
    now_iso,
)

SHAPES = ("circle", "square", "triangle", "star", "heart")  # the factory model's classes
LITE, EXECUTORCH = "pytorch_android_lite-2.1.0", "executorch-1.4.1"
IMAGES_SOURCE = "/data/shapes"  # the labelled folder's path as the accuracy phase records it
HOST = {
    "kind": "host",
    "identity": {"manufacturer": "synthetic", "model": "host", "abis": ["x86_64"]},
    "tags": ["host"],
    "status": "ok",
}
COLUMNS = ["index", "name", "label", "device_pred", "host_pred", "latency_ns"]


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _latency(store: SessionStore, variant: Variant, seed: int, median_ms: float) -> LatencyRepeat:
    rng = np.random.default_rng(seed)
    timed = [int(v) for v in rng.lognormal(np.log(median_ms * 1e6), 0.05, 40)]
    rel = store.write_samples("host", variant, 0, timed, first_ns=2 * timed[0])
    return LatencyRepeat(
        status=OK, threads=1, summary=summarize_ns(timed), samples=rel, load_ms=3.0, stop_reason="count_and_time"
    )


def _accuracy(
    store: SessionStore, variant: Variant, dataset: str, labels: np.ndarray, preds: np.ndarray, names: list[str]
) -> AccuracyPhase:
    rows = [
        {"index": i, "name": names[i], "label": int(y), "device_pred": int(p), "host_pred": int(p), "latency_ns": 1000}
        for i, (y, p) in enumerate(zip(labels, preds))
    ]
    rel = store.write_predictions("host", variant, dataset, rows, COLUMNS)
    acc = float((labels == preds).mean())
    return AccuracyPhase(
        status=OK,
        dataset=dataset,
        split="PublicTest" if dataset == "fer2013" else None,
        source=IMAGES_SOURCE if dataset == "images" else "/data/fer2013",
        n=len(labels),
        device_accuracy=acc,
        host_accuracy=acc,
        agreement=1.0,
        disagreements=0,
        predictions=rel,
    )


def shape_predictions(seed: int, right_per_class: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """8 images per shape class (none of the last: 'heart' is absent); the first right_per_class[c]
    of class c predicted right, the rest as the next class."""
    labels, preds, names = [], [], []
    for c, right in enumerate(right_per_class):
        for i in range(8):
            labels.append(c)
            preds.append(c if i < right else (c + 1) % len(SHAPES))
            names.append(f"{SHAPES[c]}/{i:02d}.png")
    return np.array(labels), np.array(preds), names


def write_file_only_session(root: Path, name: str = "my_model.int8") -> str:
    """A session of one ready model file, timed only."""
    return write_any_model_session(root, with_study=False, only_file=name)


def write_any_model_session(root: Path, *, with_study: bool, only_file: str | None = None) -> str:
    store = SessionStore.create(
        {"models": ["tiny_rgb", "tiny_other", "my_model.int8"] + (["shallow_cnn"] if with_study else [])},
        root=Path(root),
        seed=0,
    )
    store.set_device("host", **HOST)
    spec = {
        "input_shape": [1, 3, 64, 64],
        "input_dtype": "float32",
        "class_names": list(SHAPES),
        "preprocess": {"mean": [0.5] * 3, "std": [0.25] * 3, "resize": "stretch", "crop_fraction": 0.875},
    }
    plan: list[tuple[Variant, dict[str, Any], tuple[str, Any] | None, float]] = []
    labels, preds, names = shape_predictions(1, (8, 6, 4, 2))
    _, preds_et, _ = shape_predictions(2, (8, 6, 4, 1))  # ExecuTorch: one triangle... one star fewer
    _, preds_other, _ = shape_predictions(3, (2, 2, 2, 2))
    tiny = {"params": 1_500, "macs": 70_000, "trained": None, "ref": "tinyzoo.models:tiny_rgb", **spec}
    plan.append((Variant("tiny_rgb", LITE, "fp32"), {**tiny, "bytes": 9_000}, ("images", preds), 2.0))
    plan.append((Variant("tiny_rgb", EXECUTORCH, "fp32"), {**tiny, "bytes": 8_000}, ("images", preds_et), 1.5))
    plan.append((Variant("tiny_other", LITE, "fp32"), {**tiny, "bytes": 4_000}, ("images", preds_other), 1.0))
    file_meta = {
        "name": "my_model.int8",
        "source": "file",
        "file": "my_model.int8.pte",
        "bytes": 5_000,
        "input_shape": [1, 3, 224, 224],
        "input_dtype": "float32",
        "class_names": [],
    }
    plan.append((Variant("my_model.int8", EXECUTORCH, "int8"), file_meta, None, 4.0))
    if only_file:
        variant, meta, _, median_ms = plan[-1]
        plan = [(Variant(only_file, variant.runtime, variant.quant), {**meta, "name": only_file}, None, median_ms)]
    fer_labels = np.arange(70) % len(CLASS_NAMES)
    if with_study:
        fer_preds = np.where(np.arange(70) % 3 == 0, (fer_labels + 1) % 7, fer_labels)
        meta = {"params": 10_000, "trained": True, "input_shape": [1, 1, 48, 48], "class_names": list(CLASS_NAMES)}
        plan.append((Variant("shallow_cnn", LITE, "fp32"), {**meta, "bytes": 40_000}, ("fer2013", fer_preds), 3.0))
    for seed, (variant, meta, scored, median_ms) in enumerate(plan):
        store.set_model(variant, {"sha256": _sha(variant.key), "runtime_target": variant.runtime, **meta})
        record = store.record("host", variant)
        record.set_phase("latency", _latency(store, variant, seed, median_ms), now_iso(), 0)
        if scored is None:
            accuracy = AccuracyPhase(status=SKIPPED, reason="a model file without classes is timed, not scored")
        elif scored[0] == "images":
            accuracy = _accuracy(store, variant, "images", labels, scored[1], names)
        else:
            fer_names = [f"PublicTest_{i:05d}.png" for i in range(len(fer_labels))]
            accuracy = _accuracy(store, variant, "fer2013", fer_labels, scored[1], fer_names)
        record.set_phase("accuracy", accuracy, now_iso())
        reason = "FER-2013 photos are for FER models" if variant.model != "shallow_cnn" else "no --photos"
        record.set_phase("realworld", RealworldPhase(status=SKIPPED, reason=reason), now_iso())
        record.set_phase("appsize", AppSizePhase(status=SKIPPED, reason="no --apk"), now_iso())
        record.finish([("latency", 0), ("accuracy", None), ("realworld", None), ("appsize", None)])
        store.save_record(record)
    store.set_status(COMPLETE)
    store.close()
    return store.session_id
