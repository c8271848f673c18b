"""Tiny models saved as the files a user would give `--model-file`, at an input the FER models do
not take (three channels, 32x32), so that a test passes only when the file's own shape is used."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

SHAPE = (1, 3, 32, 32)
CLASSES = 5


class TinyRgb(nn.Module):
    """conv -> relu -> global average -> fully connected: operators every runtime delegates."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.conv = nn.Conv2d(3, 4, 3)
        self.fc = nn.Linear(4, CLASSES)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.flatten(torch.nn.functional.adaptive_avg_pool2d(torch.relu(self.conv(x)), 1), 1))


class TwoInputs(nn.Module):
    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return x + y


class TokenIds(nn.Module):
    """Takes integers (token ids): no runner feeds those."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.float() * 2


class TwoOutputs(nn.Module):
    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return x * 2, x + 1


def save_ptl(module: nn.Module, path: Path) -> Path:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # "Lite Interpreter is deprecated"
        torch.jit.script(module.eval())._save_for_lite_interpreter(str(path))
    return path


def save_pte(module: nn.Module, path: Path, shape: tuple[int, ...] = SHAPE, dtype: torch.dtype = torch.float32) -> Path:
    """An ExecuTorch program lowered to XNNPACK, as executorch's own export flow writes it."""
    from fermbench.quiet import quiet_imports

    with quiet_imports():
        from executorch.backends.xnnpack.partition.xnnpack_partitioner import XnnpackPartitioner
        from executorch.exir import to_edge_transform_and_lower

    program = torch.export.export(module.eval(), (torch.ones(*shape, dtype=dtype),))
    lowered = to_edge_transform_and_lower(program, partitioner=[XnnpackPartitioner()]).to_executorch()
    path.write_bytes(lowered.buffer)
    return path


def save_tflite(module: nn.Module, path: Path, shape: tuple[int, ...] = SHAPE, int8: bool = False) -> Path:
    """A .tflite converted by litert-torch; `int8`: calibrated on random images, int8 in and out
    (the interface litert-torch gives a statically quantised model)."""
    import litert_torch
    from litert_torch.quantize.quant_config import QuantConfig

    from fermbench.export.litert.quantize import litert_quantizer, quantize_int8

    config = None
    module = module.eval()
    if int8:
        quantizer = litert_quantizer()
        calibration = torch.rand(16, *shape[1:], generator=torch.Generator().manual_seed(0))
        module = quantize_int8(module, calibration, quantizer, path.stem)
        config = QuantConfig(pt2e_quantizer=quantizer)
    converted = litert_torch.convert(module, (torch.zeros(shape),), quant_config=config)
    path.write_bytes(converted.model_content())
    return path
