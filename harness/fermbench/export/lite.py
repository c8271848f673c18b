"""TorchScript Lite export: script -> freeze -> save for the lite interpreter, then the gates.

Every file is written under a temporary name and renamed only after all gates pass, so a
failed export never leaves a partial or unchecked .ptl behind.
"""

from __future__ import annotations

import json
import os
import shutil
import warnings
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..errors import ExportError
from ..fileio import atomic_write_json, sha256_file
from ..runtimes.pytorch_lite import PYTORCH_LITE
from ..zoo.spec import ModelSpec
from ..zoo.study import FER_SPEC
from . import gates
from .common import ExportResult, base_meta, eager_output_shape, work_dir
from .runtimes import DEFAULT_RUNTIME, MIN_BACKPORT, LiteRuntime, get_runtime
from .samples import Samples

EMBEDDED_NAME = "fermbench.json"  # extra file inside the .ptl: identifies a file found on a phone


def _script(module: nn.Module) -> torch.jit.ScriptModule:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            frozen: torch.jit.ScriptModule = torch.jit.freeze(torch.jit.script(module.eval()))
            return frozen
        except Exception as exc:  # TorchScript raises many types for unscriptable code
            raise ExportError(
                f"the model cannot be scripted ({str(exc).strip().splitlines()[0][:160]}): fix its forward()"
            ) from exc


def _try_optimize(scripted: torch.jit.ScriptModule) -> tuple[torch.jit.ScriptModule, bool, str]:
    """optimize_for_mobile needs XNNPACK, which desktop torch builds lack: record, never crash."""
    from torch.utils.mobile_optimizer import optimize_for_mobile

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return optimize_for_mobile(scripted), True, "applied"
    except Exception as exc:
        reason = (
            "XNNPACK is not enabled in this torch build" if "XNNPACK" in str(exc) else str(exc).splitlines()[0][:120]
        )
        return scripted, False, f"not applied: {reason}"


def export_module(
    module: nn.Module,
    name: str,
    out_dir: Path,
    identity: dict[str, Any],
    runtime: str = DEFAULT_RUNTIME,
    bytecode: int | None = None,
    optimize: bool = True,
    spec: ModelSpec = FER_SPEC,
) -> ExportResult:
    """Export a module that takes the spec's input (FER's 1x1x48x48 -> 7 by default) and run the
    gates. `identity` goes into the metadata."""
    target = get_runtime(runtime)
    if not isinstance(target, LiteRuntime):
        raise ExportError(
            f"{target.name} does not run TorchScript Lite files: export for it with the ExecuTorch exporter"
        )
    if bytecode is not None and not MIN_BACKPORT <= bytecode <= target.max_bytecode:
        raise ExportError(
            f"bytecode target {bytecode} is not supported: choose {MIN_BACKPORT}-{target.max_bytecode} for {target.name}"
        )
    module = module.eval()
    eager_output_shape(module, spec, name)  # one tensor, one logit per declared class
    scripted, optimized, optimize_note = _script(module), False, "not requested"
    if optimize:
        scripted, optimized, optimize_note = _try_optimize(scripted)

    base = {
        **base_meta(name, target.name, identity, spec),
        "optimize_for_mobile": {"applied": optimized, "note": optimize_note},
    }
    out_dir = Path(out_dir)
    model_file, meta_file = PYTORCH_LITE.files(name, "fp32")
    final = out_dir / model_file
    work = work_dir(out_dir)
    tmp = work / final.name
    try:
        # First save to learn the operator list, then save again with it embedded.
        scripted._save_for_lite_interpreter(str(tmp))
        operators = gates.operator_list(tmp)
        embedded = {**base, "operators": operators}
        scripted._save_for_lite_interpreter(
            str(tmp), _extra_files={EMBEDDED_NAME: json.dumps(embedded, sort_keys=True)}
        )
        native_version = gates.bytecode_version(tmp)
        if bytecode is not None and bytecode != native_version:
            if bytecode > native_version:
                raise ExportError(
                    f"bytecode target {bytecode} is newer than this torch writes ({native_version}): choose {native_version} or lower"
                )
            from torch.jit.mobile import _backport_for_mobile

            (work / "backport").mkdir()
            backported = work / "backport" / final.name
            if not _backport_for_mobile(str(tmp), str(backported), bytecode):  # type: ignore[no-untyped-call]
                raise ExportError(f"{name}: backport to bytecode {bytecode} failed: choose a newer --bytecode")
            os.replace(backported, tmp)
        # The gates run on the very file that will be accepted (backported or not).
        max_diff = gates.parity_gate(module, tmp, name, input_shape=spec.input_shape)
        version = gates.bytecode_gate(tmp, target, name)
        final_ops = gates.operator_list(tmp)
        os.chmod(tmp, 0o644)  # mkstemp made it 0600; phones and other users must read it
        os.replace(tmp, final)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    meta = {
        **embedded,
        "operators": final_ops,
        "format": target.format,
        "quant": "fp32",
        "file": final.name,
        "sha256": sha256_file(final),
        "bytes": final.stat().st_size,
        "bytecode_version": version,
        "bytecode_native": native_version,
        "max_abs_diff": max_diff,
        "parity_tolerance": gates.PARITY_TOLERANCE,
    }
    json_path = atomic_write_json(out_dir / meta_file, meta)
    return ExportResult(name, target.name, "fp32", final, json_path, meta)


def export_ptl(
    module: nn.Module,
    name: str,
    out_dir: Path,
    identity: dict[str, Any],
    *,
    runtime: str,
    quant: str,
    samples: Samples | None,
    bytecode: int | None,
    spec: ModelSpec,
) -> ExportResult:
    """The exporter runtimes/pytorch_lite.py names: fp32 only, so no images."""
    return export_module(module, name, out_dir, identity, runtime=runtime, bytecode=bytecode, spec=spec)
