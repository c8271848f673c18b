"""TorchScript Lite export: script -> freeze -> save for the lite interpreter, then the gates.

Every file is written under a temporary name and renamed only after all gates pass, so a
failed export never leaves a partial or unchecked .ptl behind.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .. import __version__
from ..errors import ExportError
from ..fileio import atomic_write_json, sha256_file
from ..labels import CLASS_NAMES, INPUT_SHAPE, NORM_MEAN, NORM_STD
from ..paths import models_dir
from ..zoo.registry import build_model, check_name, count_macs
from . import gates
from .runtimes import DEFAULT_RUNTIME, MIN_BACKPORT, get_runtime

EMBEDDED_NAME = "fermbench.json"  # extra file inside the .ptl: identifies a file found on a phone
UNTRAINED_NOTE = "UNTRAINED: freshly initialised weights; accuracy numbers from this model are meaningless"


@dataclass
class ExportResult:
    name: str
    path: Path
    json_path: Path
    meta: dict[str, Any]
    notes: list[str] = field(default_factory=list)


def default_checkpoint(name: str) -> Path:
    return models_dir() / f"{name}.ckpt"


def _script(module: nn.Module) -> torch.jit.ScriptModule:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return torch.jit.freeze(torch.jit.script(module.eval()))
        except Exception as exc:  # TorchScript raises many types for unscriptable code
            raise ExportError(f"the model cannot be scripted ({str(exc).strip().splitlines()[0][:160]}): fix its forward()") from exc


def _try_optimize(scripted: torch.jit.ScriptModule) -> tuple[torch.jit.ScriptModule, bool, str]:
    """optimize_for_mobile needs XNNPACK, which desktop torch builds lack: record, never crash."""
    from torch.utils.mobile_optimizer import optimize_for_mobile

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return optimize_for_mobile(scripted), True, "applied"
    except Exception as exc:
        reason = "XNNPACK is not enabled in this torch build" if "XNNPACK" in str(exc) else str(exc).splitlines()[0][:120]
        return scripted, False, f"not applied: {reason}"


def _work_dir(out_dir: Path) -> Path:
    """A private folder beside the output. Files are saved there under their *final* name,
    because the lite format stores the file's stem inside the archive: a random temp name
    would make two exports of the same weights differ."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix=".export-", dir=out_dir))
    except OSError as exc:
        raise ExportError(f"cannot write to output folder {out_dir} ({exc.strerror}): pass a writable --out") from exc


def export_module(
    module: nn.Module,
    name: str,
    out_dir: Path,
    identity: dict[str, Any],
    runtime: str = DEFAULT_RUNTIME,
    bytecode: int | None = None,
    optimize: bool = True,
) -> ExportResult:
    """Export any 1x1x48x48 -> 7 module and run the gates. `identity` goes into the metadata."""
    target = get_runtime(runtime)
    if bytecode is not None and not MIN_BACKPORT <= bytecode <= target.max_bytecode:
        raise ExportError(
            f"bytecode target {bytecode} is not supported: choose {MIN_BACKPORT}-{target.max_bytecode} for {target.name}"
        )
    module = module.eval()
    scripted, optimized, optimize_note = _script(module), False, "not requested"
    if optimize:
        scripted, optimized, optimize_note = _try_optimize(scripted)

    base: dict[str, Any] = {
        "name": name,
        "input_shape": list(INPUT_SHAPE),
        "input_dtype": "float32",
        "normalisation": {"scale": 1 / 255, "mean": NORM_MEAN, "std": NORM_STD, "formula": "(pixel/255 - mean) / std"},
        "class_names": list(CLASS_NAMES),
        "torch_version": torch.__version__,
        "fermbench_version": __version__,
        "runtime_target": target.name,
        "optimize_for_mobile": {"applied": optimized, "note": optimize_note},
        **identity,
    }
    out_dir = Path(out_dir)
    final = out_dir / f"{name}.ptl"
    work = _work_dir(out_dir)
    tmp = work / final.name
    try:
        # First save to learn the operator list, then save again with it embedded.
        scripted._save_for_lite_interpreter(str(tmp))
        operators = gates.operator_list(tmp)
        embedded = {**base, "operators": operators}
        scripted._save_for_lite_interpreter(str(tmp), _extra_files={EMBEDDED_NAME: json.dumps(embedded, sort_keys=True)})
        native_version = gates.bytecode_version(tmp)
        if bytecode is not None and bytecode != native_version:
            if bytecode > native_version:
                raise ExportError(f"bytecode target {bytecode} is newer than this torch writes ({native_version}): choose {native_version} or lower")
            from torch.jit.mobile import _backport_for_mobile

            (work / "backport").mkdir()
            backported = work / "backport" / final.name
            if not _backport_for_mobile(str(tmp), str(backported), bytecode):
                raise ExportError(f"{name}: backport to bytecode {bytecode} failed: choose a newer --bytecode")
            os.replace(backported, tmp)
        # The gates run on the very file that will be accepted (backported or not).
        max_diff = gates.parity_gate(module, tmp, name)
        version = gates.bytecode_gate(tmp, target, name)
        final_ops = gates.operator_list(tmp)
        os.chmod(tmp, 0o644)  # mkstemp made it 0600; phones and other users must read it
        os.replace(tmp, final)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    meta = {
        **embedded,
        "operators": final_ops,
        "file": final.name,
        "sha256": sha256_file(final),
        "bytes": final.stat().st_size,
        "bytecode_version": version,
        "bytecode_native": native_version,
        "max_abs_diff": max_diff,
        "parity_tolerance": gates.PARITY_TOLERANCE,
    }
    json_path = atomic_write_json(out_dir / f"{name}.json", meta)
    return ExportResult(name, final, json_path, meta)


def export_model(
    name: str,
    checkpoint: str | Path | None = None,
    out_dir: str | Path | None = None,
    bytecode: int | None = None,
    runtime: str = DEFAULT_RUNTIME,
    untrained: bool = False,
    seed: int = 0,
) -> ExportResult:
    """Export one zoo model from a checkpoint (default models/<name>.ckpt) or, when there is none
    (or `untrained`), from seeded fresh weights, loudly marked as untrained. A checkpoint's training
    history (curve and settings, or why it is missing) goes into the metadata's `training`."""
    from ..training.history import MissingHistory, training_history
    from ..zoo.checkpoint import model_from_checkpoint

    check_name(name)
    out = Path(out_dir) if out_dir is not None else models_dir()
    notes: list[str] = []
    ckpt_path = Path(checkpoint) if checkpoint is not None else default_checkpoint(name)
    if checkpoint is not None and untrained:
        raise ExportError("--checkpoint and --untrained contradict each other: pass one of them")
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
        identity = {"arch": name, "trained": False, "checkpoint": None, "init_seed": seed, "warning": UNTRAINED_NOTE,
                    "training": MissingHistory("no training curve: untrained weights").to_dict()}
        notes.append(f"{name}: {UNTRAINED_NOTE} (no checkpoint at {ckpt_path})")
    params = sum(p.numel() for p in model.parameters())
    identity.update({"params": params, "macs": count_macs(model)})
    result = export_module(model, name, out, identity, runtime=runtime, bytecode=bytecode)
    result.notes.extend(notes)
    return result
