"""Fixtures for the runner tests: a tiny real .ptl and .pte exported here, so these tests need no
trained model and no exporter."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
import torch
import torch.jit.mobile
from torch import nn


class TinyFer(nn.Module):
    """48x48 gray in, 7 logits out; has a BatchNorm so freeze() really folds something."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, stride=2, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.fc = nn.Linear(4, 7)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.bn(self.conv(x)))
        return self.fc(x.mean(dim=(2, 3)))


def export_lite(module: nn.Module, path: Path) -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.jit.freeze(torch.jit.script(module.eval()))._save_for_lite_interpreter(str(path))
    return path


@pytest.fixture(scope="session")
def tiny_ptl(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.manual_seed(0)
    model = TinyFer()
    with torch.no_grad():  # non-trivial BN statistics, so logits differ per image
        model.bn.running_mean.uniform_(-0.5, 0.5)
        model.bn.running_var.uniform_(0.5, 2.0)
    return export_lite(model, tmp_path_factory.mktemp("ptl") / "tiny.ptl")


def export_pte(module: nn.Module, path: Path) -> Path:
    """torch.export -> edge with the XNNPACK partitioner -> an ExecuTorch program, as the study's
    ExecuTorch files are made (the export step's own gates are not needed here)."""
    from executorch.backends.xnnpack.partition.xnnpack_partitioner import XnnpackPartitioner
    from executorch.exir import to_edge_transform_and_lower

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exported = torch.export.export(module.eval(), (torch.zeros(1, 1, 48, 48),))
        program = to_edge_transform_and_lower(exported, partitioner=[XnnpackPartitioner()]).to_executorch()
    path.write_bytes(program.buffer)
    return path


@pytest.fixture(scope="session")
def tiny_pte(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("executorch", reason="the ExecuTorch Python package is not installed")
    torch.manual_seed(0)
    model = TinyFer()
    with torch.no_grad():
        model.bn.running_mean.uniform_(-0.5, 0.5)
        model.bn.running_var.uniform_(0.5, 2.0)
    return export_pte(model, tmp_path_factory.mktemp("pte") / "tiny.pte")
