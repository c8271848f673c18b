"""A trained model's history: its per-epoch curve and the settings of the run that made it.

Checkpoints written by `fermbench train` carry both in their meta ("curve", "settings"), so the
history travels with the weights to any machine. Older checkpoints carry only the run id and the
final figures; their curve is read from that run's folder, beside the checkpoint
(<dir>/runs/<run_id>/) or where `fermbench train` keeps runs (results/training/<run_id>/), and
only when the folder is provably the same run: its name is the checkpoint's run id, and its
run.json's data hash and final figures, and metrics.csv's last row, equal the checkpoint's.
Anything else is reported missing with the reason, never guessed.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..zoo.checkpoint import Checkpoint
from .run_folder import METRIC_COLUMNS, RUN_ID_PATTERN, RunFolder, training_root

# the run.json keys a history keeps as its settings (the same whether embedded or read from a run)
SETTINGS_KEYS = (
    "run_id",
    "model",
    "config",
    "protocol_deviations",
    "data",
    "data_hash",
    "device",
    "torch",
    "python",
    "fermbench",
    "optimizer",
    "resumed",
    "val_precision",
)
FINAL_FIGURES = ("train_loss", "val_loss", "val_acc")
CSV_REL_TOL = 1e-5  # metrics.csv keeps 6 significant digits


@dataclass(frozen=True)
class EpochRow:
    epoch: int
    train_loss: float
    val_loss: float
    val_acc: float
    lr: float
    images_per_s: float
    wall_s: float

    @classmethod
    def from_dict(cls, row: Mapping[str, Any]) -> EpochRow:
        return cls(int(row["epoch"]), *(float(row[c]) for c in METRIC_COLUMNS[1:]))

    def to_dict(self) -> dict[str, float]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class TrainingHistory:
    run_id: str
    settings: dict[str, Any]
    curve: tuple[EpochRow, ...]
    source: str  # "checkpoint", or "run folder <path>"

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "settings": self.settings,
            "curve": [r.to_dict() for r in self.curve],
            "source": self.source,
        }


@dataclass(frozen=True)
class MissingHistory:
    reason: str  # "no training curve: ..."

    def to_dict(self) -> dict[str, Any]:
        return {"missing": self.reason}


def run_settings(info: Mapping[str, Any]) -> dict[str, Any]:
    """What a history keeps of a run.json (or of the trainer's info, which becomes one)."""
    return {k: info[k] for k in SETTINGS_KEYS if k in info}


def embedded_meta(rows: Sequence[Mapping[str, float]], info: Mapping[str, Any]) -> dict[str, Any]:
    """The history keys `fermbench train` writes into a checkpoint's meta."""
    return {"curve": [EpochRow.from_dict(r).to_dict() for r in rows], "settings": run_settings(info)}


def training_history(ckpt: Checkpoint, path: Path) -> TrainingHistory | MissingHistory:
    """The history of the checkpoint loaded from `path`: embedded, else from its own run folder."""
    meta = ckpt.meta
    run_id = meta.get("run_id")
    if "curve" in meta:
        try:
            curve = tuple(EpochRow.from_dict(r) for r in meta["curve"])
        except (KeyError, TypeError, ValueError) as exc:
            return MissingHistory(f"no training curve: the curve in {path} is unreadable ({exc!r})")
        return TrainingHistory(str(run_id), dict(meta.get("settings") or {}), curve, "checkpoint")
    if not isinstance(run_id, str) or not RUN_ID_PATTERN.match(run_id):
        return MissingHistory(f"no training curve: checkpoint {path} names no training run")
    places = [path.parent / "runs", training_root()]
    mismatches = []
    for root in places:
        run = RunFolder(root / run_id)
        if run.exists():
            found = _from_run_folder(run, meta)
            if isinstance(found, TrainingHistory):
                return found
            mismatches.append(found)
    if mismatches:
        return mismatches[0]
    return MissingHistory(
        f"no training curve: checkpoint names run {run_id}, not found beside it in {places[0]} or in {places[1]}"
    )


def _from_run_folder(run: RunFolder, meta: Mapping[str, Any]) -> TrainingHistory | MissingHistory:
    try:
        info = run.read_info()
        rows = run.read_metrics()
    except ConfigError as exc:
        return MissingHistory(f"no training curve: {exc}")
    final: dict[str, Any] = info["final"] if isinstance(info.get("final"), dict) else {}
    differs = []
    if info.get("run_id", run.run_id) != run.run_id:
        differs.append(f"run.json names run {info.get('run_id')}")
    if info.get("data_hash") != meta.get("data_hash"):
        differs.append("data hash differs")
    if final.get("epoch") != meta.get("epochs"):
        differs.append(f"final epoch {final.get('epoch')}, checkpoint's {meta.get('epochs')}")
    differs += [
        f"final {k} {final.get(k)}, checkpoint's {meta.get(k)}"
        for k in FINAL_FIGURES
        if not _same(final.get(k), meta.get(k), 1e-9)
    ]
    if not differs:
        last = rows[-1] if rows else {}
        if (
            [r["epoch"] for r in rows] != list(range(1, len(rows) + 1))
            or last.get("epoch") != meta.get("epochs")
            or not all(_same(last.get(k), meta.get(k), CSV_REL_TOL) for k in FINAL_FIGURES)
        ):
            differs.append("metrics.csv does not end at the checkpoint's epoch and figures")
    if differs:
        return MissingHistory(
            f"no training curve: run folder {run.path} is not the checkpoint's run ({'; '.join(differs)})"
        )
    return TrainingHistory(
        run.run_id, run_settings(info), tuple(EpochRow.from_dict(r) for r in rows), f"run folder {run.path}"
    )


def _same(a: Any, b: Any, rel_tol: float) -> bool:
    if isinstance(a, bool) or isinstance(b, bool) or not isinstance(a, (int, float)) or not isinstance(b, (int, float)):
        return False
    return math.isclose(a, b, rel_tol=rel_tol, abs_tol=1e-12)
