"""The checks an ExecuTorch .pte must pass before it is accepted (Lite files: gates.py).

Each gate returns what it measured and raises ExportError when the file must not reach a phone.
"""

from __future__ import annotations

import operator
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..errors import ExportError
from ..labels import INPUT_SHAPE
from .common import output_difference, parity_limit
from .executorch_api import load_method
from .gates import PARITY_TOLERANCE
from .runtimes import ExecutorchRuntime
from .samples import AGREEMENT_IMAGES, ImageSample, Samples

MIN_AGREEMENT = 0.98  # int8 top-1 agreement with fp32 eager, on FER-2013 PublicTest images
# The layers that carry the arithmetic: one of them on the portable kernels costs 10-100x.
HEAVY_OPS = frozenset(
    {"aten.convolution.default", "aten.linear.default", "aten.addmm.default", "aten.mm.default", "aten.bmm.default"}
)


def core_aten_gate(program: torch.export.ExportedProgram, name: str) -> None:
    """ExecuTorch runs core ATen only: name every op that decomposition cannot bring there."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's own deprecation chatter, nothing about the model
        decomposed = program.run_decompositions()
    outside = sorted(
        {
            str(node.target)
            for node in decomposed.graph.nodes
            if node.op == "call_function"
            and isinstance(node.target, torch._ops.OpOverload)
            and torch.Tag.core not in node.target.tags
        }
    )
    if outside:
        raise ExportError(
            f"{name}: {', '.join(outside)} {'is' if len(outside) == 1 else 'are'} not in the core ATen op set that ExecuTorch runs: "
            "rewrite the model with core ops (e.g. a max pool with the full kernel instead of adaptive_max_pool2d)"
        )


def _op_name(target: Any) -> str:
    # Edge ops print as "aten.convolution.default"; anything else by its own name.
    return str(getattr(target, "__name__", target))


@dataclass(frozen=True)
class Delegation:
    """Operators of the lowered program, by who runs them: XNNPACK or the portable kernels."""

    by_operator: dict[str, tuple[int, int]]  # op -> (on XNNPACK, on portable kernels)
    subgraphs: int  # XNNPACK partitions

    @property
    def delegated(self) -> int:
        return sum(x for x, _ in self.by_operator.values())

    @property
    def portable(self) -> int:
        return sum(p for _, p in self.by_operator.values())

    @property
    def share(self) -> float:
        total = self.delegated + self.portable
        return self.delegated / total if total else 0.0

    def to_meta(self) -> dict[str, Any]:
        return {
            "backend": "XnnpackBackend",
            "delegated": self.delegated,
            "portable": self.portable,
            "share": self.share,
            "subgraphs": self.subgraphs,
            "by_operator": {op: {"xnnpack": x, "portable": p} for op, (x, p) in sorted(self.by_operator.items())},
        }


def delegation(graph: torch.fx.GraphModule) -> Delegation:
    """Count the operators of an edge program: inside lowered XNNPACK modules, or left outside."""
    counts: dict[str, list[int]] = {}
    subgraphs = 0

    def count(g: torch.fx.Graph, where: int) -> None:
        for node in g.nodes:
            if (
                node.op == "call_function"
                and node.target is not operator.getitem
                and "call_delegate" not in str(node.target)
            ):
                counts.setdefault(_op_name(node.target), [0, 0])[where] += 1

    count(graph.graph, 1)
    for node in graph.graph.nodes:
        if node.op == "get_attr" and node.name.startswith("lowered_module"):
            subgraphs += 1
            count(getattr(graph, str(node.target)).original_module.graph, 0)
    return Delegation({op: (x, p) for op, (x, p) in counts.items()}, subgraphs)


def delegation_gate(graph: torch.fx.GraphModule, name: str) -> Delegation:
    found = delegation(graph)
    fell_back = sorted(op for op, (_, portable) in found.by_operator.items() if portable and op in HEAVY_OPS)
    if fell_back:
        raise ExportError(
            f"{name}: {', '.join(fell_back)} fell back to ExecuTorch's portable kernels instead of XNNPACK: "
            "give those layers constant weights and 4-D float input, which XNNPACK runs"
        )
    return found


def pte_format(path: Path) -> str:
    """The flatbuffer file identifier at bytes 4..8 ("ET12"), or "" when there is none."""
    with open(path, "rb") as fh:
        head = fh.read(8)
    ident = head[4:8]
    return ident.decode("ascii") if len(ident) == 4 and ident.isalnum() and ident.isascii() else ""


def format_gate(path: Path, runtime: ExecutorchRuntime, name: str) -> str:
    """Refuse a .pte whose format the target runtime does not read (it fails at load on the phone)."""
    found = pte_format(path)
    if not found.startswith("ET"):
        raise ExportError(
            f"{name}: {path.name} is not an ExecuTorch program (no ET file identifier at bytes 4..8): re-export it"
        )
    if found not in runtime.pte_formats:
        raise ExportError(
            f"{name}: {path.name} has .pte format {found}, {runtime.name} reads {', '.join(runtime.pte_formats)} only: "
            f"it was written by another ExecuTorch version; re-export it with executorch=={runtime.version} installed"
        )
    return found


def parity_gate(
    eager: nn.Module,
    program: Any,
    name: str,
    trials: int = 4,
    seed: int = 0,
    input_shape: tuple[int, ...] = INPUT_SHAPE,
) -> float:
    """Max |pte - eager| over seeded random inputs of `input_shape`; fails above PARITY_TOLERANCE
    (scaled by the logits' size: common.parity_limit)."""
    method, gen = load_method(program, "forward", name), torch.Generator().manual_seed(seed)
    worst, limit = 0.0, PARITY_TOLERANCE
    with torch.no_grad():
        for _ in range(trials):
            x = torch.randn(input_shape, generator=gen)
            want = eager(x)
            diff = output_difference(method.execute([x])[0], want, name, "the ExecuTorch program")
            if diff > worst:
                worst, limit = diff, parity_limit(PARITY_TOLERANCE, want)
    if not worst <= limit:  # also catches NaN
        raise ExportError(
            f"{name}: the ExecuTorch program's output differs from eager PyTorch by {worst:.3g} (limit {limit:.3g}): "
            "the exported graph does not compute what the eager model does; check for code that branches on torch.compiler.is_exporting()"
        )
    return worst


def top1_agreement(got: torch.Tensor, reference: torch.Tensor) -> float:
    """Share of rows (images) whose largest output is at the same place (any output shape)."""
    rows = len(reference)
    return float((got.reshape(rows, -1).argmax(1) == reference.reshape(rows, -1).argmax(1)).double().mean().item())


@dataclass(frozen=True)
class Agreement:
    images: int
    agreement: float  # share of images where int8 and fp32 eager pick the same class
    max_abs_diff: float  # of the logits
    sample: dict[str, Any]  # which images (split, count, sha256, seed)

    def to_meta(self) -> dict[str, Any]:
        return {
            "images": self.images,
            "top1_agreement": self.agreement,
            "max_abs_diff": self.max_abs_diff,
            "min_agreement": MIN_AGREEMENT,
            "sample": self.sample,
        }


def agreement_gate(
    eager: nn.Module,
    program: Any,
    sample: ImageSample,
    name: str,
    min_images: int = AGREEMENT_IMAGES,
    more_images: str = "pass a complete FER-2013 copy",
) -> Agreement:
    """Top-1 agreement of the .pte with fp32 eager on `sample`; fails below MIN_AGREEMENT."""
    sample.require(min_images, name, more_images)
    inputs = sample.inputs()
    method = load_method(program, "forward", name)
    with torch.no_grad():
        reference = eager(inputs)
        got = torch.cat([method.execute([inputs[i : i + 1]])[0] for i in range(len(inputs))])
    diff = output_difference(got, reference, name, "the int8 program")
    agreement = top1_agreement(got, reference)
    if not agreement >= MIN_AGREEMENT:
        raise ExportError(
            f"{name}: the int8 program agrees with fp32 on {agreement:.1%} of {len(sample)} {sample.split} images (gate {MIN_AGREEMENT:.0%}): "
            "int8 loses too much here; calibrate on more representative images or ship the fp32 file"
        )
    return Agreement(len(sample), agreement, diff, sample.describe(with_names=False))


def samples_agreement_gate(eager: nn.Module, program: Any, samples: Samples, name: str) -> Agreement:
    """agreement_gate on the samples' agreement images, with their floor."""
    return agreement_gate(eager, program, samples.agreement, name, samples.min_agreement_images, samples.more_images)
