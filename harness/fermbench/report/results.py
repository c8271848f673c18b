"""Stored sessions -> one typed ModelResult per (session, device, model), with its warnings.

Latency is recomputed from the raw timed samples of every successful repeat (pooled), so the
report never trusts a stored summary it can derive; the repeats' medians give the run-to-run
spread. Everything else is read from the stored typed records (store/records.py) and
session.json, under the records' own field names.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .. import stats, store
from ..intervals import Interval, paired_difference, wilson
from ..labels import CLASS_NAMES
from ..measures.metrics import BY_NAME, METRICS, Metric
from ..stats import LatencySummary, StatWarning
from ..store import AccuracyPhase, AppSizePhase, RealworldPhase
from ..store.records import LITE_FP32
from .training import TrainingRun, TrainingSummary, summary_from_meta, training_for

FER2013 = "fer2013"  # the accuracy phase's dataset of every session before labelled image sets
THERMAL_NAMES = ("none", "light", "moderate", "severe", "critical", "emergency", "shutdown")
HIGH_REPEAT_SPREAD = 0.05  # medians of repeats more than 5 % apart: the device was not steady


@dataclass(frozen=True)
class DeviceInfo:
    serial: str
    kind: str | None
    name: str  # "Google Pixel 7", or the serial when the identity is unknown
    abi: str | None
    runtime: str | None  # the runners' runtimes: "pytorch_lite 2.1.0, executorch 1.4.1"
    tags: tuple[str, ...]
    identity: dict[str, Any] = field(default_factory=dict, compare=False)
    preflight: tuple[str, ...] = ()  # the run's own warnings about the device (battery, build, ...)

    @property
    def label(self) -> str:
        return self.name if self.name == self.serial else f"{self.name} ({self.serial})"


@dataclass(frozen=True)
class ModelResult:
    """Everything the report shows for one model on one device in one session: the record's
    phases as stored, and what the report derives (latency from raw samples, deltas, warnings)."""

    session: str
    date: str  # YYYY-MM-DD of the session
    device: DeviceInfo
    model: str
    runtime: str  # what it was exported for: pytorch_android_lite-2.1.0, executorch-1.4.1, ...
    quant: str  # fp32 | int8
    measured_by: str | None  # the runner's runtime and version: "pytorch_lite 2.1.0"
    status: str  # ok | failed | skipped | interrupted | running
    error: str | None
    model_sha256: str | None
    trained: bool | None
    params: int | None
    macs: int | None
    model_bytes: int | None
    accuracy: AccuracyPhase | None
    realworld: RealworldPhase | None
    appsize: AppSizePhase | None
    latency: LatencySummary | None
    repeats: int
    repeat_spread: float | None  # (max - min) / median of the repeats' medians
    mem_counter: str | None
    foreground: str | None  # was the runner the top app: "top app", "not top (cached)", or why unknown
    thermal_max: int | None
    training: TrainingSummary | None  # final epoch: of the curve, else as the checkpoint recorded it
    curve: TrainingRun | None  # the checkpoint's own training curve (charts 1-3)
    training_missing: str | None  # why a trained model has no curve
    fer_interval: Interval | None  # device accuracy on FER-2013 with its Wilson interval
    fer_change: Interval | None  # device accuracy minus the same model's Lite fp32 on the same images
    rw_interval: Interval | None  # real-world accuracy of the classified photos, Wilson interval
    rw_per_class: tuple[ClassAccuracy, ...]  # every class, absent ones with n = 0
    warnings: tuple[StatWarning, ...]
    device_spread: DeviceSpread | None = None  # the variant on every device of this model in the session (2+)
    stop_reasons: tuple[str, ...] = ()  # what ended each successful repeat's timed phase
    target_precision: float | None = None  # the session's --target-precision, when one was asked
    # Every row of the metric table (measures/metrics.py), its successful repeats combined as the
    # row says (threads, load_ms, mem_run_kb, gc_count_timed, ...); None where none measured it.
    metrics: dict[str, int | float | None] = field(default_factory=dict, compare=False)
    # What the model is, from its metadata in session.json (any model, not only the study's).
    classes: tuple[str, ...] = CLASS_NAMES  # its class names in output order; () for a file that records none
    input_shape: tuple[int, ...] | None = None  # N, C, H, W
    source: str | None = None  # "file" for a ready model file; None for an exported model
    # The accuracy phase on whichever data it ran (fer2013, or a labelled image folder), and its
    # change against the same model's Lite fp32 on the same images; fer_interval and fer_change
    # above hold the same only when the data is FER-2013.
    acc_interval: Interval | None = None
    acc_change: Interval | None = None
    acc_per_class: tuple[ClassAccuracy, ...] = ()  # labelled image sets only: every class of the model

    @property
    def acc_dataset(self) -> str | None:
        """fer2013 | images (| any later set): what the accuracy phase classified; None without one."""
        if self.accuracy is None or not self.accuracy.ok:
            return None
        return self.accuracy.dataset or FER2013

    @property
    def acc_label(self) -> str | None:
        """The accuracy phase's data as a header says it: "FER-2013", or the image set's name."""
        return dataset_label(self.accuracy) if self.acc_dataset is not None else None

    def metric(self, name: str) -> int | float | None:
        """A row's combined value (KeyError for a name the table lacks: a typo, not a missing value)."""
        if name not in BY_NAME:
            raise KeyError(f"no metric {name!r} in measures/metrics.py")
        return self.metrics.get(name)

    @property
    def threads(self) -> int | None:
        value = self.metric("threads")
        return None if value is None else int(value)

    @property
    def variant(self) -> store.Variant:
        return store.Variant(self.model, self.runtime, self.quant)

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.session, self.device.serial, self.variant.key)


@dataclass(frozen=True)
class DeviceSpread:
    """One variant's median latency on each device of one model in one session (several phones of a
    farm, or a --shard pool): how far identical devices differ."""

    devices: tuple[str, ...]  # device keys
    medians_ms: tuple[float, ...]  # each device's median, pooled over the repeats it ran

    @property
    def median_ms(self) -> float:
        return float(np.median(self.medians_ms))

    @property
    def relative(self) -> float:
        """(max - min) / median of the devices' medians."""
        return (max(self.medians_ms) - min(self.medians_ms)) / self.median_ms if self.median_ms else 0.0


@dataclass(frozen=True)
class ClassAccuracy:
    """One class of the real-world photos: its photos, how many were classified and right."""

    name: str
    photos: int  # photos labelled with the class; 0 = the photo set has none (absent, not 0%)
    n: int  # of them, classified (a face was found and cropped)
    correct: int
    interval: Interval | None  # correct / n, Wilson

    @property
    def absent(self) -> bool:
        return self.photos == 0


@dataclass
class ReportData:
    """What every output (tables, charts, comparisons) is built from."""

    results: list[ModelResult]
    samples: dict[tuple[str, str, str], np.ndarray[Any, Any]]  # timed ns per ModelResult.key
    predictions: Any  # DataFrame from the store
    sessions: list[store.StoredSession]

    @property
    def training_problems(self) -> list[str]:
        """Why trained models have no training curve, once per reason."""
        return list(dict.fromkeys(r.training_missing for r in self.results if r.training_missing))

    def groups(self) -> list[tuple[str, DeviceInfo, list[ModelResult]]]:
        """Results grouped per (session, device), in session then device order."""
        out: dict[tuple[str, str], tuple[str, DeviceInfo, list[ModelResult]]] = {}
        for r in self.results:
            out.setdefault((r.session, r.device.serial), (r.session, r.device, []))[2].append(r)
        return list(out.values())


# ---------------------------------------------------------------------------------------------


def device_info(serial: str, entry: store.SessionDevice | None) -> DeviceInfo:
    if entry is None:
        return DeviceInfo(serial=serial, kind=None, name=serial, abi=None, runtime=None, tags=())
    ident = entry.identity
    name = " ".join(str(x) for x in (ident.get("manufacturer"), ident.get("model")) if x) or serial
    runtime = (
        ", ".join(
            " ".join(str(x) for x in (r.runtime, r.runtime_version) if x) for _, r in sorted(entry.runners.items())
        )
        or None
    )
    return DeviceInfo(
        serial=serial,
        kind=entry.kind,
        name=name,
        abi=(ident.get("abis") or [None])[0],
        runtime=runtime,
        tags=tuple(entry.tags),
        identity=ident,
        preflight=tuple(entry.warnings),
    )


def _device_warnings(dev: DeviceInfo) -> list[StatWarning]:
    out = []
    if "simulated" in dev.tags:
        out.append(
            StatWarning(
                "simulated",
                "simulated phone: latencies are the host's CPU",
                "run on a real phone for phone latencies (`fermbench run --device SERIAL`)",
            )
        )
    if "host" in dev.tags or dev.kind == "host":
        out.append(StatWarning("host", "host CPU, not a phone", "use it as a baseline only"))
    if "emulator" in dev.tags:
        out.append(
            StatWarning(
                "emulator", "emulator: latencies are not a phone's", "run on a physical device for published numbers"
            )
        )
    if "debuggable" in dev.tags:
        out.append(
            StatWarning(
                "debuggable", "debuggable build: the runtime may run slower", "use a user build or a release runner APK"
            )
        )
    return out


def _result_warnings(r: ModelResult) -> list[StatWarning]:
    out: list[StatWarning] = []
    if r.latency is not None:
        out += stats.sample_warnings(r.latency)
    if r.repeat_spread is not None and r.repeat_spread > HIGH_REPEAT_SPREAD:
        out.append(
            StatWarning(
                "repeat_spread",
                f"repeats' medians {r.repeat_spread:.0%} apart",
                "let the device cool down between repeats (--cooldown) and close other apps",
            )
        )
    if r.thermal_max is not None and r.thermal_max >= 1:
        name = THERMAL_NAMES[min(r.thermal_max, len(THERMAL_NAMES) - 1)]
        out.append(
            StatWarning(
                "thermal",
                f"thermal throttling seen (status {r.thermal_max}, {name})",
                "raise --cooldown and rerun once the device is cool",
            )
        )
    if r.target_precision and "max_s" in r.stop_reasons:
        out.append(
            StatWarning(
                "imprecise",
                f"--target-precision {r.target_precision:g} not reached: the timed phase stopped at --max-seconds",
                "raise --max-seconds, or quiet the device",
            )
        )
    for m in METRICS:  # the table's rows that say when a value is worth a warning
        value = r.metrics.get(m.name)
        if m.warns(value):
            out.append(StatWarning(m.name, m.warning.format(value=m.fmt(value)), m.advice))
    if r.trained is False:
        out.append(
            StatWarning(
                "untrained",
                "untrained weights: accuracy is chance",
                "train it (`fermbench train`) and export the checkpoint",
            )
        )
    if r.appsize is not None and r.appsize.kind == "model_only":
        out.append(
            StatWarning(
                "no_apk",
                "app size: model files only (no APK given)",
                "pass --apk runner.apk to measure the APK with the model bundled",
            )
        )
    return out


def dataset_label(accuracy: AccuracyPhase | None) -> str:
    """ "FER-2013", or a labelled image set's folder (or CSV) name, else "labelled images"."""
    if accuracy is None or (accuracy.dataset or FER2013) == FER2013:
        return "FER-2013"
    name = Path(accuracy.source.rstrip("/\\")).name if accuracy.source else ""
    return name or "labelled images"


def model_classes(meta: dict[str, Any]) -> tuple[str, ...]:
    """A model's class names from its metadata: FER-2013's for models stored before metadata named
    them, none for a ready model file (it is timed, not scored, unless its meta names them)."""
    names = meta.get("class_names")
    if names is None:
        return () if meta.get("source") == "file" else CLASS_NAMES
    return tuple(str(n) for n in names)


def _per_class_accuracy(rows: Any, classes: Sequence[str]) -> tuple[ClassAccuracy, ...]:
    """Accuracy per class of a labelled image set (every image is classified): correct / images."""
    out = []
    labels = rows.label.astype(int) if len(rows) else rows
    for index, name in enumerate(classes):
        mine = rows[labels == index] if len(rows) else rows
        n = int(len(mine))
        correct = int((mine.device_pred.astype(int) == index).sum()) if n else 0
        out.append(ClassAccuracy(name, n, n, correct, wilson(correct, n)))
    return tuple(out)


def _per_class(photo_rows: Any, classes: Sequence[str] = CLASS_NAMES) -> tuple[ClassAccuracy, ...]:
    """Real-world accuracy per class from the photo predictions (classified photos only)."""
    out = []
    for index, name in enumerate(classes):
        mine = photo_rows[photo_rows.label.astype(int) == index] if len(photo_rows) else photo_rows
        classified = mine[mine.status == "classified"] if len(mine) else mine
        n = int(len(classified))
        correct = int((classified.device_pred.astype(int) == index).sum()) if n else 0
        out.append(ClassAccuracy(name, int(len(mine)), n, correct, wilson(correct, n)))
    return tuple(out)


def _change_vs_lite_fp32(rows: Any, session: str, rec: store.Record) -> Interval | None:
    """Accuracy of this variant minus the same model's Lite fp32 on the same images (FER-2013, or
    the same labelled set) of the same device, with a paired bootstrap interval; None for Lite
    fp32 itself or without both."""
    if (rec.runtime, rec.quant) == LITE_FP32 or not len(rows):
        return None
    base_key = store.variant_key(rec.model, *LITE_FP32)
    here = rows[(rows.session == session) & (rows.device == rec.device)]
    a, b = here[here.variant == base_key], here[here.variant == rec.key]
    if not len(a) or not len(b):
        return None
    # FER-2013 rows of one split pair by position; a labelled set's by the image's path
    key = "index" if (rec.accuracy is None or (rec.accuracy.dataset or FER2013) == FER2013) else "name"
    pairs = a.merge(b, on=key, suffixes=("_a", "_b"))
    if not len(pairs):
        return None
    return paired_difference(
        (pairs.device_pred_a == pairs.label_a).to_numpy(), (pairs.device_pred_b == pairs.label_b).to_numpy()
    )


def _interval(accuracy: float | None, n: int | None) -> Interval | None:
    if accuracy is None or not n:
        return None
    return wilson(int(round(accuracy * n)), n)


def _foreground(reps: list[store.LatencyRepeat]) -> str | None:
    states = [lat.foreground for lat in reps if lat.foreground is not None]
    if not states:
        return None
    if all(f.importance is None for f in states):
        return None  # no activity manager to ask (the host, a simulated phone): nothing to say
    top = all(f.importance == 100 for f in states)  # ActivityManager IMPORTANCE_FOREGROUND
    names = sorted({f.importance_name or str(f.importance) for f in states})
    return "top app" if top else f"not top ({', '.join(names)})"


def _measured_by(rec: store.Record, dev: store.SessionDevice | None) -> str | None:
    used = next((lat.runtime for lat in rec.latency if lat.runtime is not None), None)
    if used is not None:
        return f"{used.name} {used.version}"
    return None


def repeat_metrics(repeats: Sequence[store.LatencyRepeat]) -> dict[str, int | float | None]:
    """Each row of the metric table over the repeats: measured rows read from the repeat's stored
    metrics, derived ones computed from its fields, then combined as the row says."""

    def value(m: Metric, lat: store.LatencyRepeat) -> int | float | None:
        return m.derive(lat) if m.derive is not None else lat.metrics.get(m.name)

    return {m.name: m.combine([value(m, lat) for lat in repeats]) for m in METRICS}


def _result(
    session: store.StoredSession,
    dev: DeviceInfo,
    rec: store.Record,
    lat: stats.VariantLatency | None,
    photo_rows: Any,
    training_root: Path | None,
    acc_change: Interval | None,
    acc_rows: Any,
) -> ModelResult:
    meta = session.info.models.get(rec.key) or {}  # the training history's keys: report/training.py reads them
    classes = model_classes(meta)
    shape = meta.get("input_shape")
    acc_interval = _interval(rec.accuracy.device_accuracy, rec.accuracy.n) if rec.accuracy else None
    on_fer = rec.accuracy is not None and (rec.accuracy.dataset or FER2013) == FER2013
    identity = session.info.identity(rec.key)
    curve, missing = training_for(rec.model, meta, training_root)
    training = curve.final() if curve is not None else summary_from_meta(meta)
    rw = rec.realworld if rec.realworld is not None and rec.realworld.ok else None
    ok = [lat for lat in rec.latency if lat.ok]
    mems = [lat.memory for lat in ok if lat.memory is not None]
    thermal = [v for lat in ok if lat.thermal is not None for v in lat.thermal.statuses()]
    result = ModelResult(
        session=session.id,
        date=str(session.info.created)[:10],
        device=dev,
        model=rec.model,
        runtime=rec.runtime,
        quant=rec.quant,
        measured_by=_measured_by(rec, session.info.devices.get(rec.device)),
        status=rec.status,
        error=rec.error,
        model_sha256=identity.sha256,
        trained=identity.trained,
        params=identity.params,
        macs=identity.macs,
        model_bytes=identity.bytes,
        accuracy=rec.accuracy,
        realworld=rec.realworld,
        appsize=rec.appsize,
        latency=lat.summary if lat else None,
        repeats=len(lat.repeat_medians) if lat else 0,
        repeat_spread=lat.repeat_spread if lat else None,
        mem_counter=mems[0].counter if mems else None,
        foreground=_foreground(ok),
        thermal_max=max(thermal) if thermal else None,
        training=training,
        curve=curve,
        training_missing=missing,
        fer_interval=acc_interval if on_fer else None,
        fer_change=acc_change if on_fer else None,
        rw_interval=_interval(rw.accuracy, rw.counts.classified) if rw and rw.counts else None,
        rw_per_class=_per_class(photo_rows, classes or CLASS_NAMES) if rw else (),
        warnings=(),
        stop_reasons=tuple(lat.stop_reason for lat in ok if lat.stop_reason),
        target_precision=next(
            (lat.settings.target_precision for lat in ok if lat.settings is not None and lat.settings.target_precision),
            None,
        ),
        metrics=repeat_metrics(ok),
        classes=classes,
        input_shape=tuple(int(d) for d in shape) if shape else None,
        source=meta.get("source"),
        acc_interval=acc_interval,
        acc_change=acc_change,
        acc_per_class=(
            _per_class_accuracy(acc_rows, classes)
            if rec.accuracy is not None and rec.accuracy.ok and not on_fer
            else ()
        ),
    )
    return dataclasses.replace(result, warnings=tuple(_device_warnings(dev) + _result_warnings(result)))


def build_report_data(
    sessions: Sequence[str | Path] | None = None, root: Path | None = None, training_root: Path | None = None
) -> ReportData:
    """Load sessions (ids or folders; default the latest) and training runs into ReportData."""
    loaded = store.load_sessions(list(sessions) if sessions else ["latest"], root=root)
    preds = loaded.predictions
    photos = preds[preds.dataset == "photos"] if len(preds) else preds
    scored = preds[preds.dataset != "photos"] if len(preds) else preds  # the accuracy phases' rows, any set

    samples = loaded.samples
    timed = samples[samples.phase == "timed"] if len(samples) else samples
    results: list[ModelResult] = []
    sample_map: dict[tuple[str, str, str], np.ndarray[Any, Any]] = {}
    for session in loaded.sessions:
        for rec in sorted(session.records, key=lambda r: (r.device, r.variant)):
            dev = device_info(rec.device, session.info.devices.get(rec.device))
            ok_repeats = [lat.repeat for lat in rec.latency if lat.ok]
            mine = (
                timed[
                    (timed.session == session.id)
                    & (timed.device == rec.device)
                    & (timed.variant == rec.key)
                    & timed.repeat.isin(ok_repeats)
                ]
                if len(timed)
                else timed
            )
            lat = stats.variant_latency(
                [g.ns.to_numpy(dtype=np.float64) for _, g in mine.groupby("repeat")] if len(mine) else []
            )
            mine_photos = (
                photos[(photos.session == session.id) & (photos.device == rec.device) & (photos.variant == rec.key)]
                if len(photos)
                else photos
            )
            dataset = (rec.accuracy.dataset if rec.accuracy is not None else None) or FER2013
            same_set = scored[scored.dataset == dataset] if len(scored) else scored
            mine_scored = (
                same_set[
                    (same_set.session == session.id) & (same_set.device == rec.device) & (same_set.variant == rec.key)
                ]
                if len(same_set)
                else same_set
            )
            result = _result(
                session,
                dev,
                rec,
                lat,
                mine_photos,
                training_root if training_root is not None else root,
                _change_vs_lite_fp32(same_set, session.id, rec),
                mine_scored,
            )
            results.append(result)
            if lat is not None:
                sample_map[result.key] = mine.ns.to_numpy(dtype=np.float64)
    order = {s.id: i for i, s in enumerate(loaded.sessions)}
    # Devices in key order, those of one model side by side (at the place of the first of them);
    # within a device: the models in the order the session names them (the zoo's, shallow -> deep ->
    # ResNet-9, by default), each model's Lite fp32 first, then its other runtimes and quantisations.
    first: dict[tuple[str, str], str] = {}
    for r in sorted(results, key=lambda r: r.device.serial):
        first.setdefault((r.session, r.device.name), r.device.serial)
    rank = {(s.id, name): i for s in loaded.sessions for i, name in enumerate(s.info.settings.get("models") or [])}
    results.sort(
        key=lambda r: (
            order[r.session],
            first[(r.session, r.device.name)],
            r.device.serial,
            rank.get((r.session, r.model), len(rank)),
            r.model,
            (r.runtime, r.quant) != LITE_FP32,
            r.runtime,
            r.quant,
        )
    )
    return ReportData(with_device_spread(results), sample_map, loaded.predictions, loaded.sessions)


def with_device_spread(results: list[ModelResult]) -> list[ModelResult]:
    """Each result with its variant's spread over the devices of the same model in its session,
    where two or more of them measured it."""
    peers: dict[tuple[str, str, str], list[ModelResult]] = {}
    for r in results:
        if r.latency is not None:
            peers.setdefault((r.session, r.device.name, r.variant.key), []).append(r)
    spreads = {
        key: DeviceSpread(
            tuple(r.device.serial for r in group), tuple(r.latency.median / 1e6 for r in group if r.latency is not None)
        )
        for key, group in peers.items()
        if len(group) > 1
    }
    return [
        dataclasses.replace(r, device_spread=spreads.get((r.session, r.device.name, r.variant.key)))
        if r.latency is not None
        else r
        for r in results
    ]
