"""The study's training protocol as one frozen table, identical for every model.

From the study: Adam; one-cycle learning rate with maximum 0.008; batch 256; 20 epochs;
grayscale -> [0,1] -> Normalize(NORM_MEAN, NORM_STD); training augmentation RandomHorizontalFlip
and RandomCrop(48).

Chosen here, because the study does not say (each is an option of `fermbench train`):
- crop padding 4 pixels, reflected (torchvision `padding=4, padding_mode="reflect"`): shifts of up
  to 4 px (8% of a 48 px face) without the black borders that zero padding would add;
- weight decay 1e-4, as Adam's L2 term (`torch.optim.Adam(weight_decay=...)`);
- gradient clipping by value at 0.1 (`clip_grad_value_`), the usual companion of one-cycle Adam
  in ResNet-9 recipes; it keeps the first high-learning-rate steps stable;
- seed 0: weights, shuffling, flips and crops all derive from it, per epoch, so a resumed run
  replays exactly what a continuous one would have done;
- the last, partial batch of an epoch is kept (no image is dropped).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigError

PRECISIONS = ("fp32", "bf16")


@dataclass(frozen=True)
class TrainConfig:
    model: str
    epochs: int = 20
    batch_size: int = 256
    max_lr: float = 0.008
    weight_decay: float = 1e-4
    grad_clip: float = 0.1  # by value; 0 disables
    crop_padding: int = 4  # reflected
    seed: int = 0
    val_split: str = "PublicTest"
    precision: str = "fp32"  # "bf16": autocast to bfloat16 (CPU and CUDA)
    channels_last: bool = False

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size"):
            if getattr(self, name) < 1:
                raise ConfigError(f"--{name.replace('_', '-')} must be at least 1, got {getattr(self, name)}")
        if self.max_lr <= 0:
            raise ConfigError(f"--max-lr must be positive, got {self.max_lr}")
        if self.weight_decay < 0 or self.grad_clip < 0 or self.crop_padding < 0:
            raise ConfigError("--weight-decay, --grad-clip and --crop-padding must not be negative")
        if self.crop_padding > 47:
            raise ConfigError(f"--crop-padding {self.crop_padding} is larger than the image; use 0-47")
        if self.precision not in PRECISIONS:
            raise ConfigError(f"unknown precision {self.precision!r}: choose one of {', '.join(PRECISIONS)}")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(
                f"unknown training setting(s) {', '.join(unknown)}: this fermbench knows {', '.join(sorted(known))}"
            )
        return cls(**values)

    def deviations(self) -> list[str]:
        """Settings that differ from the study's protocol (recorded in run.json)."""
        base = TrainConfig(self.model)
        return [
            f"{k}={v}"
            for k, v in self.to_dict().items()
            if k in ("epochs", "batch_size", "max_lr") and v != getattr(base, k)
        ]
