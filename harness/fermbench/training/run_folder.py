"""One training run on disk: results/training/<run-id>/ with metrics.csv, run.json and state.pt.

- metrics.csv: one row per finished epoch, appended (and fsynced) as it happens.
- run.json: settings, data hashes, torch version, device, status; rewritten atomically.
- state.pt: model, optimizer and scheduler state after the last finished epoch, plus the
  metric rows so far; deleted when the run finishes (the weights stay in models/<model>.ckpt).
  It is written (atomically) BEFORE the epoch's metrics row, so after a kill
  it is the truth: on resume metrics.csv is rewritten from it, and no epoch is lost or repeated.
"""

from __future__ import annotations

import csv
import io
import json
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from .. import paths
from ..errors import ConfigError
from ..fileio import append_line, atomic_write_bytes, atomic_write_json, atomic_write_text

METRIC_COLUMNS = ("epoch", "train_loss", "val_loss", "val_acc", "lr", "images_per_s", "wall_s")
RUN_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


def training_root() -> Path:
    return paths.results_dir() / "training"


def new_run_id(model: str) -> str:
    return f"{model}-{time.strftime('%Y%m%d-%H%M%S')}"


def format_row(row: dict[str, float]) -> str:
    return ",".join(str(int(row[c])) if c == "epoch" else f"{row[c]:.6g}" for c in METRIC_COLUMNS)


@dataclass(frozen=True)
class RunFolder:
    path: Path

    @classmethod
    def for_id(cls, run_id: str) -> RunFolder:
        if not RUN_ID_PATTERN.match(run_id):
            raise ConfigError(f"run id {run_id!r} is not a plain name: use letters, digits, '.', '_' and '-'")
        return cls(training_root() / run_id)

    @property
    def run_id(self) -> str:
        return self.path.name

    @property
    def metrics_csv(self) -> Path:
        return self.path / "metrics.csv"

    @property
    def run_json(self) -> Path:
        return self.path / "run.json"

    @property
    def state_file(self) -> Path:
        return self.path / "state.pt"

    def exists(self) -> bool:
        return self.run_json.is_file()

    def read_info(self) -> dict[str, Any]:
        try:
            info = json.loads(self.run_json.read_text())
        except (OSError, ValueError) as exc:
            raise ConfigError(f"run {self.run_id}: cannot read {self.run_json} ({exc}); start a new run") from exc
        if not isinstance(info, dict):
            raise ConfigError(f"run {self.run_id}: {self.run_json} is not a JSON object; start a new run")
        return info

    def read_metrics(self) -> list[dict[str, float]]:
        """The rows of metrics.csv (epoch as an int), checked: exactly METRIC_COLUMNS, numbers only."""
        try:
            with open(self.metrics_csv, newline="") as fh:
                reader = csv.DictReader(fh)
                if tuple(reader.fieldnames or ()) != METRIC_COLUMNS:
                    raise ValueError(f"columns are not {','.join(METRIC_COLUMNS)}")
                return [{c: int(r[c]) if c == "epoch" else float(r[c]) for c in METRIC_COLUMNS} for r in reader]
        except (OSError, ValueError, TypeError) as exc:
            raise ConfigError(f"run {self.run_id}: cannot read {self.metrics_csv} ({exc}); start a new run") from exc

    def write_info(self, info: dict[str, Any]) -> None:
        atomic_write_json(self.run_json, info)

    def write_metrics(self, rows: list[dict[str, float]]) -> None:
        """Rewrite metrics.csv to exactly `rows` (a fresh start, or a resume)."""
        lines = [",".join(METRIC_COLUMNS)] + [format_row(r) for r in rows]
        atomic_write_text(self.metrics_csv, "\n".join(lines) + "\n")

    def append_metrics(self, row: dict[str, float]) -> None:
        append_line(self.metrics_csv, format_row(row))

    def save_state(self, state: dict[str, Any]) -> None:
        buf = io.BytesIO()
        torch.save(state, buf)
        atomic_write_bytes(self.state_file, buf.getvalue())

    def drop_state(self) -> None:
        self.state_file.unlink(missing_ok=True)

    def load_state(self) -> dict[str, Any] | None:
        """The last saved state, or None when the run died before finishing its first epoch."""
        if not self.state_file.is_file():
            return None
        state: dict[str, Any] = torch.load(self.state_file, map_location="cpu", weights_only=True)
        return state


def latest_unfinished(model: str) -> RunFolder | None:
    """The most recently started run of `model` that did not finish (for a bare `--resume`)."""
    root = training_root()
    if not root.is_dir():
        return None
    found = []
    for run_json in root.glob("*/run.json"):
        try:
            info = json.loads(run_json.read_text())
        except (OSError, ValueError):
            continue
        if info.get("model") == model and info.get("status") != "finished":
            found.append((info.get("started", ""), run_json.parent))
    return RunFolder(max(found)[1]) if found else None
