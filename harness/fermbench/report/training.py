"""Training curves for the report: results/training/<run-id>/{metrics.csv, run.json}.

The training step writes one row per epoch to metrics.csv (columns exactly
`epoch,train_loss,val_loss,val_acc,lr,images_per_s,wall_s`) and the run's settings to run.json,
which names the model. The report shows, per model, the run that the exported checkpoint's
meta names (`run_id`), else the latest run of that model (the most recently written metrics).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ResultsError
from ..paths import results_dir

METRIC_COLUMNS = ("epoch", "train_loss", "val_loss", "val_acc", "lr", "images_per_s", "wall_s")
MODEL_KEYS = ("model", "arch")  # run.json key naming the architecture, in order of preference
RUN_ID_KEYS = ("run_id", "training_run", "run")  # checkpoint-meta keys naming the training run


@dataclass(frozen=True)
class TrainingRun:
    """One training run's per-epoch curve (lists indexed like `epochs`) and its run.json."""

    run_id: str
    model: str
    path: Path
    epochs: tuple[int, ...]
    train_loss: tuple[float, ...]
    val_loss: tuple[float, ...]
    val_acc: tuple[float, ...]
    info: dict = field(default_factory=dict, compare=False)
    written: float = 0.0  # mtime of metrics.csv: "latest" means most recently written

    @property
    def n_epochs(self) -> int:
        return len(self.epochs)

    @property
    def planned_epochs(self) -> int | None:
        value = (self.info.get("config") or {}).get("epochs", self.info.get("epochs"))
        return value if isinstance(value, int) else None

    @property
    def device(self) -> str | None:
        value = self.info.get("device")
        return str(value) if value is not None else None

    @property
    def started(self) -> str | None:
        for key in ("started", "created", "start_time"):
            if isinstance(self.info.get(key), str):
                return self.info[key]
        return None

    def final(self) -> "TrainingSummary":
        return TrainingSummary(
            run_id=self.run_id,
            epochs=self.n_epochs,
            planned_epochs=self.planned_epochs,
            train_loss=self.train_loss[-1] if self.epochs else math.nan,
            val_loss=self.val_loss[-1] if self.epochs else math.nan,
            val_acc=self.val_acc[-1] if self.epochs else math.nan,
        )


@dataclass(frozen=True)
class TrainingSummary:
    run_id: str
    epochs: int
    planned_epochs: int | None
    train_loss: float
    val_loss: float
    val_acc: float


def _float(text: str, where: str) -> float:
    try:
        return float(text) if text.strip() != "" else math.nan
    except ValueError as exc:
        raise ResultsError(f"{where}: {text!r} is not a number; the metrics file is corrupt") from exc


def load_training_run(path: Path) -> TrainingRun:
    """Read one run folder. Raises ResultsError naming the file when it is not a training run."""
    path = Path(path)
    metrics, run_json = path / "metrics.csv", path / "run.json"
    try:
        info = json.loads(run_json.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ResultsError(f"{run_json} is missing; not a training run folder") from exc
    except json.JSONDecodeError as exc:
        raise ResultsError(f"{run_json} is not valid JSON ({exc.msg}); the run folder is corrupt") from exc
    if not isinstance(info, dict):
        raise ResultsError(f"{run_json} does not hold a JSON object")
    model = next((info[k] for k in MODEL_KEYS if isinstance(info.get(k), str)), None)
    if model is None:
        raise ResultsError(f"{run_json} names no model (keys {', '.join(MODEL_KEYS)})")
    try:
        lines = metrics.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError as exc:
        raise ResultsError(f"{metrics} is missing; the run wrote no epoch yet") from exc
    header = tuple(h.strip() for h in lines[0].split(",")) if lines else ()
    if header != METRIC_COLUMNS:
        raise ResultsError(f"{metrics}: columns {','.join(header) or '(none)'} are not {','.join(METRIC_COLUMNS)}")
    rows: dict[int, list[float]] = {}
    for lineno, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        cells = line.split(",")
        if len(cells) != len(METRIC_COLUMNS):
            raise ResultsError(f"{metrics}:{lineno}: {len(cells)} cells, expected {len(METRIC_COLUMNS)}")
        values = [_float(c, f"{metrics}:{lineno}") for c in cells]
        rows[int(values[0])] = values  # a resumed run may rewrite an epoch: the last one wins
    ordered = [rows[e] for e in sorted(rows)]
    return TrainingRun(
        run_id=path.name,
        model=model,
        path=path,
        epochs=tuple(int(r[0]) for r in ordered),
        train_loss=tuple(r[1] for r in ordered),
        val_loss=tuple(r[2] for r in ordered),
        val_acc=tuple(r[3] for r in ordered),
        info=info,
        written=metrics.stat().st_mtime,
    )


def find_training_runs(root: Path | None = None) -> tuple[list[TrainingRun], list[str]]:
    """Every readable run under <root>/training, and one problem line per unreadable folder."""
    base = (Path(root) if root is not None else results_dir()) / "training"
    runs, problems = [], []
    if not base.is_dir():
        return runs, problems
    for folder in sorted(p for p in base.iterdir() if p.is_dir()):
        try:
            runs.append(load_training_run(folder))
        except ResultsError as exc:
            problems.append(str(exc))
    return runs, problems


def run_id_from_meta(model_meta: dict | None) -> str | None:
    """The training run an exported model's checkpoint names, if it names one."""
    training = (model_meta or {}).get("training") or {}
    for key in RUN_ID_KEYS:
        if isinstance(training.get(key), str) and training[key]:
            return training[key]
    return None


def summary_from_meta(model_meta: dict | None) -> TrainingSummary | None:
    """The final epoch's numbers as the checkpoint recorded them, when its run folder is absent."""
    training = (model_meta or {}).get("training") or {}
    if not all(isinstance(training.get(k), (int, float)) for k in ("train_loss", "val_loss", "val_acc")):
        return None
    epochs = training.get("epochs")
    return TrainingSummary(
        run_id=str(training.get("run_id") or "checkpoint"),
        epochs=int(epochs) if isinstance(epochs, (int, float)) else 0,
        planned_epochs=None,
        train_loss=float(training["train_loss"]),
        val_loss=float(training["val_loss"]),
        val_acc=float(training["val_acc"]),
    )


def pick_runs(runs: list[TrainingRun], model_meta: dict[str, dict]) -> dict[str, TrainingRun]:
    """Per model: the run its checkpoint names if that run is present, else the latest run."""
    by_id = {r.run_id: r for r in runs}
    picked: dict[str, TrainingRun] = {}
    for run in sorted(runs, key=lambda r: (r.written, r.run_id)):
        picked[run.model] = run  # later runs replace earlier ones: the latest wins
    for model, meta in model_meta.items():
        named = run_id_from_meta(meta)
        if named in by_id and by_id[named].model == model:
            picked[model] = by_id[named]
    return picked
