"""Model factories for the "your own model" tests, named as a user names theirs:
`--model colour_models:colour_net` (tests/ is on pytest's pythonpath).

ColourNet is not a FER model: RGB 32x32, three classes, and weights fixed so that it answers
which colour channel is brightest (a 1x1 convolution that copies the channels, ReLU, average
pool, an identity linear layer). A solid red image is class "red" on every runtime, so device
and host accuracy are known to be 100% without training.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from fermbench.zoo import CENTER_CROP, ModelSpec, Preprocess

COLOURS = ("red", "green", "blue")
SPEC = ModelSpec(
    input_shape=(1, 3, 32, 32),
    classes=COLOURS,
    preprocess=Preprocess(mean=(0.5,), std=(0.5,), resize=CENTER_CROP),
)


class ColourNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 3, 1)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(3, 3)
        with torch.no_grad():
            self.conv.weight.copy_(torch.eye(3).view(3, 3, 1, 1))
            self.conv.bias.zero_()
            self.fc.weight.copy_(torch.eye(3))
            self.fc.bias.zero_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.flatten(self.pool(torch.relu(self.conv(x))), 1))


def colour_net() -> tuple[nn.Module, ModelSpec]:
    return ColourNet(), SPEC


def colour_net_as_dict() -> tuple[nn.Module, dict[str, Any]]:
    """The same model with its spec as a plain dict (no fermbench import needed by the user)."""
    return ColourNet(), {
        "name": "colour_dict",
        "input_shape": [1, 3, 32, 32],
        "classes": list(COLOURS),
        "mean": 0.5,
        "std": 0.5,
        "resize": "center_crop",
    }


def returns_a_module_only() -> nn.Module:
    return ColourNet()


def raises() -> Any:
    raise RuntimeError("weights file missing")


NOT_A_FUNCTION = 3


def write_colour_folder(root: Any, per_class: int = 4, size: tuple[int, int] = (40, 30)) -> Any:
    """Solid colour images with a little noise, in class folders red/green/blue, written with cv2
    (which stores BGR: a loader that forgets to convert reads red as blue, and the test sees it)."""
    from pathlib import Path

    import cv2
    import numpy as np

    root = Path(root)
    rng = np.random.default_rng(0)
    for index, name in enumerate(COLOURS):
        (root / name).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            h, w = size[1] + i, size[0] + 2 * i  # sizes vary: the center crop must cope
            rgb = rng.integers(0, 40, (h, w, 3), dtype=np.uint8)
            rgb[..., index] = 200 + rng.integers(0, 55, (h, w), dtype=np.uint8)
            cv2.imwrite(str(root / name / f"{name}{i}.png"), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    return root
