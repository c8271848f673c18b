"""The fixed FER-2013 samples an int8 export needs: calibration images from the Training split,
and the images the int8 file must agree on with fp32, from PublicTest.

Both are drawn with a fixed seed and recorded (names, sha256 of the pixels), so an export can
be repeated and checked. The agreement images are never used for calibration: they come from
another split, and PublicTest images byte-identical to a calibration image are left out.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ..errors import ConfigError, DataError
from ..training.augment import normalize

CALIBRATION_IMAGES = 256
AGREEMENT_IMAGES = 1000  # the floor: the agreement gate refuses fewer
SAMPLE_SEED = 0


@dataclass(frozen=True)
class ImageSample:
    split: str
    images: torch.Tensor  # uint8 [N, 48, 48]
    names: tuple[str, ...]
    source: str  # the dataset path read, or what made the images
    seed: int | None  # of the draw; None when the images were given, not drawn
    left_out: int = 0  # candidates dropped as byte-identical to a calibration image

    def __len__(self) -> int:
        return len(self.names)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.images.contiguous().numpy().tobytes()).hexdigest()

    def inputs(self) -> torch.Tensor:
        """float32 [N, 1, 48, 48], normalised as the model expects."""
        return normalize(self.images)

    def describe(self, with_names: bool) -> dict[str, Any]:
        out: dict[str, Any] = {
            "split": self.split,
            "count": len(self),
            "sha256": self.sha256,
            "source": self.source,
            "seed": self.seed,
            "left_out_as_calibration_duplicates": self.left_out,
        }
        if with_names:
            out["names"] = list(self.names)
        return out


@dataclass(frozen=True)
class FerSamples:
    """What an int8 export reads from FER-2013."""

    calibration: ImageSample  # Training images: the activation ranges
    agreement: ImageSample  # PublicTest images: the gate against fp32


def _digests(images: torch.Tensor) -> list[bytes]:
    return [hashlib.sha256(img.numpy().tobytes()).digest() for img in images]


def draw(
    images: torch.Tensor,
    names: list[str],
    split: str,
    source: str,
    count: int,
    seed: int = SAMPLE_SEED,
    avoid: ImageSample | None = None,
) -> ImageSample:
    """`count` images picked by a seeded permutation (kept in dataset order), none equal to `avoid`'s."""
    keep = torch.arange(len(names))
    if avoid is not None:
        banned = set(_digests(avoid.images))
        keep = torch.tensor([i for i, d in enumerate(_digests(images)) if d not in banned], dtype=torch.long)
    left_out = len(names) - len(keep)
    if len(keep) < count:
        raise DataError(
            f"{split} of {source} has {len(keep)} usable images, the int8 export needs {count}: pass a complete FER-2013 copy to --fer-data"
        )
    order = torch.randperm(len(keep), generator=torch.Generator().manual_seed(seed))[:count]
    chosen = keep[order.sort().values]
    return ImageSample(split, images[chosen].clone(), tuple(names[i] for i in chosen.tolist()), source, seed, left_out)


def fer_samples(fer_data: str | Path | None) -> FerSamples:
    """The calibration and agreement samples from a FER-2013 copy (folder layout or Kaggle CSV)."""
    from ..data.fer2013 import load_split

    if fer_data is None:
        raise ConfigError("int8 export needs FER-2013 images to calibrate and to check agreement: pass --fer-data PATH")
    path = Path(fer_data)
    if not path.exists():
        raise ConfigError(f"--fer-data {path} does not exist: pass the FER-2013 folder (train/, test/) or fer2013.csv")
    train = load_split(path, "Training")
    calibration = draw(train.images, train.names, "Training", str(path), CALIBRATION_IMAGES)
    test = load_split(path, "PublicTest")
    agreement = draw(test.images, test.names, "PublicTest", str(path), AGREEMENT_IMAGES, avoid=calibration)
    return FerSamples(calibration, agreement)
