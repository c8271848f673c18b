"""Export one zoo model: its weights (a checkpoint, or seeded fresh ones loudly marked), what
identifies them, and the exporter the registry (runtimes/) names for the chosen runtime."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from torch import nn

from .. import runtimes
from ..errors import ExportError
from ..paths import models_dir
from ..zoo.registry import build_model, check_name, count_macs
from .common import Exporter, ExportResult
from .fer_samples import fer_samples
from .runtimes import DEFAULT_RUNTIME, LiteRuntime, check_quant, get_runtime

UNTRAINED_NOTE = "UNTRAINED: freshly initialised weights; accuracy numbers from this model are meaningless"


def default_checkpoint(name: str) -> Path:
    return models_dir() / f"{name}.ckpt"


def model_and_identity(
    name: str, checkpoint: str | Path | None, untrained: bool, seed: int
) -> tuple[nn.Module, dict[str, Any], list[str]]:
    """The model to export, the metadata that identifies its weights, and warnings to show. A
    checkpoint's training history (curve and settings, or why it is missing) goes into `training`."""
    from ..training.history import MissingHistory, training_history
    from ..zoo.checkpoint import model_from_checkpoint

    ckpt_path = Path(checkpoint) if checkpoint is not None else default_checkpoint(name)
    if checkpoint is not None and untrained:
        raise ExportError("--checkpoint and --untrained contradict each other: pass one of them")
    notes: list[str] = []
    identity: dict[str, Any]
    if not untrained and (checkpoint is not None or ckpt_path.exists()):
        model, ckpt = model_from_checkpoint(ckpt_path, expect_arch=name)
        history = training_history(ckpt, ckpt_path)
        if isinstance(history, MissingHistory):
            notes.append(f"{name}: {history.reason}")
        scalars = {k: ckpt.meta[k] for k in sorted(ckpt.meta) if isinstance(ckpt.meta[k], (int, float, str, bool))}
        identity = {
            "arch": ckpt.arch,
            "trained": True,
            "checkpoint": {"path": str(ckpt_path), "sha256": ckpt.sha256},
            "training": {**scalars, **history.to_dict()},
        }
    else:
        model = build_model(name, seed=seed)
        identity = {
            "arch": name,
            "trained": False,
            "checkpoint": None,
            "init_seed": seed,
            "warning": UNTRAINED_NOTE,
            "training": MissingHistory("no training curve: untrained weights").to_dict(),
        }
        notes.append(f"{name}: {UNTRAINED_NOTE} (no checkpoint at {ckpt_path})")
    identity.update({"params": sum(p.numel() for p in model.parameters()), "macs": count_macs(model)})
    return model, identity, notes


def export_model(
    name: str,
    checkpoint: str | Path | None = None,
    out_dir: str | Path | None = None,
    bytecode: int | None = None,
    runtime: str = DEFAULT_RUNTIME,
    untrained: bool = False,
    seed: int = 0,
    quant: str = "fp32",
    fer_data: str | Path | None = None,
) -> ExportResult:
    """Export one zoo model from a checkpoint (default models/<name>.ckpt) or, when there is none
    (or `untrained`), from seeded fresh weights, loudly marked as untrained.

    The file and its metadata are named as the runtime says (runtimes/: <name>.ptl, <name>.<quant>.pte,
    ...); int8 reads calibration and agreement images from the FER-2013 copy at `fer_data`.
    """
    check_name(name)
    target = get_runtime(runtime)
    check_quant(target, quant)
    if bytecode is not None and not isinstance(target, LiteRuntime):
        raise ExportError(f"--bytecode applies to the Lite runtimes only: drop it for {target.name}")
    exporter: Exporter = runtimes.resolve(runtimes.by_version(target.name).exporter)
    # Read the images first: a bad --fer-data should not wait for the model.
    samples = fer_samples(fer_data) if quant == "int8" else None
    out = Path(out_dir) if out_dir is not None else models_dir()
    model, identity, notes = model_and_identity(name, checkpoint, untrained, seed)
    result = exporter(model, name, out, identity, runtime=target.name, quant=quant, samples=samples, bytecode=bytecode)
    return replace(result, notes=[*result.notes, *notes])
