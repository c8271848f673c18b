"""Stored sessions -> one typed ModelResult per (session, device, model), with its warnings.

Latency is recomputed from the raw timed samples of every successful repeat (pooled), so the
report never trusts a stored summary it can derive; the repeats' medians give the run-to-run
spread. Everything else comes from `fermbench.store.load_sessions` frames and session.json.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from .. import stats, store
from ..stats import LatencySummary, StatWarning
from .training import TrainingRun, TrainingSummary, find_training_runs, pick_runs, summary_from_meta

THERMAL_NAMES = ("none", "light", "moderate", "severe", "critical", "emergency", "shutdown")
HIGH_REPEAT_SPREAD = 0.05  # medians of repeats more than 5 % apart: the device was not steady


@dataclass(frozen=True)
class DeviceInfo:
    serial: str
    kind: str | None
    name: str  # "Google Pixel 7", or the serial when the identity is unknown
    abi: str | None
    runtime: str | None  # "pytorch_lite 2.1.0"
    tags: tuple[str, ...]
    identity: dict = field(default_factory=dict, compare=False)
    preflight: tuple[str, ...] = ()  # the run's own warnings about the device (battery, build, ...)

    @property
    def label(self) -> str:
        return self.name if self.name == self.serial else f"{self.name} ({self.serial})"


@dataclass(frozen=True)
class ModelResult:
    """Everything the report shows for one model on one device in one session."""

    session: str
    date: str  # YYYY-MM-DD of the session
    device: DeviceInfo
    model: str
    status: str  # ok | failed | running
    error: str | None
    model_sha256: str | None
    trained: bool | None
    params: int | None
    macs: int | None
    model_bytes: int | None
    appsize_kind: str | None  # apk | model_only
    apk_bytes: int | None
    apk_with_model_bytes: int | None
    model_share: float | None
    installed_bytes: int | None
    threads: int | None
    latency: LatencySummary | None
    repeats: int
    repeat_spread: float | None  # (max - min) / median of the repeats' medians
    load_ms: float | None
    first_inference_ms: float | None
    mem_counter: str | None
    mem_load_kb: float | None  # after load - before load
    mem_run_kb: float | None  # after run - before load
    thermal_max: int | None
    fer_split: str | None
    fer_n: int | None
    fer_acc_device: float | None
    fer_acc_host: float | None
    fer_agreement: float | None
    rw_accuracy: float | None
    rw_photos: int | None
    rw_classified: int | None
    rw_no_face: int | None
    rw_multi_face: int | None
    rw_undecodable: int | None
    training: TrainingSummary | None
    warnings: tuple[StatWarning, ...]

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.session, self.device.serial, self.model)


@dataclass
class ReportData:
    """What every output (tables, charts, comparisons) is built from."""

    results: list[ModelResult]
    samples: dict[tuple[str, str, str], np.ndarray]  # timed ns per ModelResult.key
    predictions: Any  # DataFrame from the store
    training_runs: dict[str, TrainingRun]  # per model
    training_problems: list[str]
    sessions: list[store.Session]

    def groups(self) -> list[tuple[str, DeviceInfo, list[ModelResult]]]:
        """Results grouped per (session, device), in session then device order."""
        out: dict[tuple[str, str], tuple[str, DeviceInfo, list[ModelResult]]] = {}
        for r in self.results:
            out.setdefault((r.session, r.device.serial), (r.session, r.device, []))[2].append(r)
        return list(out.values())


# ---------------------------------------------------------------------------------------------


def _clean(value: Any) -> Any:
    """NaN/None from pandas -> None; numpy scalars -> Python numbers."""
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, np.generic):
        value = value.item()
        return None if isinstance(value, float) and math.isnan(value) else value
    return value


def _int(value: Any) -> int | None:
    value = _clean(value)
    return int(value) if value is not None else None


def _num(series):
    """A numeric copy of a frame column (None -> NaN), so arithmetic never meets None."""
    return pd.to_numeric(series, errors="coerce")


def _median(values: Sequence[Any]) -> float | None:
    clean = [float(v) for v in (_clean(x) for x in values) if v is not None]
    return float(np.median(clean)) if clean else None


def device_info(serial: str, entry: dict) -> DeviceInfo:
    ident = entry.get("identity") or {}
    runner = entry.get("runner") or {}
    name = " ".join(str(x) for x in (ident.get("manufacturer"), ident.get("model")) if x) or serial
    runtime = " ".join(str(x) for x in (runner.get("runtime"), runner.get("runtime_version")) if x) or None
    return DeviceInfo(
        serial=serial,
        kind=entry.get("kind"),
        name=name,
        abi=(ident.get("abis") or [None])[0],
        runtime=runtime,
        tags=tuple(entry.get("tags") or ()),
        identity=ident,
        preflight=tuple(str(w) for w in entry.get("warnings") or ()),
    )


def _device_warnings(dev: DeviceInfo) -> list[StatWarning]:
    out = []
    if "simulated" in dev.tags:
        out.append(StatWarning("simulated", "simulated phone: latencies are the host's CPU",
                               "run on a real phone for phone latencies (`fermbench run --device SERIAL`)"))
    if "host" in dev.tags or dev.kind == "host":
        out.append(StatWarning("host", "host CPU, not a phone", "use it as a baseline only"))
    if "emulator" in dev.tags:
        out.append(StatWarning("emulator", "emulator: latencies are not a phone's",
                               "run on a physical device for published numbers"))
    if "debuggable" in dev.tags:
        out.append(StatWarning("debuggable", "debuggable build: the runtime may run slower",
                               "use a user build or a release runner APK"))
    return out


def _result_warnings(r: dict) -> list[StatWarning]:
    out: list[StatWarning] = []
    if r["latency"] is not None:
        out += stats.sample_warnings(r["latency"])
    if r["repeat_spread"] is not None and r["repeat_spread"] > HIGH_REPEAT_SPREAD:
        out.append(StatWarning("repeat_spread", f"repeats' medians {r['repeat_spread']:.0%} apart",
                               "let the device cool down between repeats (--cooldown) and close other apps"))
    if r["thermal_max"] is not None and r["thermal_max"] >= 1:
        name = THERMAL_NAMES[min(r["thermal_max"], len(THERMAL_NAMES) - 1)]
        out.append(StatWarning("thermal", f"thermal throttling seen (status {r['thermal_max']}, {name})",
                               "raise --cooldown and rerun once the device is cool"))
    if r["trained"] is False:
        out.append(StatWarning("untrained", "untrained weights: accuracy is chance",
                               "train it (`fermbench train`) and export the checkpoint"))
    if r["appsize_kind"] == "model_only":
        out.append(StatWarning("no_apk", "app size: model files only (no APK given)",
                               "pass --apk runner.apk to measure the APK with the model bundled"))
    return out


def _result(session: store.Session, dev: DeviceInfo, model: str, rows, timed: np.ndarray | None,
            repeat_medians: list[float], training: TrainingSummary | None) -> ModelResult:
    first = rows.iloc[0]
    ok_rows = rows[rows.latency_status == store.OK]
    mem_before = _num(ok_rows.mem_before_load_kb)
    latency = stats.summarize_ns(timed) if timed is not None and timed.size else None
    spread = stats.repeat_spread([[m] for m in repeat_medians]).relative_range if len(repeat_medians) > 1 else None
    thermal = [v for v in (_int(x) for x in list(ok_rows.thermal_before) + list(ok_rows.thermal_after)) if v is not None]
    fields = dict(
        session=session.id,
        date=str(session.info.get("created", ""))[:10],
        device=dev,
        model=model,
        status=str(first.status),
        error=_clean(first.error),
        model_sha256=_clean(first.model_sha256),
        trained=_clean(first.trained),
        params=_int(first.params),
        macs=_int(first.macs),
        model_bytes=_int(first.model_bytes),
        appsize_kind=_clean(first.appsize_kind),
        apk_bytes=_int(first.apk_bytes),
        apk_with_model_bytes=_int(first.apk_with_model_bytes),
        model_share=_clean(first.model_share),
        installed_bytes=_int(first.installed_bytes),
        threads=_int(_median(ok_rows.threads)),
        latency=latency,
        repeats=len(repeat_medians),
        repeat_spread=spread,
        load_ms=_median(ok_rows.load_ms),
        first_inference_ms=_median(ok_rows.first_inference_ms),
        mem_counter=_clean(ok_rows.mem_counter.iloc[0]) if len(ok_rows) else None,
        mem_load_kb=_median(_num(ok_rows.mem_after_load_kb) - mem_before),
        mem_run_kb=_median(_num(ok_rows.mem_after_run_kb) - mem_before),
        thermal_max=max(thermal) if thermal else None,
        fer_split=_clean(first.fer_split),
        fer_n=_int(first.fer_n),
        fer_acc_device=_clean(first.fer_accuracy_device),
        fer_acc_host=_clean(first.fer_accuracy_host),
        fer_agreement=_clean(first.fer_agreement),
        rw_accuracy=_clean(first.rw_accuracy),
        rw_photos=_int(first.rw_photos),
        rw_classified=_int(first.rw_classified),
        rw_no_face=_int(first.rw_no_face),
        rw_multi_face=_int(first.rw_multi_face),
        rw_undecodable=_int(first.rw_undecodable),
        training=training,
    )
    if fields["model_bytes"] is None:
        fields["model_bytes"] = _int(((session.info.get("models") or {}).get(model) or {}).get("bytes"))
    warnings = _device_warnings(dev) + _result_warnings(fields)
    return ModelResult(**fields, warnings=tuple(warnings))


def build_report_data(sessions: Sequence[str | Path] | None = None, root: Path | None = None,
                      training_root: Path | None = None) -> ReportData:
    """Load sessions (ids or folders; default the latest) and training runs into ReportData."""
    loaded = store.load_sessions(list(sessions) if sessions else ["latest"], root=root)
    runs_all, problems = find_training_runs(training_root if training_root is not None else root)
    model_meta: dict[str, dict] = {}
    for s in loaded.sessions:
        model_meta.update(s.info.get("models") or {})
    picked = pick_runs(runs_all, model_meta)

    runs, samples = loaded.runs, loaded.samples
    timed = samples[samples.phase == "timed"] if len(samples) else samples
    results: list[ModelResult] = []
    sample_map: dict[tuple[str, str, str], np.ndarray] = {}
    for session in loaded.sessions:
        devices = session.info.get("devices") or {}
        srows = runs[runs.session == session.id]
        for (serial, model), rows in srows.groupby(["device", "model"], sort=True):
            dev = device_info(serial, devices.get(serial, {}))
            ok_repeats = [int(x) for x in rows[rows.latency_status == store.OK].repeat.dropna()]
            mine = timed[(timed.session == session.id) & (timed.device == serial) & (timed.model == model)
                         & timed.repeat.isin(ok_repeats)] if len(timed) else timed
            values = mine.ns.to_numpy(dtype=np.float64) if len(mine) else None
            medians = [float(np.median(g.ns.to_numpy(dtype=np.float64))) for _, g in mine.groupby("repeat")] if len(mine) else []
            run = picked.get(model)
            summary = run.final() if run else summary_from_meta((session.info.get("models") or {}).get(model))
            result = _result(session, dev, model, rows, values, medians, summary)
            results.append(result)
            if values is not None:
                sample_map[result.key] = values
    # Smallest model first within each device (the study's order: shallow -> deep -> ResNet).
    order = {s.id: i for i, s in enumerate(loaded.sessions)}
    results.sort(key=lambda r: (order[r.session], r.device.serial, r.model_bytes is None, r.model_bytes or 0, r.model))
    return ReportData(results, sample_map, loaded.predictions, picked, problems, loaded.sessions)
