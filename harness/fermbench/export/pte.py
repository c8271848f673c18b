"""ExecuTorch export: torch.export -> (int8: PT2E quantisation) -> edge program lowered to
XNNPACK -> ExecuTorch program (.pte), then the gates.

The file is written in a private folder and renamed only after every gate passed, so a failed
export never leaves a partial or unchecked .pte behind. The metadata known before lowering
(identity, quantisation, calibration set) is also embedded in the program as a second method,
`fermbench_meta`, returning it as a JSON string, so a .pte found on a phone says what it is;
the gates' figures are only beside the file, in <model>.<quant>.json.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import warnings
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..errors import ExportError
from ..fileio import atomic_write_bytes, atomic_write_json, sha256_file
from ..quiet import quiet_imports
from ..runtimes.executorch import EXECUTORCH
from ..zoo.spec import ModelSpec
from ..zoo.study import FER_SPEC
from . import pte_gates
from .common import ExportResult, base_meta, eager_output_shape, work_dir
from .executorch_api import executorch_version, load_method, load_program
from .gates import PARITY_TOLERANCE
from .quantize import SCHEME, quantize_int8
from .runtimes import ExecutorchRuntime, check_quant, get_runtime
from .samples import Samples, require_samples

EMBEDDED_METHOD = "fermbench_meta"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return (text.splitlines()[0] if text else type(exc).__name__)[:160]


def export_graph(
    module: nn.Module, name: str, input_shape: tuple[int, ...] = FER_SPEC.input_shape
) -> torch.export.ExportedProgram:
    """The module (in eval mode: a quantised graph refuses .eval()) as an ATen graph for one
    image of `input_shape`, the shape the runners feed."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return torch.export.export(module, (torch.zeros(input_shape),))
    except Exception as exc:  # torch.export raises many types for untraceable code
        raise ExportError(
            f"{name}: torch.export cannot trace the model ({_first_line(exc)}): fix its forward()"
        ) from exc


def lower_to_xnnpack(program: torch.export.ExportedProgram, embedded: str, name: str) -> Any:
    """Edge program with every part XNNPACK supports delegated to it (EdgeProgramManager)."""
    with quiet_imports():
        from executorch.backends.xnnpack.partition.xnnpack_partitioner import XnnpackPartitioner
        from executorch.exir import to_edge_transform_and_lower
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return to_edge_transform_and_lower(
                program, partitioner=[XnnpackPartitioner()], constant_methods={EMBEDDED_METHOD: embedded}
            )
    except Exception as exc:  # the lowering passes raise many types
        raise ExportError(
            f"{name}: lowering to ExecuTorch with XNNPACK failed ({_first_line(exc)}): fix the model or report it"
        ) from exc


def program_bytes(path: Path) -> int:
    """Size of the flatbuffer program in a .pte: graph, operators and small constants, without
    the segments holding the XNNPACK blobs and weights. From the extended header ("eh00" at byte
    8, then its length as uint32 and the program size as uint64, little-endian)."""
    with open(path, "rb") as fh:
        head = fh.read(24)
    if len(head) < 24 or head[8:12] != b"eh00":
        return os.path.getsize(path)  # no header: the whole file is the program
    return int(struct.unpack_from("<Q", head, 16)[0])


def embedded_meta(program: Any, path: Path) -> dict[str, Any]:
    """The metadata a loaded .pte carries in its `fermbench_meta` method."""
    if EMBEDDED_METHOD not in program.method_names:
        raise ExportError(
            f"{path.name} carries no {EMBEDDED_METHOD} method: it was not exported by fermbench; re-export it"
        )
    meta: dict[str, Any] = json.loads(load_method(program, EMBEDDED_METHOD, path.stem).execute([])[0])
    return meta


def read_embedded_meta(path: Path) -> dict[str, Any]:
    return embedded_meta(load_program(path, path.stem), path)


def export_pte_module(
    module: nn.Module,
    name: str,
    out_dir: Path,
    identity: dict[str, Any],
    runtime: str,
    quant: str = "fp32",
    samples: Samples | None = None,
    spec: ModelSpec = FER_SPEC,
) -> ExportResult:
    """Export a module that takes the spec's input (FER's 1x1x48x48 -> 7 by default) to
    <name>.<quant>.pte and run the gates.

    int8 needs `samples`: images of the model's input size to calibrate on and to check agreement
    with fp32 (FER-2013's for the FER models).
    """
    target = get_runtime(runtime)
    if not isinstance(target, ExecutorchRuntime):
        raise ExportError(f"{target.name} does not run ExecuTorch programs: export for it with the Lite exporter")
    check_quant(target, quant)
    images = require_samples(samples, spec, name) if quant == "int8" else None  # fp32 reads no images
    module = module.eval()
    eager_output_shape(module, spec, name)  # one tensor, one logit per declared class
    program = export_graph(module, name, spec.input_shape)
    pte_gates.core_aten_gate(program, name)

    embedded: dict[str, Any] = {
        **base_meta(name, target.name, identity, spec),
        "format": target.format,
        "quant": quant,
        "executorch_version": executorch_version(),
    }
    if images is not None:
        embedded["quantization"] = SCHEME
        embedded["calibration"] = images.calibration.describe(with_names=True)
        program = export_graph(quantize_int8(module, images.calibration.inputs(), name), name, spec.input_shape)

    out_dir = Path(out_dir)
    model_file, meta_file = EXECUTORCH.files(name, quant)
    final = out_dir / model_file
    work = work_dir(out_dir)
    tmp = work / final.name
    try:
        edge = lower_to_xnnpack(program, json.dumps(embedded, sort_keys=True), name)
        delegated = pte_gates.delegation_gate(edge.exported_program().graph_module, name)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            buffer = edge.to_executorch().buffer
        atomic_write_bytes(tmp, buffer)  # synced, with the usual permissions: the rename below publishes it
        # The gates run on the very file that will be accepted, read back from disk.
        pte_format = pte_gates.format_gate(tmp, target, name)
        loaded = load_program(tmp, name)
        if embedded_meta(loaded, tmp) != embedded:
            raise ExportError(
                f"{name}: the metadata read back from {final.name} differs from what was written: re-export it"
            )
        checks: dict[str, Any] = (
            {"agreement": pte_gates.samples_agreement_gate(module, loaded, images, name).to_meta()}
            if images is not None
            else {
                "max_abs_diff": pte_gates.parity_gate(module, loaded, name, input_shape=spec.input_shape),
                "parity_tolerance": PARITY_TOLERANCE,
            }
        )
        os.replace(tmp, final)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    meta = {
        **embedded,
        **checks,
        "file": final.name,
        "sha256": sha256_file(final),
        "bytes": final.stat().st_size,
        "program_bytes": program_bytes(final),
        "pte_format": pte_format,
        "delegation": delegated.to_meta(),
        "embedded": True,
        "embedded_method": EMBEDDED_METHOD,
    }
    json_path = atomic_write_json(out_dir / meta_file, meta)
    return ExportResult(name, target.name, quant, final, json_path, meta)


def export_pte(
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
    """The exporter runtimes/executorch.py names (bytecode is Lite's; export/models.py refuses it)."""
    return export_pte_module(module, name, out_dir, identity, runtime=runtime, quant=quant, samples=samples, spec=spec)
