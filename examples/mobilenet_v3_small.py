"""MobileNetV3-Small, written from Table 2 of Howard et al. 2019, "Searching for MobileNetV3",
with random weights: the README's example of a model that is not a FER model (224x224 RGB).

At 1000 classes it has the paper's 2.5 M parameters and 56 M multiply-adds
(tests/examples/test_mobilenet_v3_small.py checks both). Where the paper leaves a choice open:
- squeeze-and-excite squeezes to a quarter of the expansion width (paper, section 5.3), with
  ReLU inside and a hard-sigmoid gate, placed after the depthwise convolution;
- a bneck whose expansion equals its input width (the first) has no expanding 1x1 convolution;
- Table 2 also ticks SE on the last 1x1 convolution (96 -> 576); with it the model has 2.70 M
  parameters, against the 2.5 M the same paper reports, so there is none here.
With 3 classes it exports at 1x3x224x224 to .ptl, .pte (all 174 operators delegated to XNNPACK)
and .tflite, about 6.1 MB each (fp32).

    fermbench run --model examples.mobilenet_v3_small:mobilenet_v3_small ...
"""

from __future__ import annotations

import torch
from torch import nn

from fermbench.zoo import CENTER_CROP, ModelSpec, Preprocess

SHAPES = ("circle", "square", "triangle")  # the classes examples/make_shapes.py draws

# Table 2's bneck rows: kernel, expansion width, output width, squeeze-and-excite, nonlinearity, stride.
BNECK = (
    (3, 16, 16, True, "RE", 2),
    (3, 72, 24, False, "RE", 2),
    (3, 88, 24, False, "RE", 1),
    (5, 96, 40, True, "HS", 2),
    (5, 240, 40, True, "HS", 1),
    (5, 240, 40, True, "HS", 1),
    (5, 120, 48, True, "HS", 1),
    (5, 144, 48, True, "HS", 1),
    (5, 288, 96, True, "HS", 2),
    (5, 576, 96, True, "HS", 1),
    (5, 576, 96, True, "HS", 1),
)
STEM, LAST_CONV, HEAD = 16, 576, 1024


def hard_sigmoid(x: torch.Tensor) -> torch.Tensor:
    """relu6(x + 3) / 6, the paper's h-sigmoid, written as add, clamp, multiply: XNNPACK takes all
    three; with nn.Hardsigmoid ExecuTorch left 18 layout copies on its portable kernels."""
    return torch.clamp(x + 3.0, 0.0, 6.0) * (1.0 / 6.0)


def _act(nl: str) -> nn.Module:
    return nn.Hardswish() if nl == "HS" else nn.ReLU()


def conv_bn(c_in: int, c_out: int, kernel: int, stride: int, nl: str, groups: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, kernel, stride, kernel // 2, groups=groups, bias=False),
        nn.BatchNorm2d(c_out),
        _act(nl),
    )


class SqueezeExcite(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.reduce = nn.Conv2d(channels, channels // 4, 1)
        self.expand = nn.Conv2d(channels // 4, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = x.mean((2, 3), keepdim=True)  # global average pool, written as the mean every runtime has
        return x * hard_sigmoid(self.expand(torch.relu(self.reduce(s))))


class Bneck(nn.Module):
    """Inverted residual: 1x1 expand, k x k depthwise, (SE), 1x1 linear projection; residual
    when the shape is kept."""

    def __init__(self, c_in: int, kernel: int, exp: int, c_out: int, se: bool, nl: str, stride: int) -> None:
        super().__init__()
        self.expand = conv_bn(c_in, exp, 1, 1, nl) if exp != c_in else nn.Identity()
        self.depthwise = conv_bn(exp, exp, kernel, stride, nl, groups=exp)
        self.se = SqueezeExcite(exp) if se else nn.Identity()
        self.project = nn.Sequential(nn.Conv2d(exp, c_out, 1, bias=False), nn.BatchNorm2d(c_out))
        self.residual = stride == 1 and c_in == c_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y: torch.Tensor = self.project(self.se(self.depthwise(self.expand(x))))
        return x + y if self.residual else y


class MobileNetV3Small(nn.Module):
    def __init__(self, num_classes: int = 1000) -> None:
        super().__init__()
        layers: list[nn.Module] = [conv_bn(3, STEM, 3, 2, "HS")]
        c_in = STEM
        for kernel, exp, c_out, se, nl, stride in BNECK:
            layers.append(Bneck(c_in, kernel, exp, c_out, se, nl, stride))
            c_in = c_out
        layers.append(conv_bn(c_in, LAST_CONV, 1, 1, "HS"))
        self.features = nn.Sequential(*layers)
        # the head's 1x1 convolutions without batch norm (NBN) act on a 1x1 map: linear layers
        self.head = nn.Sequential(nn.Linear(LAST_CONV, HEAD), nn.Hardswish(), nn.Linear(HEAD, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # the 7x7 pool, keeping the 4-D shape: XNNPACK takes a mean over H, W only with keepdim
        x = self.features(x).mean((2, 3), keepdim=True)
        logits: torch.Tensor = self.head(x.flatten(1))
        return logits


def mobilenet_v3_small() -> tuple[MobileNetV3Small, ModelSpec]:
    """The factory fermbench calls: the model for the three shapes, 224x224 RGB, ImageNet's
    normalisation and center crop."""
    return MobileNetV3Small(num_classes=len(SHAPES)), ModelSpec(
        input_shape=(1, 3, 224, 224),
        classes=SHAPES,
        preprocess=Preprocess(mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225), resize=CENTER_CROP),
    )
