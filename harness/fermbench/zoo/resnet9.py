"""ResNet-9 as in myrtle.ai's DAWNBench entry, for 1x48x48 grayscale input and 7 classes.

prep 64 -> layer1 128 + pool + residual(128, 128) -> layer2 256 + pool
-> layer3 512 + pool + residual(512, 512) -> global max pool -> linear.
48 -> 24 -> 12 -> 6 spatially. 6.6 M parameters, 0.83 G multiply-accumulates at 1x1x48x48.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from ..labels import NUM_CLASSES
from .blocks import conv_block
from .widths import RESNET9_CHANNELS


class Residual(nn.Module):
    """x + two conv blocks of the same width."""

    def __init__(self, channels: int):
        super().__init__()
        self.body = nn.Sequential(conv_block(channels, channels), conv_block(channels, channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = x + self.body(x)
        return out


class GlobalMaxPool(nn.Module):
    """Max over the whole feature map, as nn.AdaptiveMaxPool2d(1) computes it, bit for bit.

    A max pool whose kernel is the full input is a core ATen op that XNNPACK runs;
    aten.adaptive_max_pool2d is neither, so ExecuTorch could not export it. No parameters:
    checkpoints saved with the adaptive pool load unchanged. The stride is spelled out because
    the XNNPACK partitioner reads it from the op's arguments.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        size = x.shape[2:]
        return F.max_pool2d(x, kernel_size=size, stride=size)


class ResNet9(nn.Module):
    def __init__(self, num_classes: int = NUM_CLASSES):
        super().__init__()
        c0, c1, c2, c3 = RESNET9_CHANNELS
        self.prep = conv_block(1, c0)
        self.layer1 = nn.Sequential(conv_block(c0, c1), nn.MaxPool2d(2), Residual(c1))
        self.layer2 = nn.Sequential(conv_block(c1, c2), nn.MaxPool2d(2))
        self.layer3 = nn.Sequential(conv_block(c2, c3), nn.MaxPool2d(2), Residual(c3))
        self.pool = GlobalMaxPool()
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(c3, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.layer3(self.layer2(self.layer1(self.prep(x))))
        out: torch.Tensor = self.classifier(self.pool(x))
        return out
