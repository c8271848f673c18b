"""Fixtures for the runner tests: a tiny real .ptl exported here, so these tests need no trained model."""

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
