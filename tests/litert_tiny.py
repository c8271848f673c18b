"""Tiny models and their .tflite files for the LiteRT tests: each converts in a few seconds, and
each fault model is small and real (the converter and the interpreter really produce the fault).

The tests that use them skip, saying why, when litert-torch or ai-edge-litert is not installed.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

from fermbench.export.fer_samples import AGREEMENT_IMAGES, ImageSample


def require_litert() -> None:
    pytest.importorskip("litert_torch", reason="litert-torch is not installed (the litert extra of setup.cfg)")
    pytest.importorskip("ai_edge_litert", reason="ai-edge-litert is not installed (the litert extra of setup.cfg)")


class TinyCnn(nn.Module):
    """conv -> relu -> max pool -> fully connected: operators XNNPACK takes, fp32 and int8."""

    def __init__(self, seed: int = 0) -> None:
        super().__init__()
        torch.manual_seed(seed)
        self.conv = nn.Conv2d(1, 4, 3, stride=2)
        self.fc = nn.Linear(4 * 11 * 11, 7)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.flatten(torch.max_pool2d(torch.relu(self.conv(x)), 2), 1))


class ExportBranch(TinyCnn):
    """Computes something else while being exported: the converted file no longer matches eager."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = super().forward(x)
        return out + 0.5 if torch.compiler.is_exporting() else out


class CumsumHead(TinyCnn):
    """A cumulative sum over the logits: LiteRT runs CUMSUM, XNNPACK does not take it."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cumsum(super().forward(x), 1)


class TiedLogits(nn.Module):
    """Seven logits that share one large term and differ by a tiny one: int8's one output scale
    covers the large term, so its steps swallow the differences and top-1 becomes a coin toss."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.fc = nn.Linear(48 * 48, 7)
        with torch.no_grad():
            self.fc.weight.mul_(1e-3).add_(torch.randn(1, 48 * 48) * 0.05)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.flatten(x, 1))


def convert_to(module: nn.Module, path: Path, example: torch.Tensor | None = None) -> Path:
    """`module` converted by litert-torch (fp32) and written to `path`."""
    import litert_torch

    from fermbench.export.litert.exporter import convert

    if example is None:
        path.write_bytes(convert(module.eval(), path.stem))
    else:  # another input shape than the runners feed
        path.write_bytes(litert_torch.convert(module.eval(), (example,)).model_content())
    return path


def random_sample(split: str, count: int = AGREEMENT_IMAGES, seed: int = 0) -> ImageSample:
    """`count` random 48x48 gray images, as an int8 export reads them from FER-2013."""
    gen = torch.Generator().manual_seed(seed)
    images = torch.randint(0, 256, (count, 48, 48), dtype=torch.uint8, generator=gen)
    return ImageSample(split, images, tuple(f"{split}/{i}.png" for i in range(count)), "random", seed)
