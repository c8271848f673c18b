"""Deep CNN of the FER-M study: 6 conv blocks in pairs, each pair followed by 2x2 max pooling,
and the shallow CNN's head.

11.1 M parameters, 0.35 G multiply-accumulates at 1x1x48x48 (`fermbench models`).
"""

from __future__ import annotations

import torch
from torch import nn

from ..labels import NUM_CLASSES
from .blocks import conv_block, mlp_head
from .widths import CNN_CHANNELS, CNN_HIDDEN


class DeepCNN(nn.Module):
    def __init__(self, num_classes: int = NUM_CLASSES):
        super().__init__()
        c1, c2, c3 = CNN_CHANNELS
        self.features = nn.Sequential(
            conv_block(1, c1),
            conv_block(c1, c1),
            nn.MaxPool2d(2),  # 48 -> 24
            conv_block(c1, c2),
            conv_block(c2, c2),
            nn.MaxPool2d(2),  # 24 -> 12
            conv_block(c2, c3),
            conv_block(c3, c3),
            nn.MaxPool2d(2),  # 12 -> 6
        )
        self.head = mlp_head(c3 * 6 * 6, CNN_HIDDEN, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.head(self.features(x))
        return out
