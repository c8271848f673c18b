"""What every exporter shares: the result record, the metadata that describes the model's
input and output, and the private folder where files wait until their gates pass."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import torch

from .. import __version__
from ..errors import ExportError
from ..tempdirs import mark, sweep
from ..zoo.spec import ModelSpec
from ..zoo.study import FER_SPEC

if TYPE_CHECKING:
    from torch import nn

    from .samples import Samples

STAGING = ".export-"  # prefix of the staging folders in an export folder


@dataclass(frozen=True)
class ExportResult:
    name: str
    runtime: str  # a key of runtimes.RUNTIMES
    quant: str  # "fp32" or "int8"
    path: Path  # the accepted model file
    json_path: Path  # its metadata, beside it
    meta: dict[str, Any]
    notes: list[str] = field(default_factory=list)


def base_meta(name: str, runtime: str, identity: dict[str, Any], spec: ModelSpec = FER_SPEC) -> dict[str, Any]:
    """What a phone needs to feed the model and read its answer (the spec's input, classes and
    preprocessing), and what produced it."""
    described = spec.to_dict()
    pre = spec.preprocess.per_channel(spec.channels)
    if spec.channels == 1:  # the scalars readers from before specs take (zoo/spec.py spec_from_meta)
        described["normalisation"] = {
            "scale": 1 / 255,
            "mean": pre.mean[0],
            "std": pre.std[0],
            "formula": "(pixel/255 - mean) / std",
        }
    return {
        "name": name,
        **described,
        "torch_version": torch.__version__,
        "fermbench_version": __version__,
        "runtime_target": runtime,
        **identity,
    }


def eager_output_shape(module: nn.Module, spec: ModelSpec, name: str) -> tuple[int, ...]:
    """The shape of the module's answer to one input of the spec's shape; its size must be the
    number of classes the spec declares (the runners read the output as one row of logits)."""
    with torch.no_grad():
        out = module.eval()(torch.zeros(spec.input_shape))
    if not isinstance(out, torch.Tensor):
        raise ExportError(
            f"{name}: forward() returns a {type(out).__name__}; the runners read one tensor of logits: return only that"
        )
    if spec.classes and out.numel() != len(spec.classes):
        listed = ", ".join(spec.classes[:4]) + (", ..." if len(spec.classes) > 4 else "")
        raise ExportError(
            f"{name}: the model returns {out.numel()} outputs, its spec names {len(spec.classes)} classes ({listed}): "
            "make the last layer and the spec's classes agree"
        )
    return tuple(out.shape)


def output_difference(got: torch.Tensor, want: torch.Tensor, name: str, what: str) -> float:
    """max |got - want|, for the parity gates. NaN or infinity in either output is an ExportError:
    max(0.0, nan) is 0.0, so a NaN left to the gate's own comparison would pass an all-NaN model."""
    for label, tensor in ((what, got), ("eager PyTorch", want)):
        if not bool(torch.isfinite(tensor).all()):
            raise ExportError(
                f"{name}: {label} outputs NaN or infinity: the weights are not finite (a corrupt or "
                "diverged checkpoint); restore it or train again"
            )
    return float((got - want).abs().max().item())


def parity_limit(tolerance: float, want: torch.Tensor) -> float:
    """The largest difference a parity gate accepts for this output: `tolerance` for logits up to
    1 in size, growing with them beyond (as allclose's rtol does). fp32 kernels that sum in another
    order differ by a few ulps of the largest value: 1e-4 absolute refused a trained ResNet-9 whose
    logits reach the tens (1.2e-4 on XNNPACK), a relative error near 1e-5."""
    return tolerance * max(1.0, float(want.abs().max().item()))


def work_dir(out_dir: Path) -> Path:
    """A private folder beside the output, on the same file system, so that accepting a file is
    one rename. Files are saved there under their *final* name, because the lite format stores
    the file's stem inside the archive: a random temp name would make two exports differ."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        sweep(out_dir, prefix=STAGING)  # staging of an export that was killed (its owner is dead)
        return mark(Path(tempfile.mkdtemp(prefix=STAGING, dir=out_dir)))
    except OSError as exc:
        raise ExportError(f"cannot write to output folder {out_dir} ({exc.strerror}): pass a writable --out") from exc


class Exporter(Protocol):
    """What every runtime's exporter takes (runtimes/*.py name one): the module, its name, the
    folder, what identifies its weights, the runtime version id, the quantisation, images for int8,
    a Lite bytecode target (None elsewhere), and the model's spec (input, classes, preprocessing)."""

    def __call__(
        self,
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
    ) -> ExportResult: ...
