"""Training curves for the report (charts 1-3 and the Training table), attributed by identity.

A model's curve comes from the session itself: the exporter copies the checkpoint's training
history into the model's meta (`training.curve`), whatever machine trained it. Sessions written
before checkpoints carried their history fall back to the run folder that the checkpoint names
(`training.run_id`) under <results>/training/, and only when that run's data hash and final
figures are the checkpoint's own. Nothing is ever picked by recency or by model name: a curve
that cannot be attributed is reported missing, with the reason.

A run folder holds metrics.csv (one row per epoch, columns exactly
`epoch,train_loss,val_loss,val_acc,lr,images_per_s,wall_s`) and run.json (the settings).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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
    info: dict[str, Any] = field(default_factory=dict, compare=False)
    source: str = ""  # where the curve was read: "session" or the run folder's path

    @property
    def n_epochs(self) -> int:
        return len(self.epochs)

    @property
    def planned_epochs(self) -> int | None:
        value = (self.info.get("config") or {}).get("epochs", self.info.get("epochs"))
        return value if isinstance(value, int) else None

    @property
    def val_precision(self) -> str:
        """The precision its validation ran in: recorded since runs validate in fp32; before that,
        the training precision (what the trainer then used)."""
        value = self.info.get("val_precision")
        if isinstance(value, str):
            return value
        return str((self.info.get("config") or {}).get("precision", "fp32"))

    @property
    def device(self) -> str | None:
        value = self.info.get("device")
        return str(value) if value is not None else None

    @property
    def val_count(self) -> int | None:
        """Validation images behind each val_acc (for its confidence interval), when recorded."""
        value = (self.info.get("data") or {}).get("val_count")
        return value if isinstance(value, int) and value > 0 else None

    @property
    def started(self) -> str | None:
        for key in ("started", "created", "start_time"):
            value = self.info.get(key)
            if isinstance(value, str):
                return value
        return None

    def final(self) -> TrainingSummary:
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
        source=str(path),
    )


def run_from_curve(model: str, training: dict[str, Any]) -> TrainingRun:
    """A curve embedded in a model's meta (`training.curve`, rows of METRIC_COLUMNS)."""
    rows = sorted((r for r in training.get("curve") or [] if isinstance(r, dict)), key=lambda r: r.get("epoch", 0))
    try:
        values = [(int(r["epoch"]), float(r["train_loss"]), float(r["val_loss"]), float(r["val_acc"])) for r in rows]
    except (KeyError, TypeError, ValueError) as exc:
        raise ResultsError(
            f"{model}: the training curve in the session is malformed ({exc}); re-export the model"
        ) from exc
    settings = training.get("settings")
    return TrainingRun(
        run_id=str(training.get("run_id") or "checkpoint"),
        model=model,
        path=Path(str(training.get("source") or "session")),
        epochs=tuple(v[0] for v in values),
        train_loss=tuple(v[1] for v in values),
        val_loss=tuple(v[2] for v in values),
        val_acc=tuple(v[3] for v in values),
        info=settings if isinstance(settings, dict) else {},
        source="session",
    )


def training_for(
    model: str, model_meta: dict[str, Any] | None, root: Path | None = None
) -> tuple[TrainingRun | None, str | None]:
    """(curve, why it is missing) for one exported model; (None, None) for untrained weights."""
    meta = model_meta or {}
    if not meta.get("trained"):
        return None, None
    training = meta.get("training")
    if not isinstance(training, dict):
        return None, f"{model}: no training history in the session (its checkpoint recorded none)"
    if isinstance(training.get("missing"), str):
        return None, f"{model}: {training['missing']}"
    if training.get("curve"):
        return run_from_curve(model, training), None
    run_id = run_id_from_meta(meta)
    if run_id is None:
        return None, f"{model}: its checkpoint names no training run and carries no curve"
    folder = (Path(root) if root is not None else results_dir()) / "training" / run_id
    if not folder.is_dir():
        return None, f"{model}: its checkpoint names training run {run_id}, not found in {folder.parent}"
    try:
        run = load_training_run(folder)
    except ResultsError as exc:
        return None, f"{model}: {exc}"
    why = _not_the_checkpoints_run(run, training)
    if why:
        return None, f"{model}: training run {run_id} in {folder.parent} is not its checkpoint's run ({why})"
    return run, None


def _not_the_checkpoints_run(run: TrainingRun, training: dict[str, Any]) -> str | None:
    """Why a run folder is not the one the checkpoint came from, or None when its identity matches."""
    hash_ckpt, hash_run = training.get("data_hash"), run.info.get("data_hash")
    if hash_ckpt and hash_run and hash_ckpt != hash_run:
        return f"data hash {str(hash_run)[:12]} != {str(hash_ckpt)[:12]}"
    if not run.epochs:
        return "it has no epochs"
    if isinstance(training.get("epochs"), int) and training["epochs"] != run.epochs[-1]:
        return f"{run.epochs[-1]} epochs, the checkpoint has {training['epochs']}"
    for key, values in (("train_loss", run.train_loss), ("val_loss", run.val_loss), ("val_acc", run.val_acc)):
        want = training.get(key)
        if isinstance(want, (int, float)) and not math.isclose(values[-1], want, rel_tol=1e-4, abs_tol=1e-6):
            return f"final {key} {values[-1]:.6g} != {want:.6g}"
    return None


def run_id_from_meta(model_meta: dict[str, Any] | None) -> str | None:
    """The training run an exported model's checkpoint names, if it names one."""
    training = (model_meta or {}).get("training") or {}
    for key in RUN_ID_KEYS:
        value = training.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def summary_from_meta(model_meta: dict[str, Any] | None) -> TrainingSummary | None:
    """The final epoch's numbers as the checkpoint recorded them, when its curve is missing."""
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
