"""ResNet-9 as in myrtle.ai's DAWNBench entry, for 1x48x48 grayscale input and 7 classes.

prep 64 -> layer1 128 + pool + residual(128, 128) -> layer2 256 + pool
-> layer3 512 + pool + residual(512, 512) -> global max pool -> linear.
48 -> 24 -> 12 -> 6 spatially. 6.6 M parameters, 0.83 G multiply-accumulates at 1x1x48x48.
"""

from __future__ import annotations

import torch
from torch import nn

from ..labels import NUM_CLASSES
from .blocks import conv_block
from .widths import RESNET9_CHANNELS


class Residual(nn.Module):
    """x + two conv blocks of the same width."""

    def __init__(self, channels: int):
        super().__init__()
        self.body = nn.Sequential(conv_block(channels, channels), conv_block(channels, channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class ResNet9(nn.Module):
    def __init__(self, num_classes: int = NUM_CLASSES):
        super().__init__()
        c0, c1, c2, c3 = RESNET9_CHANNELS
        self.prep = conv_block(1, c0)
        self.layer1 = nn.Sequential(conv_block(c0, c1), nn.MaxPool2d(2), Residual(c1))
        self.layer2 = nn.Sequential(conv_block(c1, c2), nn.MaxPool2d(2))
        self.layer3 = nn.Sequential(conv_block(c2, c3), nn.MaxPool2d(2), Residual(c3))
        self.pool = nn.AdaptiveMaxPool2d(1)
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(c3, num_classes))

    def forward(self, x):
        x = self.layer3(self.layer2(self.layer1(self.prep(x))))
        return self.classifier(self.pool(x))
