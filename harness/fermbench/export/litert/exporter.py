"""LiteRT export: (int8: PT2E quantisation) -> litert-torch conversion -> .tflite, then the gates.

The file is written in a private folder and renamed only after every gate passed, so a failed
export never leaves a partial or unchecked .tflite behind. Its metadata goes beside it, as
<model>.<quant>.tflite.json (the .pte exporter owns <model>.<quant>.json in the same folder).
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import os
import shutil
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ... import runtimes
from ...errors import ExportError
from ...fileio import atomic_write_bytes, atomic_write_json, sha256_file
from ...quiet import native_stderr, quiet_imports
from ...zoo.spec import ModelSpec
from ...zoo.study import FER_SPEC
from ..common import ExportResult, base_meta, eager_output_shape, work_dir
from ..gates import PARITY_TOLERANCE
from ..samples import Samples, require_samples
from . import gates
from .quantize import SCHEME, litert_quantizer, quantize_int8
from .runtime import LITERT, require

PROGRESS_ENV = "LITERT_TORCH_SHOW_PROGRESS"  # litert-torch prints a task tree to the terminal unless "n"


def file_names(name: str, quant: str) -> tuple[str, str]:
    """The model file and its metadata file (the registry's names, runtimes/litert.py)."""
    return runtimes.LITERT.files(name, quant)


@contextlib.contextmanager
def _quiet_converter() -> Iterator[None]:
    old = os.environ.get(PROGRESS_ENV)
    os.environ[PROGRESS_ENV] = "n"
    try:
        with quiet_imports(), native_stderr():  # the MLIR converter's own log lines
            yield
    finally:
        if old is None:
            os.environ.pop(PROGRESS_ENV, None)
        else:
            os.environ[PROGRESS_ENV] = old


def convert(
    module: nn.Module, name: str, quantizer: Any = None, input_shape: tuple[int, ...] = FER_SPEC.input_shape
) -> bytes:
    """The .tflite flatbuffer of `module` for one image of `input_shape` (static int8 when `quantizer`)."""
    require("litert_torch", f"{LITERT.name}'s converter litert-torch")
    try:
        with _quiet_converter():
            import litert_torch
            from litert_torch.quantize.quant_config import QuantConfig

            config = QuantConfig(pt2e_quantizer=quantizer) if quantizer is not None else None
            content: bytes = litert_torch.convert(
                module, (torch.zeros(input_shape),), quant_config=config
            ).model_content()
            return content
    except Exception as exc:  # torch.export and the MLIR passes raise many types
        text = str(exc).strip()
        first = (text.splitlines()[0] if text else type(exc).__name__)[:200]
        raise ExportError(f"{name}: litert-torch cannot convert the model ({first}): fix its forward()") from exc


def package_versions() -> dict[str, str]:
    return {pkg: importlib.metadata.version(pkg) for pkg in ("litert-torch", "ai-edge-litert")}


def export_litert_module(
    module: nn.Module,
    name: str,
    out_dir: Path,
    identity: dict[str, Any],
    quant: str = "fp32",
    samples: Samples | None = None,
    spec: ModelSpec = FER_SPEC,
) -> ExportResult:
    """Export a module that takes the spec's input (FER's 1x1x48x48 -> 7 by default) to
    <name>.<quant>.tflite and run the gates.

    int8 needs `samples`: images of the model's input size to calibrate on and to check agreement
    with fp32 (FER-2013's for the FER models).
    """
    if quant not in LITERT.quants:
        raise ExportError(f"unknown quantisation {quant!r} for {LITERT.name}: choose one of {', '.join(LITERT.quants)}")
    images = require_samples(samples, spec, name) if quant == "int8" else None  # fp32 reads no images
    require("ai_edge_litert", f"{LITERT.name}'s interpreter ai-edge-litert")
    module = module.eval()
    out_shape = eager_output_shape(module, spec, name)  # one tensor, one logit per declared class
    meta: dict[str, Any] = {
        **base_meta(name, LITERT.name, identity, spec),
        "format": LITERT.format,
        "quant": quant,
        **package_versions(),
    }
    if images is not None:
        quantizer = litert_quantizer()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            quantized = quantize_int8(module, images.calibration.inputs(), quantizer, name)
            content = convert(quantized, name, quantizer, spec.input_shape)
        meta["quantization"] = SCHEME
        meta["calibration"] = images.calibration.describe(with_names=True)
    else:
        content = convert(module, name, input_shape=spec.input_shape)

    out_dir = Path(out_dir)
    model_name, json_name = file_names(name, quant)
    final = out_dir / model_name
    work = work_dir(out_dir)
    tmp = work / final.name
    try:
        atomic_write_bytes(tmp, content)  # synced, with the usual permissions: the rename below publishes it
        # The gates run on the very file that will be accepted, read back from disk.
        inp, out = gates.readable_gate(tmp, quant, name, spec.input_shape, out_shape)
        delegated = gates.delegation_gate(tmp, name)
        checks: dict[str, Any] = (
            {"agreement": gates.samples_agreement_gate(module, tmp, images, name).to_meta()}
            if images is not None
            else {
                "max_abs_diff": gates.parity_gate(module, tmp, name, input_shape=spec.input_shape),
                "parity_tolerance": PARITY_TOLERANCE,
            }
        )
        os.replace(tmp, final)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    meta.update(
        {
            **checks,
            "file": final.name,
            "sha256": sha256_file(final),
            "bytes": final.stat().st_size,
            "interface": {
                "input": {
                    "shape": list(inp.shape),
                    "dtype": inp.dtype,
                    "scale": inp.scale,
                    "zero_point": inp.zero_point,
                },
                "output": {
                    "shape": list(out.shape),
                    "dtype": out.dtype,
                    "scale": out.scale,
                    "zero_point": out.zero_point,
                },
            },
            "delegation": delegated.to_meta(),
        }
    )
    json_path = atomic_write_json(out_dir / json_name, meta)
    return ExportResult(name, LITERT.name, quant, final, json_path, meta)


def export_tflite(
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
    """The exporter runtimes/litert.py names: one pinned version, so `runtime` is LITERT's."""
    return export_litert_module(module, name, out_dir, identity, quant=quant, samples=samples, spec=spec)
