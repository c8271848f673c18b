"""PNG charts: the study's Charts 1-7, confusion matrices, and latency against accuracy.

Built on matplotlib's object API with the Agg canvas (no pyplot, no global backend switch),
so charts render the same on a headless CI machine. Every chart names its device and date.

  chart1-training-loss.png        training loss per epoch, one line per model
  chart2-validation-loss.png      validation loss per epoch
  chart3-validation-accuracy.png  validation accuracy per epoch
  chart4-model-size.png           exported model size (MB)
  chart5-app-size.png             APK size with the model bundled, split runtime+app / model
  chart6-latency-<device>.png     latency distribution from every raw sample (violin, box, points)
  chart7-realworld-accuracy-<device>.png   real-world photo accuracy beside FER-2013 accuracy
  confusion-<device>.png          FER-2013 confusion matrices (device predictions), one per model
  confusion-<set>-<device>.png    a labelled image set's confusion matrices, each model's own classes
  latency-vs-accuracy-<device>.png   median latency against FER-2013 accuracy, area = model size
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ..fileio import atomic_write_bytes
from ..intervals import Interval, wilson
from ..labels import CLASS_NAMES, INPUT_SHAPE
from ..store import slug
from ..store.records import LITE_FP32
from .results import ModelResult, ReportData
from .training import TrainingRun

DPI = 110
MAX_POINTS = 400  # raw samples drawn as dots per model; the violin uses all of them
TRAINING_CHARTS = (
    ("chart1-training-loss.png", "Chart 1 · Training loss per epoch", "train_loss", "Training loss (cross-entropy)"),
    (
        "chart2-validation-loss.png",
        "Chart 2 · Validation loss per epoch",
        "val_loss",
        "Validation loss (cross-entropy)",
    ),
    ("chart3-validation-accuracy.png", "Chart 3 · Validation accuracy per epoch", "val_acc", "Validation accuracy (%)"),
)


@dataclass(frozen=True)
class ChartFile:
    name: str  # file name inside the charts folder
    path: Path
    title: str


def _figure(width: float = 8.0, height: float = 5.0) -> Figure:
    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _title(fig: Figure, ax: Any, title: str, subtitle: str) -> None:
    ax.set_title(f"{title}\n{subtitle}", fontsize=11, loc="left")


def _save(fig: Figure, path: Path) -> Path:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    return atomic_write_bytes(path, buf.getvalue())


def _name(r: ModelResult, sep: str = "\n") -> str:
    """The model's name on a chart, with its runtime and quantisation unless it is the study's
    PyTorch Lite fp32; untrained weights are flagged wherever the model appears."""
    variant = "" if (r.runtime, r.quant) == LITE_FP32 else f"{sep}{r.runtime} {r.quant}"
    return r.model + variant + (f"{sep}UNTRAINED" if r.trained is False else "")


def _fer_accuracy(r: ModelResult) -> float | None:
    return r.accuracy.device_accuracy if r.accuracy is not None else None


def _where(results: Sequence[ModelResult]) -> str:
    """'device X · session 2024-01-01' naming every device and date in the chart."""
    # tags that change what the numbers mean (simulated = host CPU latencies) travel with the name
    devices = sorted({r.device.label + "".join(f" [{t}]" for t in r.device.tags) for r in results})
    dates = sorted({r.date for r in results if r.date})
    return f"device: {', '.join(devices)} · {', '.join(dates)}"


def _input_text(results: Sequence[ModelResult]) -> str:
    """The models' input as '1x1x48x48', or 'each model's own input' when they differ."""
    shapes = {tuple(r.input_shape or INPUT_SHAPE) for r in results}
    return "x".join(map(str, shapes.pop())) if len(shapes) == 1 else "of each model's own input"


def _chance(results: Sequence[ModelResult]) -> int | None:
    """The number of classes every model has (its chance line is 100/k %); None when they differ."""
    counts = {len(r.classes) for r in results}
    return counts.pop() if len(counts) == 1 and 0 not in counts else None


def _missing(results: Sequence[ModelResult], have: set[str]) -> str:
    """A subtitle line naming the models the chart has no data for (failed ones included)."""
    missing = [f"{r.model} ({r.status})" for r in results if r.model not in have]
    return "\nno data: " + ", ".join(missing) if missing else ""


# --- Charts 1-3: training curves -----------------------------------------------------------


def training_chart(runs: dict[str, TrainingRun], metric: str, title: str, ylabel: str) -> Figure:
    fig = _figure()
    ax = fig.add_subplot()
    for model in sorted(runs):
        run = runs[model]
        values = np.asarray(getattr(run, metric), dtype=float)
        if metric == "val_acc":
            values = 100 * values
        (line,) = ax.plot(run.epochs, values, marker="o", markersize=3, label=f"{model} ({run.run_id})")
        if metric == "val_acc" and run.val_count:  # 95% Wilson band: how sure each epoch's figure is
            bands = [wilson(int(round(a * run.val_count)), run.val_count) for a in getattr(run, metric)]
            ax.fill_between(
                run.epochs,
                [100 * b.low for b in bands if b],
                [100 * b.high for b in bands if b],
                color=line.get_color(),
                alpha=0.15,
                linewidth=0,
            )
    devices = sorted({r.device or "unknown" for r in runs.values()})
    dates = sorted({(r.started or "")[:10] for r in runs.values()} - {""})
    subtitle = f"trained on: {', '.join(devices)}" + (f" · {', '.join(dates)}" if dates else "")
    if metric != "train_loss":  # which precision validation ran in: bf16 figures are not the shipped model's
        subtitle += " · validation in " + ", ".join(
            f"{m} {runs[m].val_precision}" + ("" if runs[m].val_precision == "fp32" else " (the model ships in fp32)")
            for m in sorted(runs)
        )
    if metric == "val_acc":
        counts = sorted({f"n={r.val_count:,}" for r in runs.values() if r.val_count})
        subtitle += "\nshaded: 95% Wilson interval" + (f" ({', '.join(counts)} validation images)" if counts else "")
    _title(fig, ax, title, subtitle)
    ax.set_xlabel("Epoch")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return fig


# --- Charts 4-5: sizes -------------------------------------------------------------------------


def model_size_chart(results: Sequence[ModelResult]) -> Figure:
    fig = _figure()
    ax = fig.add_subplot()
    rows = [(r, r.model_bytes) for r in results if r.model_bytes]
    names = [_name(r) for r, _ in rows]
    mb = [size / 1e6 for _, size in rows]
    bars = ax.bar(names, mb, color="tab:blue")
    for bar, (r, size) in zip(bars, rows):
        label = f"{size / 1e6:.2f} MB" + (f"\n{r.params:,} params" if r.params else "")
        ax.annotate(
            label,
            (bar.get_x() + bar.get_width() / 2, bar.get_height()),
            ha="center",
            va="bottom",
            fontsize=8,
            xytext=(0, 2),
            textcoords="offset points",
        )
    _title(
        fig, ax, "Chart 4 · Model size (the file each runtime loads)", _where(results) + _missing(results, set(names))
    )
    ax.set_ylabel("Model file size (MB, 10^6 bytes)")
    ax.set_ylim(0, max(mb, default=1) * 1.25)
    ax.grid(axis="y", alpha=0.3)
    return fig


def app_size_chart(results: Sequence[ModelResult]) -> Figure:
    fig = _figure()
    ax = fig.add_subplot()
    apk = [r.appsize for r in results if r.appsize and r.appsize.apk_with_model_bytes and r.appsize.apk_bytes]
    if apk:
        names = [_name(r) for r in results if r.appsize in apk]
        base = np.array([a.apk_bytes for a in apk]) / 1e6
        total = np.array([a.apk_with_model_bytes for a in apk]) / 1e6
        ax.bar(names, base, color="tab:gray", label="runner APK (runtime + app)")
        bars = ax.bar(names, total - base, bottom=base, color="tab:orange", label="model asset")
        for bar, a, t in zip(bars, apk, total):
            share = f" ({100 * a.model_share:.1f} % model)" if a.model_share is not None else ""
            ax.annotate(
                f"{t:.2f} MB{share}",
                (bar.get_x() + bar.get_width() / 2, t),
                ha="center",
                va="bottom",
                fontsize=8,
                xytext=(0, 2),
                textcoords="offset points",
            )
        ax.set_ylabel("APK size with the model bundled (MB)")
        ax.set_ylim(0, total.max() * 1.2)
        have = set(names)
        note = "APK measured with each model as an uncompressed, aligned asset"
    else:
        sized = [(_name(r), r.model_bytes) for r in results if r.model_bytes]
        names = [name for name, _ in sized]
        bars = ax.bar(names, [size / 1e6 for _, size in sized], color="tab:orange", label="model file only")
        for bar in bars:
            ax.annotate(
                f"{bar.get_height():.2f} MB",
                (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                ha="center",
                va="bottom",
                fontsize=8,
                xytext=(0, 2),
                textcoords="offset points",
            )
        ax.set_ylabel("Model file size (MB) — no APK measured")
        have = set(names)
        note = "no APK given (--apk): model files only"
    _title(fig, ax, "Chart 5 · App size", f"{_where(results)}\n{note}{_missing(results, have)}")
    ax.legend(fontsize=8, loc="upper left")
    ax.grid(axis="y", alpha=0.3)
    return fig


# --- Chart 6: latency distribution ----------------------------------------------------------


def _median_text(r: ModelResult, ms: np.ndarray) -> str:
    """'6.512 [6.48-6.55]': the median with its 95% interval where there is one."""
    ci = r.latency.median_ci_ms if r.latency else None
    return f"{np.median(ms):.3f}" + (f" [{ci[0]:.3f}-{ci[1]:.3f}]" if ci else "")


def latency_chart(
    results: Sequence[ModelResult], samples: dict[tuple[str, str, str], np.ndarray], seed: int = 0
) -> Figure:
    fig = _figure(8.5, 5.5)
    ax = fig.add_subplot()
    rows = [r for r in results if r.key in samples and samples[r.key].size]
    data = [samples[r.key] / 1e6 for r in rows]
    positions = np.arange(1, len(rows) + 1)
    if data:
        ax.violinplot(data, positions=positions, showextrema=False, widths=0.8)
        ax.boxplot(data, positions=positions, widths=0.15, showfliers=False, medianprops={"color": "black"})
        rng = np.random.default_rng(seed)
        for pos, values in zip(positions, data):
            shown = values if values.size <= MAX_POINTS else rng.choice(values, MAX_POINTS, replace=False)
            ax.scatter(pos + rng.uniform(-0.25, 0.25, shown.size), shown, s=4, alpha=0.35, color="tab:red")
        medians = [float(np.median(v)) for v in data]
        if max(medians) / max(min(medians), 1e-9) > 20:
            ax.set_yscale("log")  # models an order of magnitude apart stay readable
        for pos, r in zip(positions, rows):  # the median's 95% interval, beside its box
            ci = r.latency.median_ci_ms if r.latency else None
            if ci is not None:
                ax.errorbar(
                    pos + 0.2,
                    (ci[0] + ci[1]) / 2,
                    yerr=(ci[1] - ci[0]) / 2,
                    fmt="none",
                    ecolor="black",
                    capsize=3,
                    label="median's 95% interval (order statistics)" if pos == positions[0] else None,
                )
        if ax.get_legend_handles_labels()[0]:
            ax.legend(loc="upper left", fontsize=8)
    ax.set_xticks(
        positions, [f"{_name(r)}\nmedian {_median_text(r, d)} ms\nn={d.size}" for r, d in zip(rows, data)], fontsize=8
    )
    ax.set_ylabel(f"Inference latency (ms, one image {_input_text(rows)})")
    _title(
        fig,
        ax,
        "Chart 6 · Inference latency, every timed sample",
        _where(results) + _missing(results, {r.model for r in rows}),
    )
    ax.grid(axis="y", alpha=0.3)
    return fig


# --- Chart 7: real-world accuracy -----------------------------------------------------------


def realworld_chart(results: Sequence[ModelResult]) -> Figure:
    fig = _figure()
    ax = fig.add_subplot()
    rows = [(r, r.realworld, r.realworld.counts) for r in results if r.realworld and r.realworld.counts]
    x = np.arange(len(rows))
    rw = [100 * (phase.accuracy or 0.0) for _, phase, _ in rows]
    fer = [100 * (_fer_accuracy(r) or 0.0) for r, _, _ in rows]
    ax.bar(x - 0.2, rw, width=0.4, color="tab:green", label="real-world photos")
    ax.bar(x + 0.2, fer, width=0.4, color="tab:blue", alpha=0.5, hatch="//", label="FER-2013 (device)")
    for xs, intervals in (
        (x - 0.2, [r.rw_interval for r, _, _ in rows]),
        (x + 0.2, [r.fer_interval for r, _, _ in rows]),
    ):
        _error_bars(ax, xs, intervals)
    for xi, (r, phase, c), v in zip(x, rows, rw):
        ci = f" [{100 * r.rw_interval.low:.1f}-{100 * r.rw_interval.high:.1f}]" if r.rw_interval else ""
        fer_n = f"\nFER-2013 n={r.accuracy.n:,}" if r.accuracy and r.accuracy.n else ""
        text = (
            f"{v:.1f} %{ci}\n{c.classified}/{c.photos} photos classified\nno face {c.no_face}"
            f", multi {c.multi_face}, unreadable {c.undecodable}{fer_n}"
        )
        if phase.accuracy is None:
            text = "no face classified\n" + text.split("\n", 1)[1]
        ax.annotate(
            text, (xi - 0.2, v), ha="center", va="bottom", fontsize=7, xytext=(0, 2), textcoords="offset points"
        )
    ax.set_xticks(x, [_name(r) for r, _, _ in rows])
    ax.set_ylabel("Accuracy (%)")
    ax.set_ylim(0, 110)
    k = _chance([r for r, _, _ in rows])
    if k is not None:  # one line only when every model has as many classes
        ax.axhline(100 / k, color="gray", linestyle=":", linewidth=1, label=f"chance ({k} classes)")
    _title(
        fig,
        ax,
        "Chart 7 · Real-world accuracy (Haar face crop, classified on the device)",
        _where(results) + "\nbars: 95% Wilson intervals" + _missing(results, {r.model for r, _, _ in rows}),
    )
    ax.legend(fontsize=8, loc="upper right")
    ax.grid(axis="y", alpha=0.3)
    return fig


# --- confusion matrices and latency against accuracy -------------------------------------------


def confusion_matrix(labels: Sequence[int], preds: Sequence[int], k: int = len(CLASS_NAMES)) -> np.ndarray:
    """Counts: rows are true classes, columns predicted classes."""
    cm = np.zeros((k, k), dtype=np.int64)
    np.add.at(cm, (np.asarray(labels, dtype=int), np.asarray(preds, dtype=int)), 1)
    return cm


def confusion_chart(
    matrices: dict[str, np.ndarray[Any, Any]],
    where: str,
    classes: Mapping[str, Sequence[str]] | None = None,
    data: str = "FER-2013",
) -> Figure:
    """One matrix per model, each with its own class names (FER-2013's by default)."""
    n = len(matrices)
    cols = min(n, 3)
    rows = math.ceil(n / cols)
    fig = _figure(5.2 * cols, 4.8 * rows + 0.6)
    for i, (model, cm) in enumerate(sorted(matrices.items())):
        names = list((classes or {}).get(model) or CLASS_NAMES)
        names += [str(j) for j in range(len(names), cm.shape[0])]  # an index past the names: shown as itself
        short = [c[:3] if len(names) <= 10 else c[:2] for c in names]
        ax = fig.add_subplot(rows, cols, i + 1)
        totals = cm.sum(axis=1, keepdims=True)
        pct = np.divide(100.0 * cm, totals, out=np.zeros(cm.shape), where=totals > 0)
        ax.imshow(pct, cmap="Blues", vmin=0, vmax=100)
        for (t, p), _count in np.ndenumerate(cm):
            ax.text(
                p,
                t,
                f"{pct[t, p]:.0f}",
                ha="center",
                va="center",
                fontsize=7,
                color="white" if pct[t, p] > 55 else "black",
            )
        acc = np.trace(cm) / cm.sum() if cm.sum() else float("nan")
        ax.set_title(f"{model}: {100 * acc:.1f} % of {cm.sum()}", fontsize=10)
        ax.set_xticks(range(len(short)), short, fontsize=8)
        ax.set_yticks(range(len(short)), short, fontsize=8)
        ax.set_xlabel("Predicted")
        ax.set_ylabel("True")
    fig.suptitle(f"{data} confusion matrices (row %, device predictions)\n{where}", fontsize=11)
    return fig


def _error_bars(ax: Any, xs: Any, intervals: Sequence[Interval | None]) -> None:
    """95% interval whiskers on bars of percentages (nothing where there is no interval)."""
    for xv, iv in zip(xs, intervals):
        if iv is not None:
            ax.errorbar(
                [xv],
                [100 * iv.value],
                yerr=[[100 * (iv.value - iv.low)], [100 * (iv.high - iv.value)]],
                fmt="none",
                ecolor="black",
                elinewidth=1,
                capsize=3,
            )


def realworld_per_class_chart(results: Sequence[ModelResult]) -> Figure:
    """Real-world accuracy per class and model; a class the photo set lacks is marked absent."""
    fig = _figure(9.0, 5.0)
    ax = fig.add_subplot()
    rows = [r for r in results if r.rw_per_class]
    width = 0.8 / max(len(rows), 1)
    x = np.arange(len(CLASS_NAMES))
    for i, r in enumerate(rows):
        offs = x - 0.4 + width * (i + 0.5)
        present = [(xo, c) for xo, c in zip(offs, r.rw_per_class) if c.n]
        ax.bar([xo for xo, _ in present], [100 * c.correct / c.n for _, c in present], width=width, label=_name(r, " "))
        _error_bars(ax, [xo for xo, _ in present], [c.interval for _, c in present])
        for xo, c in present:
            ax.annotate(f"{c.correct}/{c.n}", (xo, 2), ha="center", fontsize=6, rotation=90, color="white")
    for i in range(len(CLASS_NAMES)):
        first = rows[0].rw_per_class[i] if rows else None
        if first is not None and (first.absent or not first.n):
            note = "absent from\nthe photos" if first.absent else f"none of {first.photos}\nclassified"
            ax.annotate(note, (x[i], 50), ha="center", va="center", fontsize=8, color="gray")
    ax.set_xticks(x, list(CLASS_NAMES))
    ax.set_ylabel("Accuracy of classified photos (%)")
    ax.set_ylim(0, 110)
    _title(
        fig,
        ax,
        "Chart 7b · Real-world accuracy per class",
        _where(results) + "\nbars: 95% Wilson intervals; inside: correct/classified",
    )
    ax.legend(fontsize=8, loc="upper right")
    ax.grid(axis="y", alpha=0.3)
    return fig


def pareto_front(points: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """The (latency, accuracy) points no other point beats on both, by increasing latency."""
    front: list[tuple[float, float]] = []
    for x, y in sorted(points, key=lambda t: (t[0], -t[1])):
        if not front or y > front[-1][1]:
            front.append((x, y))
    return front


def latency_accuracy_chart(results: Sequence[ModelResult]) -> Figure:
    fig = _figure()
    ax = fig.add_subplot()
    rows = [(r, r.latency, acc) for r in results if r.latency is not None and (acc := _fer_accuracy(r)) is not None]
    sizes = np.array([(r.model_bytes or 0) / 1e6 for r, _, _ in rows])
    # marker area proportional to size; the largest model gets 2000 pt^2
    areas = 2000 * sizes / sizes.max() if rows and sizes.max() > 0 else np.full(len(rows), 200.0)
    for (r, lat, acc), area, mb in zip(rows, areas, sizes):
        ax.scatter(lat.median_ms, 100 * acc, s=max(area, 30), alpha=0.5)
        data = f"\non {r.acc_label}" if len({x.acc_label for x, _, _ in rows}) > 1 else ""
        ax.annotate(f"{_name(r)}\n{mb:.2f} MB{data}", (lat.median_ms, 100 * acc), fontsize=8, ha="center", va="center")
    labels = sorted({r.acc_label or "FER-2013" for r, _, _ in rows})
    front = pareto_front([(lat.median_ms, acc) for _, lat, acc in rows]) if len(labels) == 1 else []
    if len(front) > 1:  # the variants no other beats on both speed and accuracy (on the same data only)
        ax.plot(
            [x for x, _ in front],
            [100 * y for _, y in front],
            color="gray",
            linestyle="--",
            linewidth=1,
            label="Pareto front (faster and more accurate than everything beyond it)",
        )
        ax.legend(fontsize=8, loc="lower right")
    ax.set_xlabel("Median latency (ms)")
    ax.set_ylabel(
        f"{labels[0]} accuracy on the device (%)"
        if len(labels) == 1
        else "Accuracy on the device (%), each model on its own data"
    )
    if rows:
        xs = [lat.median_ms for _, lat, _ in rows]
        ax.set_xlim(0, max(xs) * 1.3)
        ys = [100 * acc for _, _, acc in rows]
        ax.set_ylim(max(0, min(ys) - 15), min(100, max(ys) + 15))
    _title(
        fig,
        ax,
        "Latency against accuracy, every variant (marker area = file size)",
        _where(results) + _missing(results, {r.model for r, _, _ in rows}),
    )
    ax.grid(alpha=0.3)
    return fig


# --- writing everything ------------------------------------------------------------------------


def _confusions(data: ReportData, session: str, serial: str, dataset: str = "fer2013") -> dict[str, np.ndarray]:
    """Per model, its accuracy-phase predictions on `dataset` as a k x k matrix, k its classes."""
    preds = data.predictions
    if preds is None or not len(preds) or "device_pred" not in preds.columns:
        return {}
    mine = preds[(preds.session == session) & (preds.device == serial) & (preds.dataset == dataset)]
    classes = {r.model: len(r.classes) for r in data.results if r.session == session and r.device.serial == serial}
    out = {}
    for model, g in mine.groupby("model"):
        g = g.dropna(subset=["label", "device_pred"])
        if len(g):
            labels, preds_ = g.label.astype(int), g.device_pred.astype(int)
            k = max(classes.get(str(model)) or len(CLASS_NAMES), int(labels.max()) + 1, int(preds_.max()) + 1)
            out[str(model)] = confusion_matrix(labels, preds_, k)
    return out


def _labelled_set_confusions(
    data: ReportData, session: str, serial: str, group: Sequence[ModelResult], folder: Path, tag: str
) -> list[ChartFile]:
    """One confusion chart per labelled image set the device's models classified, each model with
    its own class names: confusion-<set>-<device>.png."""
    out = []
    sets = sorted({(r.acc_label or "", r.accuracy.source or "") for r in group if r.acc_per_class and r.accuracy})
    for label, source in sets:
        members = {r.model: r for r in group if r.acc_per_class and r.accuracy and r.accuracy.source == source}
        matrices = {m: cm for m, cm in _confusions(data, session, serial, "images").items() if m in members}
        if not matrices:
            continue
        names = {m: members[m].classes for m in matrices}
        fig = confusion_chart(matrices, _where(list(members.values())), names, data=label)
        name = f"confusion-{slug(label)}-{tag}.png"
        out.append(ChartFile(name, _save(fig, folder / name), f"Confusion matrices · {label}"))
    return out


def write_charts(data: ReportData, out_dir: str | Path) -> tuple[list[ChartFile], list[str]]:
    """Draw every chart the data allows into `out_dir`; returns the files and why others were not drawn.

    One session: charts go straight into out_dir; several: one subfolder per session.
    """
    out_dir = Path(out_dir)
    files: list[ChartFile] = []
    skipped: list[str] = []
    sessions = sorted({r.session for r in data.results})

    def emit(fig: Figure, folder: Path, name: str, title: str) -> None:
        files.append(ChartFile(name, _save(fig, folder / name), title))

    for session in sessions:
        folder = out_dir if len(sessions) == 1 else out_dir / session
        results = [r for r in data.results if r.session == session]
        runs = {r.model: r.curve for r in results if r.curve is not None and r.curve.n_epochs}
        if runs:
            for name, title, metric, ylabel in TRAINING_CHARTS:
                emit(training_chart(runs, metric, title, ylabel), folder, name, title)
        else:
            missing = sorted({r.training_missing for r in results if r.training_missing})
            skipped.append(
                f"{session}: charts 1-3 need the models' training curves; "
                + ("; ".join(missing) if missing else "no model in it is trained")
            )
        emit(model_size_chart(results), folder, "chart4-model-size.png", "Chart 4 · Model size")
        emit(app_size_chart(results), folder, "chart5-app-size.png", "Chart 5 · App size")
        for sess, dev, group in data.groups():
            if sess != session:
                continue
            tag = slug(dev.serial)
            if any(r.key in data.samples for r in group):
                emit(latency_chart(group, data.samples), folder, f"chart6-latency-{tag}.png", "Chart 6 · Latency")
            else:
                skipped.append(f"{session} {dev.serial}: chart 6 needs latency samples; none stored")
            if any(r.realworld and r.realworld.counts for r in group):
                emit(
                    realworld_chart(group),
                    folder,
                    f"chart7-realworld-accuracy-{tag}.png",
                    "Chart 7 · Real-world accuracy",
                )
                emit(
                    realworld_per_class_chart(group),
                    folder,
                    f"chart7b-realworld-per-class-{tag}.png",
                    "Chart 7b · Real-world accuracy per class",
                )
            else:
                skipped.append(f"{session} {dev.serial}: chart 7 needs a real-world photo run (--photos); none stored")
            untrained = {r.model for r in group if r.trained is False}
            matrices = {
                name + (" UNTRAINED" if name in untrained else ""): cm
                for name, cm in _confusions(data, session, dev.serial).items()
            }
            labelled = _labelled_set_confusions(data, session, dev.serial, group, folder, tag)
            if matrices:
                emit(confusion_chart(matrices, _where(group)), folder, f"confusion-{tag}.png", "Confusion matrices")
            elif not labelled:
                skipped.append(
                    f"{session} {dev.serial}: confusion matrices need FER-2013 predictions"
                    + (" or a labelled image set's" if any(r.classes != CLASS_NAMES for r in group) else "")
                    + "; none stored"
                )
            files.extend(labelled)
            if any(r.latency is not None and _fer_accuracy(r) is not None for r in group):
                emit(
                    latency_accuracy_chart(group), folder, f"latency-vs-accuracy-{tag}.png", "Latency against accuracy"
                )
            else:
                skipped.append(
                    f"{session} {dev.serial}: latency-vs-accuracy needs latency and "
                    + ("accuracy" if any(r.classes != CLASS_NAMES for r in group) else "FER-2013 accuracy")
                )
    return files, skipped
