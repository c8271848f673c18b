"""The checks a .tflite must pass before it is accepted, to the standard of the Lite and
ExecuTorch gates (gates.py, pte_gates.py): parity with eager PyTorch within the same limit,
every operator on XNNPACK, readable by the pinned interpreter, and int8 refused below the same
top-1 agreement with fp32 on the same recorded FER-2013 images.

Each gate returns what it measured and raises ExportError when the file must not reach a phone.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ...errors import ExportError
from ...labels import INPUT_SHAPE, NUM_CLASSES
from ..common import output_difference, parity_limit
from ..gates import PARITY_TOLERANCE
from ..pte_gates import MIN_AGREEMENT, Agreement, top1_agreement
from ..samples import AGREEMENT_IMAGES, ImageSample, Samples
from .interpreter import Delegation, TensorSpec, delegation, input_specs, open_interpreter, output_specs, run_once
from .runtime import LITERT

# The tensor types the interface may have, per quantisation (litert-torch folds int8's first
# quantize and last dequantize into the interface).
INTERFACE_DTYPES = {"fp32": "float32", "int8": "int8"}


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return (text.splitlines()[0] if text else type(exc).__name__)[:160]


def readable_gate(
    path: Path,
    quant: str,
    name: str,
    input_shape: tuple[int, ...] = INPUT_SHAPE,
    output_shape: tuple[int, ...] = (1, NUM_CLASSES),
) -> tuple[TensorSpec, TensorSpec]:
    """The pinned interpreter loads the file, and its one input and one output are what the
    runners feed and read: `input_shape` in (PyTorch's NCHW, which litert-torch keeps; FER's
    1x1x48x48 by default), `output_shape` out (eager PyTorch's; 1x7 by default)."""
    try:
        interpreter = open_interpreter(path, xnnpack=False)
    except (ValueError, RuntimeError) as exc:
        raise ExportError(
            f"{name}: {path.name} does not load in {LITERT.name} ({_first_line(exc)}): re-export it"
        ) from exc
    inputs, outputs = input_specs(interpreter), output_specs(interpreter)
    want_dtype = INTERFACE_DTYPES[quant]
    want_in, want_out = tuple(input_shape), tuple(output_shape)
    if len(inputs) != 1 or inputs[0].shape != want_in or inputs[0].dtype != want_dtype:
        got = ", ".join(f"{list(s.shape)} {s.dtype}" for s in inputs) or "none"
        raise ExportError(
            f"{name}: {path.name} takes {got}, the runners feed one {list(want_in)} {want_dtype} "
            f"tensor: convert the model with a {'x'.join(map(str, want_in))} float example"
        )
    if len(outputs) != 1 or outputs[0].shape != want_out or outputs[0].dtype != want_dtype:
        got = ", ".join(f"{list(s.shape)} {s.dtype}" for s in outputs) or "none"
        raise ExportError(
            f"{name}: {path.name} returns {got}, the runners read one {list(want_out)} {want_dtype} "
            "tensor of logits: fix the model's forward()"
        )
    if quant == "int8" and not (inputs[0].quantized and outputs[0].quantized):
        raise ExportError(f"{name}: {path.name} has int8 input or output without a scale: re-export it")
    return inputs[0], outputs[0]


def delegation_gate(path: Path, name: str) -> Delegation:
    """Every operator inside an XNNPACK partition; one on LiteRT's reference kernels costs 10-100x
    and says XNNPACK did not take it."""
    found = delegation(open_interpreter(path, threads=1))
    left = sorted(op for op, (_, reference) in found.by_operator.items() if reference)
    if left:
        raise ExportError(
            f"{name}: {', '.join(left)} {'runs' if len(left) == 1 else 'run'} on LiteRT's reference kernels, "
            f"not XNNPACK ({found.reference} of {found.delegated + found.reference} operators): rewrite those layers "
            "with operators XNNPACK takes (convolution, pooling, fully connected, elementwise)"
        )
    return found


def _interpreter(path: Path) -> tuple[Any, TensorSpec, TensorSpec]:
    interpreter = open_interpreter(path, threads=1)
    return interpreter, input_specs(interpreter)[0], output_specs(interpreter)[0]


def parity_gate(
    eager: nn.Module,
    path: Path,
    name: str,
    trials: int = 4,
    seed: int = 0,
    input_shape: tuple[int, ...] = INPUT_SHAPE,
) -> float:
    """Max |tflite - eager| over seeded random inputs of `input_shape`, run with XNNPACK as on a
    phone; fails above PARITY_TOLERANCE (scaled by the logits' size: common.parity_limit)."""
    interpreter, inp, out = _interpreter(path)
    gen = torch.Generator().manual_seed(seed)
    worst, limit = 0.0, PARITY_TOLERANCE
    with torch.no_grad():
        for _ in range(trials):
            x = torch.randn(input_shape, generator=gen)
            want = eager(x)
            got = torch.from_numpy(run_once(interpreter, inp, out, x.numpy()))
            diff = output_difference(got, want, name, "the LiteRT model")
            if diff > worst:
                worst, limit = diff, parity_limit(PARITY_TOLERANCE, want)
    if not worst <= limit:  # also catches NaN
        raise ExportError(
            f"{name}: the LiteRT model's output differs from eager PyTorch by {worst:.3g} (limit {limit:.3g}): "
            "the converted graph does not compute what the eager model does; check for code that branches on "
            "torch.compiler.is_exporting()"
        )
    return worst


def agreement_gate(
    eager: nn.Module,
    path: Path,
    sample: ImageSample,
    name: str,
    min_images: int = AGREEMENT_IMAGES,
    more_images: str = "pass a complete FER-2013 copy",
) -> Agreement:
    """Top-1 agreement of the int8 .tflite with fp32 eager on `sample`; fails below MIN_AGREEMENT."""
    sample.require(min_images, name, more_images)
    interpreter, inp, out = _interpreter(path)
    inputs = sample.inputs()
    with torch.no_grad():
        reference = eager(inputs)
    got = torch.from_numpy(
        np.concatenate([run_once(interpreter, inp, out, inputs[i : i + 1].numpy()) for i in range(len(inputs))])
    )
    diff = output_difference(got, reference, name, "the int8 LiteRT model")
    agreement = top1_agreement(got, reference)
    if not agreement >= MIN_AGREEMENT:
        raise ExportError(
            f"{name}: the int8 LiteRT model agrees with fp32 on {agreement:.1%} of {len(sample)} {sample.split} images "
            f"(gate {MIN_AGREEMENT:.0%}): int8 loses too much here; calibrate on more representative images "
            "or ship the fp32 file"
        )
    return Agreement(len(sample), agreement, diff, sample.describe(with_names=False))


def samples_agreement_gate(eager: nn.Module, path: Path, samples: Samples, name: str) -> Agreement:
    """agreement_gate on the samples' agreement images, with their floor."""
    return agreement_gate(eager, path, samples.agreement, name, samples.min_agreement_images, samples.more_images)
