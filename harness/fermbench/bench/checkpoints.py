"""Which checkpoint serves which model in a session, decided before anything is exported.

The folder is --checkpoints (default: models/). A --checkpoints folder that does not exist, or
holds none of the requested models, is a mistake: a typo must never benchmark random weights.
A requested model without <folder>/<model>.ckpt stops the run at start, unless --untrained asks
for random weights where there is no checkpoint. Each file found is loaded here once: its
architecture is checked and its sha256 and training history read, so the log says which file
served which model. A file that cannot serve (truncated, another architecture) fails its model
only; the other models go on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError, ModelError
from ..training.history import MissingHistory, TrainingHistory, training_history
from ..zoo.checkpoint import load_checkpoint, served_line


@dataclass(frozen=True)
class ModelSource:
    """Where one model's weights come from: a checked checkpoint, random weights, or why neither."""

    model: str
    path: Path  # <folder>/<model>.ckpt, whether or not it exists
    sha256: str | None = None  # None: no checkpoint serves the model
    arch: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)  # the checkpoint's meta
    history: TrainingHistory | MissingHistory | None = None
    error: str | None = None  # why the checkpoint cannot serve: this model fails, the others go on

    @property
    def trained(self) -> bool:
        return self.sha256 is not None

    def lines(self) -> list[str]:
        """What the run prints and logs about this model's weights, one line each."""
        if self.error:
            return [f"{self.model}: {self.error}"]
        if self.sha256 is None:
            return [f"{self.model}: random weights, as --untrained allows (there is no {self.path})"]
        out = [served_line(self.model, self.path, self.sha256, self.meta)]
        if isinstance(self.history, MissingHistory):
            out.append(f"{self.model}: {self.history.reason}")
        return out


def resolve_checkpoints(
    models: Sequence[str], checkpoints: str | Path | None, untrained: bool, default: Path
) -> dict[str, ModelSource]:
    """Each requested model's source; ConfigError for a wrong folder or a model left without weights."""
    folder = Path(checkpoints) if checkpoints else default
    if checkpoints is not None and not folder.is_dir():
        raise ConfigError(
            f"--checkpoints {folder}: no such folder; pass the folder that holds the <model>.ckpt "
            "files (e.g. ../shared/weights)"
        )
    files = {m: folder / f"{m}.ckpt" for m in models}
    if checkpoints is not None and not any(f.is_file() for f in files.values()):
        raise ConfigError(
            f"--checkpoints {folder} holds none of {', '.join(f.name for f in files.values())}; "
            "point it at the folder with the trained weights (e.g. ../shared/weights)"
        )
    absent = [m for m, f in files.items() if not f.is_file()]
    if absent and not untrained:
        them = "it" if len(absent) == 1 else "them"
        raise ConfigError(
            f"no checkpoint for {', '.join(absent)} in {folder}: train {them} (`fermbench train "
            f"--model {absent[0]}`), point --checkpoints at a folder that has "
            f"{' and '.join(files[m].name for m in absent)}, or pass --untrained to run {them} "
            "with random weights"
        )
    return {m: _source(m, f) for m, f in files.items()}


def _source(model: str, path: Path) -> ModelSource:
    if not path.is_file():
        return ModelSource(model, path)
    try:
        ckpt = load_checkpoint(path)
    except ModelError as exc:
        return ModelSource(model, path, error=str(exc))
    if ckpt.arch != model:
        return ModelSource(
            model,
            path,
            arch=ckpt.arch,
            error=f"checkpoint {path} holds a {ckpt.arch}, not a {model}: replace it with a {model} "
            f"checkpoint (`fermbench train --model {model}`)",
        )
    return ModelSource(model, path, ckpt.sha256, ckpt.arch, dict(ckpt.meta), training_history(ckpt, path))
