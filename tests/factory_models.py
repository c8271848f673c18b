"""A tiny RGB model as a user would write it (a module with a factory, outside fermbench), for the
tests of exporting any model: written into a test's folder under a name of its own, so that a test
can edit its code, weights or spec and import it afresh.

    ref = write_factory(tmp_path, monkeypatch)            # "rgbnet_<n>:rgb_net"
    ref = write_factory(tmp_path, monkeypatch, outputs=4)  # the net returns 4 logits for 5 classes
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import pytest

SOURCE = '''
import torch
from torch import nn

from fermbench.zoo.spec import ModelSpec, Preprocess

SCALE = {scale!r}  # of the last layer's weights: another value, other weights
CLASSES = {classes!r}
OUTPUTS = {outputs!r}
MEAN = {mean!r}


class RgbNet(nn.Module):
    """conv -> relu -> conv -> relu -> fully connected: 1x3x32x32 in, one logit per class out."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, stride=2, padding=1)
        self.conv2 = nn.Conv2d(8, 8, 3, stride=2, padding=1)
        self.fc = nn.Linear(8 * 8 * 8, OUTPUTS)
        with torch.no_grad():
            self.fc.weight.mul_(SCALE)

    def forward(self, x):
        return self.fc(torch.flatten(torch.relu(self.conv2(torch.relu(self.conv1(x)))), 1))


def rgb_net():
    spec = ModelSpec(
        input_shape=(1, 3, 32, 32),
        classes=CLASSES,
        preprocess=Preprocess(mean=MEAN, std=(0.25, 0.25, 0.25), resize="center_crop"),
    )
    return RgbNet(), spec
{extra}'''

CLASSES = ("circle", "square", "triangle", "star", "ring")
_numbers = itertools.count()


def write_factory(
    folder: Path,
    monkeypatch: pytest.MonkeyPatch,
    *,
    module: str | None = None,
    scale: float = 1.0,
    classes: tuple[str, ...] = CLASSES,
    outputs: int = len(CLASSES),
    mean: tuple[float, ...] = (0.5, 0.45, 0.4),
    extra: str = "",
) -> str:
    """Write the module (afresh, under `module` or a new name) into `folder`, importable; its factory's ref."""
    module = module or f"rgbnet_{next(_numbers)}"
    monkeypatch.syspath_prepend(str(folder))
    (folder / f"{module}.py").write_text(
        SOURCE.format(scale=scale, classes=classes, outputs=outputs, mean=mean, extra=extra)
    )
    sys.modules.pop(module, None)  # an edited file is imported again
    monkeypatch.delitem(sys.modules, module, raising=False)
    return f"{module}:rgb_net"
