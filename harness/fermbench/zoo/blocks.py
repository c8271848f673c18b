"""Building blocks shared by the architectures."""

from __future__ import annotations

from torch import nn


def conv_block(c_in: int, c_out: int) -> nn.Sequential:
    """ConvBlock of the study: 3x3 convolution (padding 1) + BatchNorm + ReLU.

    The convolution has no bias: BatchNorm's shift makes it redundant, and freezing folds the
    BatchNorm into the convolution for export anyway.
    """
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, kernel_size=3, padding=1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
    )


def mlp_head(in_features: int, hidden: tuple[int, int], num_classes: int) -> nn.Sequential:
    """Flatten, two Linear+ReLU layers, Linear output: the head both CNNs of the study share."""
    h1, h2 = hidden
    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(in_features, h1),
        nn.ReLU(inplace=True),
        nn.Linear(h1, h2),
        nn.ReLU(inplace=True),
        nn.Linear(h2, num_classes),
    )
