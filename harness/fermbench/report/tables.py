"""The results table: stable columns (csv/json) and per-device sections (terminal, markdown).

COLUMNS is the contract for pipelines: names never change meaning; new ones are appended.
Times are milliseconds, sizes bytes, fractions 0..1, memory KiB.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..intervals import Interval
from ..labels import CLASS_NAMES
from ..measures.metrics import BY_NAME, METRICS
from ..store import SKIPPED
from .findings import findings, is_study_model, study_view
from .formats import (
    MARK,
    MISSING,
    Block,
    Section,
    fmt_int,
    fmt_loss,
    fmt_mb,
    fmt_ms,
    fmt_pct,
    fmt_text,
    render_csv,
    render_json,
    render_markdown,
    render_rich,
)
from .paired import ModelPair, model_pairs, unpaired
from .results import FER2013, ClassAccuracy, DeviceInfo, DeviceSpread, ModelResult, ReportData


def _lat(attr: str, scale: float = 1e6) -> Callable[[ModelResult], Any]:
    def get(r: ModelResult) -> Any:
        if r.latency is None:
            return None
        value = getattr(r.latency, attr)
        return value / scale if scale != 1 else value

    return get


def _metric(name: str) -> Callable[[ModelResult], Any]:
    """A row of the metric table (measures/metrics.py), its repeats combined."""
    BY_NAME[name]  # a name the table lacks fails at import, not in a report
    return lambda r: r.metric(name)


def _shown(name: str) -> tuple[str, str, Callable[[Any], str]]:
    """A metric's latency-table column: its header and formatter, as the table defines them."""
    m = BY_NAME[name]
    assert m.header is not None, f"metric {name} has no header"
    return (m.header, m.name, m.fmt)


def _train(attr: str) -> Callable[[ModelResult], Any]:
    return lambda r: getattr(r.training, attr) if r.training is not None else None


def _phase(phase: str, attr: str) -> Callable[[ModelResult], Any]:
    """A field of one of the record's phases, under the report's column name for it."""

    def get(r: ModelResult) -> Any:
        found = getattr(r, phase)
        return getattr(found, attr) if found is not None else None

    return get


def _fer(attr: str) -> Callable[[ModelResult], Any]:
    """A field of the accuracy phase where it classified FER-2013 (a labelled set's: acc_* columns)."""

    def get(r: ModelResult) -> Any:
        a = r.accuracy
        return getattr(a, attr) if a is not None and (a.dataset or FER2013) == FER2013 else None

    return get


def _count(attr: str) -> Callable[[ModelResult], Any]:
    return lambda r: getattr(r.realworld.counts, attr) if r.realworld and r.realworld.counts else None


# name -> raw value of a ModelResult (csv and json columns, in this order). The record's fields
# keep their names (store/records.py); these column names are the report's published contract.
COLUMNS: dict[str, Callable[[ModelResult], Any]] = {
    "session": lambda r: r.session,
    "date": lambda r: r.date,
    "device": lambda r: r.device.serial,
    "device_name": lambda r: r.device.name,
    "device_kind": lambda r: r.device.kind,
    "device_tags": lambda r: list(r.device.tags),
    "abi": lambda r: r.device.abi,
    "runtime": lambda r: r.measured_by or r.device.runtime,
    "model": lambda r: r.model,
    "status": lambda r: r.status,
    "error": lambda r: r.error,
    "model_sha256": lambda r: r.model_sha256,
    "trained": lambda r: r.trained,
    "params": lambda r: r.params,
    "macs": lambda r: r.macs,
    "model_bytes": lambda r: r.model_bytes,
    "appsize_kind": _phase("appsize", "kind"),
    "apk_bytes": _phase("appsize", "apk_bytes"),
    "apk_with_model_bytes": _phase("appsize", "apk_with_model_bytes"),
    "model_share": _phase("appsize", "model_share"),
    "installed_bytes": _phase("appsize", "installed_bytes"),
    "threads": _metric("threads"),
    "load_ms": _metric("load_ms"),
    "first_inference_ms": _metric("first_inference_ms"),
    "n": _lat("n", 1),
    "median_ms": _lat("median"),
    "p90_ms": _lat("p90"),
    "p99_ms": _lat("p99"),
    "min_ms": _lat("min"),
    "max_ms": _lat("max"),
    "mean_ms": _lat("mean"),
    "std_ms": _lat("std"),
    "mad_ms": _lat("mad"),
    "cv": _lat("cv", 1),
    "repeats": lambda r: r.repeats,
    "repeat_spread": lambda r: r.repeat_spread,
    "mem_counter": lambda r: r.mem_counter,
    "mem_load_kb": _metric("mem_load_kb"),
    "mem_run_kb": _metric("mem_run_kb"),
    "thermal_max": lambda r: r.thermal_max,
    "fer_split": _fer("split"),
    "fer_n": _fer("n"),
    "fer_acc_device": _fer("device_accuracy"),
    "fer_acc_host": _fer("host_accuracy"),
    "fer_agreement": _fer("agreement"),
    "rw_accuracy": _phase("realworld", "accuracy"),
    "rw_photos": _count("photos"),
    "rw_classified": _count("classified"),
    "rw_no_face": _count("no_face"),
    "rw_multi_face": _count("multi_face"),
    "rw_undecodable": _count("undecodable"),
    "train_run": _train("run_id"),
    "train_epochs": _train("epochs"),
    "train_loss": _train("train_loss"),
    "val_loss": _train("val_loss"),
    "val_acc": _train("val_acc"),
    "warnings": lambda r: [w.code for w in r.warnings],
    "device_warnings": lambda r: list(r.device.preflight),
    # appended later: accuracy intervals (95% Wilson) and real-world accuracy per class
    "fer_ci_low": lambda r: r.fer_interval.low if r.fer_interval else None,
    "fer_ci_high": lambda r: r.fer_interval.high if r.fer_interval else None,
    "rw_ci_low": lambda r: r.rw_interval.low if r.rw_interval else None,
    "rw_ci_high": lambda r: r.rw_interval.high if r.rw_interval else None,
    # per class "name:correct/classified/photos", or "name:absent" when the photos lack the class
    "rw_per_class": lambda r: (
        [f"{c.name}:" + ("absent" if c.absent else f"{c.correct}/{c.n}/{c.photos}") for c in r.rw_per_class] or None
    ),
    # appended later: runtimes and quantisation side by side, and the runner's finer measurements
    "export_runtime": lambda r: r.runtime,
    "quant": lambda r: r.quant,
    "trimmed_mean_ms": lambda r: r.latency.trimmed_mean_ms if r.latency else None,
    "runtime_load_ms": _metric("runtime_load_ms"),
    "mem_runtime_kb": _metric("mem_runtime_kb"),
    "peak_rss_kb": _metric("peak_rss_kb"),
    "foreground": lambda r: r.foreground,
    "fer_change_vs_lite_fp32": lambda r: r.fer_change.value if r.fer_change else None,
    "fer_change_ci_low": lambda r: r.fer_change.low if r.fer_change else None,
    "fer_change_ci_high": lambda r: r.fer_change.high if r.fer_change else None,
    # appended later: several devices of one model (a farm, a --shard pool) measured the same variant
    "same_model_devices": lambda r: len(r.device_spread.devices) if r.device_spread else None,
    "device_spread": lambda r: r.device_spread.relative if r.device_spread else None,
    # appended later: the median's distribution-free 95% interval (order statistics; none below 6 samples)
    "median_ci_low_ms": lambda r: r.latency.median_ci_ms[0] if r.latency and r.latency.median_ci_ms else None,
    "median_ci_high_ms": lambda r: r.latency.median_ci_ms[1] if r.latency and r.latency.median_ci_ms else None,
    # what ended each repeat's timed phase: count_and_time, precision (--target-precision met), max_runs, max_s
    "timed_stop": lambda r: list(r.stop_reasons) or None,
}
# Appended from the metric table: each row not placed above gets its column, under its own name.
COLUMNS.update({m.name: _metric(m.name) for m in METRICS if m.name not in COLUMNS})


def _acc_classes(r: ModelResult) -> list[str] | None:
    """Per class of a labelled image set: "name:correct/images", or "name:absent" when the set lacks it."""
    return [f"{c.name}:" + ("absent" if c.absent else f"{c.correct}/{c.n}") for c in r.acc_per_class] or None


# Appended later: any model (issue 26). The model's own input and classes, and its accuracy phase
# on whichever data it classified (fer2013 or a labelled image folder); the fer_* columns above
# keep meaning FER-2013 only, so a labelled set's figures are here alone.
ANY_MODEL_COLUMNS: dict[str, Callable[[ModelResult], Any]] = {
    "model_source": lambda r: r.source,
    "input_shape": lambda r: list(r.input_shape) if r.input_shape else None,
    "class_names": lambda r: list(r.classes) or None,
    "acc_dataset": lambda r: r.acc_dataset,
    "acc_data": lambda r: r.acc_label,
    "acc_source": lambda r: r.accuracy.source if r.acc_dataset and r.accuracy else None,
    "acc_n": lambda r: r.accuracy.n if r.acc_dataset and r.accuracy else None,
    "acc_device": lambda r: r.accuracy.device_accuracy if r.acc_dataset and r.accuracy else None,
    "acc_host": lambda r: r.accuracy.host_accuracy if r.acc_dataset and r.accuracy else None,
    "acc_agreement": lambda r: r.accuracy.agreement if r.acc_dataset and r.accuracy else None,
    "acc_ci_low": lambda r: r.acc_interval.low if r.acc_interval else None,
    "acc_ci_high": lambda r: r.acc_interval.high if r.acc_interval else None,
    "acc_change_vs_lite_fp32": lambda r: r.acc_change.value if r.acc_change else None,
    "acc_change_ci_low": lambda r: r.acc_change.low if r.acc_change else None,
    "acc_change_ci_high": lambda r: r.acc_change.high if r.acc_change else None,
    "acc_per_class": _acc_classes,
}
COLUMNS.update(ANY_MODEL_COLUMNS)
COLUMN_NAMES: tuple[str, ...] = tuple(COLUMNS)


def _class_cell(index: int) -> Callable[[ModelResult], ClassAccuracy | None]:
    return lambda r: r.rw_per_class[index] if r.rw_per_class else None


# Cells only the terminal and markdown tables show (csv and json have the raw columns above).
DISPLAY: dict[str, Callable[[ModelResult], Any]] = {
    "median_ci": lambda r: r.latency.median_ci_ms if r.latency else None,
    "fer_ci": lambda r: r.fer_interval,
    "fer_change": lambda r: r.fer_change,
    "rw_ci": lambda r: r.rw_interval,
    **{f"rw_class_{name}": _class_cell(i) for i, name in enumerate(CLASS_NAMES)},
    "acc_ci": lambda r: r.acc_interval,
    "acc_change": lambda r: r.acc_change,
}


def result_row(r: ModelResult) -> dict[str, Any]:
    return {name: get(r) for name, get in COLUMNS.items()}


def display_row(r: ModelResult) -> dict[str, Any]:
    return {**result_row(r), **{name: get(r) for name, get in DISPLAY.items()}}


def fmt_interval(v: Interval | None) -> str:
    """A 95% interval of a fraction as percentages, '62.9-66.2'."""
    return MISSING if v is None else f"{100 * v.low:.1f}-{100 * v.high:.1f}"


def fmt_ms_interval(v: tuple[float, float] | None) -> str:
    """A latency interval in ms, '6.512-6.601'."""
    return MISSING if v is None else f"{fmt_ms(v[0])}-{fmt_ms(v[1])}"


def fmt_change(v: Interval | None) -> str:
    """A change of accuracy in percentage points with its interval: '-0.4 [-1.2, +0.3]'."""
    return MISSING if v is None else f"{100 * v.value:+.1f} [{100 * v.low:+.1f}, {100 * v.high:+.1f}]"


def fmt_class(v: ClassAccuracy | None) -> str:
    """One class's real-world accuracy with its counts, or 'absent' when the photos lack the class."""
    if v is None:
        return MISSING
    if v.absent:
        return "absent"
    return f"{100 * v.correct / v.n:.1f} ({v.correct}/{v.n})" if v.n else f"{MISSING} (0 of {v.photos} classified)"


# --- display sections ------------------------------------------------------------------------
# (header, column name, formatter); the first header of each section is the model.

Column = tuple[str, str, Callable[[Any], str]]
REALWORLD_COLUMNS: list[Column] = [
    ("Real-world", "rw_accuracy", fmt_pct),
    ("RW 95% CI", "rw_ci", fmt_interval),
    ("Photos", "rw_photos", fmt_int),
    ("Classified", "rw_classified", fmt_int),
    ("No face", "rw_no_face", fmt_int),
    ("Multi-face", "rw_multi_face", fmt_int),
    ("Unreadable", "rw_undecodable", fmt_int),
]
ACCURACY = "Accuracy (%)"

SECTIONS: list[tuple[str, list[Column]]] = [
    (
        "Size",
        [
            ("Status", "status", fmt_text),
            ("Params", "params", fmt_int),
            ("Model MB", "model_bytes", fmt_mb),
            ("APK+model MB", "apk_with_model_bytes", fmt_mb),
            ("Model share %", "model_share", fmt_pct),
            ("Installed MB", "installed_bytes", fmt_mb),
        ],
    ),
    (
        "Latency (ms)",
        [
            _shown("threads"),
            _shown("runtime_load_ms"),
            _shown("load_ms"),
            _shown("first_inference_ms"),
            ("Median", "median_ms", fmt_ms),
            ("Median 95% CI", "median_ci", fmt_ms_interval),
            ("Trimmed", "trimmed_mean_ms", fmt_ms),
            ("p90", "p90_ms", fmt_ms),
            ("p99", "p99_ms", fmt_ms),
            ("Min", "min_ms", fmt_ms),
            ("CV %", "cv", fmt_pct),
            ("n", "n", fmt_int),
            _shown("mem_runtime_kb"),
            _shown("mem_load_kb"),
            _shown("mem_run_kb"),
            _shown("peak_rss_kb"),
            ("Foreground", "foreground", fmt_text),
        ],
    ),
    (
        "Accuracy (%)",
        [
            ("FER n", "fer_n", fmt_int),
            ("FER device", "fer_acc_device", fmt_pct),
            ("FER 95% CI", "fer_ci", fmt_interval),
            ("vs Lite fp32 (pts)", "fer_change", fmt_change),
            ("FER host", "fer_acc_host", fmt_pct),
            ("Agree", "fer_agreement", fmt_pct),
            *REALWORLD_COLUMNS,
        ],
    ),
    ("Real-world accuracy per class (%)", [(name, f"rw_class_{name}", fmt_class) for name in CLASS_NAMES]),
    (
        "Training",
        [
            ("Run", "train_run", fmt_text),
            ("Epochs", "train_epochs", fmt_int),
            ("Train loss", "train_loss", fmt_loss),
            ("Val loss", "val_loss", fmt_loss),
            ("Val acc %", "val_acc", fmt_pct),
        ],
    ),
]
PER_CLASS = "Real-world accuracy per class (%)"
TRAINING = "Training"
TEXT_COLUMNS = {"status", "train_run", "foreground", "acc_data"} | {f"rw_class_{name}" for name in CLASS_NAMES}


def accuracy_columns(results: list[ModelResult]) -> list[Column]:
    """The accuracy section's columns: FER-2013's as ever when every scored model read FER-2013;
    else headed by the one labelled set's name, or (several sets) a column naming each row's set.
    Real-world columns where a model has a real-world phase (FER models only have one)."""
    labels = list(dict.fromkeys(r.acc_label for r in results if r.acc_label is not None))
    if labels in ([], ["FER-2013"]):
        return dict(SECTIONS)[ACCURACY]
    name = labels[0] if len(labels) == 1 else "Acc"
    cols: list[Column] = [] if len(labels) == 1 else [("Data", "acc_data", fmt_text)]
    cols += [
        (f"{name} n", "acc_n", fmt_int),
        (f"{name} device", "acc_device", fmt_pct),
        (f"{name} 95% CI", "acc_ci", fmt_interval),
        ("vs Lite fp32 (pts)", "acc_change", fmt_change),
        (f"{name} host", "acc_host", fmt_pct),
        ("Agree", "acc_agreement", fmt_pct),
    ]
    return cols + (
        REALWORLD_COLUMNS if any(r.realworld is not None and r.realworld.status != SKIPPED for r in results) else []
    )


def class_sections(results: list[ModelResult], rows: list[dict[str, Any]]) -> list[Section]:
    """Accuracy per class on each labelled image set, one table per set and class list: each
    model's own class names, correct/images per class."""
    sets: dict[tuple[str, tuple[str, ...]], list[ModelResult]] = {}
    for r in results:
        if r.acc_per_class:
            sets.setdefault((r.acc_label or "", r.classes), []).append(r)
    out = []
    for (label, classes), members in sets.items():
        section = Section(f"Accuracy per class on {label} (%)", ["Model", *classes], [])
        for r in members:
            section.rows.append([row_label(r, results), *(fmt_class(c) for c in r.acc_per_class)])
        out.append(section)
    return out


# Which cell a warning sits beside (device-wide warnings go under the device heading instead).
WARNING_CELL = {
    "few_samples": "n",
    "no_p99": "p99_ms",
    "heavy_tail": "p99_ms",
    "high_spread": "cv",
    "below_resolution": "median_ms",
    "imprecise": "median_ci",
    "repeat_spread": "median_ms",
    "thermal": "median_ms",
    "untrained": "fer_acc_device",  # acc_device where the section is a labelled set's (CELL_ALIASES)
    **{m.name: "median_ms" for m in METRICS if m.warn_above is not None},  # the timed loop was not clean
}
# A warning's cell under the name it has in a labelled set's accuracy section.
CELL_ALIASES = {"fer_acc_device": "acc_device"}
# Said once under the device heading: they hold for every model measured there.
DEVICE_WARNINGS = {"simulated", "host", "emulator", "debuggable", "no_apk"}


def row_label(r: ModelResult, results: list[ModelResult]) -> str:
    """The model, and its runtime and quantisation where the table holds more than one of those."""
    if len({(x.runtime, x.quant) for x in results}) > 1:
        return f"{r.model} ({r.runtime}, {r.quant})"
    return r.model


def _section(
    title: str,
    cols: list[tuple[str, str, Callable[[Any], str]]],
    results: list[ModelResult],
    rows: list[dict[str, Any]],
) -> Section:
    headers = ["Model"] + [h for h, _, _ in cols]
    section = Section(title, headers, [], numeric={i + 1 for i, (_, c, _) in enumerate(cols) if c not in TEXT_COLUMNS})
    names = {c for _, c, _ in cols}

    def cell(code: str) -> str | None:
        where = WARNING_CELL.get(code)
        return where if where in names else CELL_ALIASES.get(where or "")

    for r, row in zip(results, rows):
        marked = {cell(w.code) for w in r.warnings if cell(w.code) in names}
        cells = [row_label(r, results)]
        for _, col, fmt in cols:
            text = fmt(row[col])
            cells.append(f"{text} {MARK}" if col in marked and text != MISSING else text)
        section.rows.append(cells)
        for w in r.warnings:
            if cell(w.code) in names:
                section.notes.append(f"{MARK} {row_label(r, results)}: {w}")
    return section


def device_heading(session: str, dev: DeviceInfo, results: list[ModelResult]) -> str:
    date = results[0].date if results else ""
    runtime = f" · {'runtimes' if ',' in dev.runtime else 'runtime'} {dev.runtime}" if dev.runtime else ""
    return f"{dev.label} · session {session} · {date}{runtime}"


def build_blocks(data: ReportData) -> list[Block]:
    blocks = []
    status = {s.id: s.status for s in data.sessions}
    for session, dev, results in data.groups():
        rows = [display_row(r) for r in results]
        lines = []
        if status.get(session) == "running":
            lines.append(f"session still running or interrupted: finish it with `fermbench run --resume {session}`")
        seen = set()
        for r in results:
            for w in r.warnings:
                if w.code in DEVICE_WARNINGS and w.code not in seen:
                    seen.add(w.code)
                    lines.append(f"{MARK} {w}")
        lines += [f"{MARK} preflight: {w}" for w in dev.preflight]
        for r in results:
            if r.status != "ok":
                lines.append(f"{row_label(r, results)}: {r.status.upper()}" + (f": {r.error}" if r.error else ""))
        sections = []
        for title, cols in SECTIONS:
            if title == PER_CLASS and not any(r.rw_per_class for r in results):
                continue
            if title == TRAINING and not any(is_study_model(r) or r.training is not None for r in results):
                continue  # no model here was trained by fermbench
            sections.append(_section(title, accuracy_columns(results) if title == ACCURACY else cols, results, rows))
            if title == ACCURACY:
                sections += class_sections(results, rows)
        blocks.append(Block(device_heading(session, dev, results), lines, sections))
    blocks += spread_blocks(data)
    blocks += pair_blocks(data)
    if data.training_problems:
        blocks.append(Block("Training curves not shown", list(data.training_problems), []))
    for heading, items in findings(data):
        blocks.append(Block(f"The study's findings · {heading}", [str(f) for f in items], []))
    return blocks


def accuracy_pairs(data: ReportData) -> list[tuple[str, list[ModelPair], str | None]]:
    """(heading, pairs, why some are not paired) per session and device: every two models scored
    on the same data with the same classes (the study's: trained ones), each as the study ran it."""
    out = []
    for session, dev, results in data.groups():
        view = study_view(results)
        pairs, apart = model_pairs(view, data.predictions), unpaired(view)
        if pairs or apart:
            out.append((f"{dev.label} · session {session}", pairs, apart))
    return out


def pair_blocks(data: ReportData) -> list[Block]:
    """Paired accuracy comparisons between models: the difference, its interval, McNemar's p."""
    blocks = []
    for heading, pairs, apart in accuracy_pairs(data):
        if not pairs:
            assert apart is not None
            blocks.append(Block(f"Paired accuracy comparisons · {heading}", [apart], []))
            continue
        section = Section(
            "Accuracy, model against model on the same images",
            [
                "Data",
                "Models (first - second)",
                "Images",
                "Difference (pts) [95% CI]",
                "Only first right",
                "Only second right",
                "McNemar p",
                "Verdict",
            ],
            [],
            numeric={2, 3, 4, 5, 6},
        )
        for pair in pairs:
            c = pair.comparison
            names = f"{pair.b.model} - {pair.a.model}"
            if c is None:
                section.rows.append([pair.label, names] + [MISSING] * 5 + [f"cannot say: {pair.problem}"])
                continue
            d = c.difference
            verdict = "differ" if c.distinguishable else "not distinguishable"
            section.rows.append(
                [
                    pair.label,
                    names,
                    f"{d.n:,}",
                    f"{100 * d.value:+.1f} [{100 * d.low:+.1f}, {100 * d.high:+.1f}]",
                    f"{c.only_b:,}",
                    f"{c.only_a:,}",
                    f"{c.p_value:.2g}",
                    verdict,
                ]
            )
        how = (
            "paired by image identity; the difference's interval is a bootstrap over images, "
            'McNemar\'s exact test counts the images only one model got right; "not distinguishable" '
            "when the interval includes zero"
        )
        if any(is_study_model(p.a) or is_study_model(p.b) for p in pairs):  # the study's own protocol spread
            how += (
                ". Each model is one training run: differences under about one point are within the "
                "protocol's run-to-run spread"
            )
        lines = [how] + ([apart] if apart else [])
        blocks.append(Block(f"Paired accuracy comparisons · {heading}", lines, [section]))
    return blocks


def spread_blocks(data: ReportData) -> list[Block]:
    """Per device model and session: each variant's median on every device that measured it."""
    groups: dict[tuple[str, str], dict[str, tuple[ModelResult, DeviceSpread]]] = {}
    for r in data.results:
        if r.device_spread is not None:
            groups.setdefault((r.session, r.device.name), {}).setdefault(r.variant.key, (r, r.device_spread))
    blocks = []
    for (session, name), spreads in groups.items():
        firsts = [r for r, _ in spreads.values()]
        section = Section(
            "Median latency on each device (ms)",
            ["Model", "Devices", "Median of medians", "Min", "Max", "Spread %"],
            [],
            numeric={1, 2, 3, 4, 5},
        )
        for r, spread in spreads.values():
            section.rows.append(
                [
                    row_label(r, firsts),
                    str(len(spread.devices)),
                    fmt_ms(spread.median_ms),
                    fmt_ms(min(spread.medians_ms)),
                    fmt_ms(max(spread.medians_ms)),
                    fmt_pct(spread.relative),
                ]
            )
        devices = sorted({d for _, s in spreads.values() for d in s.devices})
        lines = [
            f"devices: {', '.join(devices)}",
            "spread = (max - min) / median of the devices' medians; each device's median pools the repeats "
            "it ran (with --shard, its share of them)",
        ]
        blocks.append(
            Block(f"{name} · {len(devices)} devices · session {session}: device-to-device spread", lines, [section])
        )
    return blocks


def render_results(data: ReportData, fmt: str, width: int | None = None) -> str:
    """The whole results report in one of FORMATS."""
    if fmt == "csv":
        return render_csv(COLUMN_NAMES, [result_row(r) for r in data.results])
    if fmt == "json":
        return render_json(
            {
                "format_version": 1,
                "columns": list(COLUMN_NAMES),
                "results": [{**result_row(r), "warnings": [w.to_dict() for w in r.warnings]} for r in data.results],
                "findings": [
                    {"heading": heading, "findings": [f.to_dict() for f in items]} for heading, items in findings(data)
                ],
                "accuracy_comparisons": [
                    {
                        "heading": heading,
                        "pairs": [p.to_dict() for p in pairs],
                        **({"not_paired": apart} if apart else {}),
                    }
                    for heading, pairs, apart in accuracy_pairs(data)
                ],
            }
        )
    blocks = build_blocks(data)
    if fmt == "markdown":
        return render_markdown(blocks)
    return render_rich(blocks, width=width)
