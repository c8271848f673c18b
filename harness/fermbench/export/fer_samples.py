"""The fixed FER-2013 samples an int8 export needs: calibration images from the Training split,
and the images the int8 file must agree on with fp32, from PublicTest.

Both are drawn with a fixed seed and recorded (names, sha256 of the pixels), so an export can
be repeated and checked. The agreement images are never used for calibration: they come from
another split, and PublicTest images byte-identical to a calibration image are left out.
"""

from __future__ import annotations

from pathlib import Path

import torch

from ..errors import ConfigError, DataError
from .samples import AGREEMENT_IMAGES, CALIBRATION_IMAGES, SAMPLE_SEED, ImageSample, Samples, digests

# FER-2013's samples are the generic kind (samples.py); the old name stays for its readers.
FerSamples = Samples


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
        banned = set(digests(avoid.images))
        keep = torch.tensor([i for i, d in enumerate(digests(images)) if d not in banned], dtype=torch.long)
    left_out = len(names) - len(keep)
    if len(keep) < count:
        raise DataError(
            f"{split} of {source} has {len(keep)} usable images, the int8 export needs {count}: pass a complete FER-2013 copy to --fer-data"
        )
    order = torch.randperm(len(keep), generator=torch.Generator().manual_seed(seed))[:count]
    chosen = keep[order.sort().values]
    return ImageSample(split, images[chosen].clone(), tuple(names[i] for i in chosen.tolist()), source, seed, left_out)


def fer_samples(fer_data: str | Path | None) -> Samples:
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
    return Samples(calibration, agreement)
