"""The images an int8 export reads, for any model: calibration images (their activation ranges)
and agreement images (the gate against fp32), kept as the model's preprocessed uint8 pixels
[N, C, H, W] with the model's mean and std, and recorded by the sha256 of those pixels.

FER-2013 models draw theirs from a FER-2013 copy (fer_samples.py); any other model calibrates on
images of its own kind, split here from one preprocessed set (`own_samples`, from --images).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import torch

from ..errors import ConfigError, ExportError
from ..labels import NORM_MEAN, NORM_STD
from ..zoo.spec import ModelSpec, Preprocess
from ..zoo.study import is_fer_spec

CALIBRATION_IMAGES = 256
AGREEMENT_IMAGES = 1000  # FER-2013's floor (the issue's): the agreement gate refuses fewer
SAMPLE_SEED = 0
# A set of the user's own images is split into calibration and agreement halves. 98% agreement on
# fewer than 20 images cannot be told from luck, so each half needs at least that many.
MIN_OWN_IMAGES = 20
FER_PREPROCESS = Preprocess(mean=(NORM_MEAN,), std=(NORM_STD,))


@dataclass(frozen=True)
class ImageSample:
    split: str  # "Training", "PublicTest" (FER-2013); "calibration", "agreement" (a set's halves)
    images: torch.Tensor  # uint8 [N, C, H, W], or [N, H, W] for one channel (FER-2013's)
    names: tuple[str, ...]
    source: str  # the dataset path read, or what made the images
    seed: int | None  # of the draw; None when the images were given, not drawn
    left_out: int = 0  # candidates dropped as byte-identical to a calibration image
    preprocess: Preprocess = field(default=FER_PREPROCESS)  # the model's mean and std

    def __len__(self) -> int:
        return len(self.names)

    @property
    def sha256(self) -> str:
        """Of the pixels (uint8, in order): one channel's [N, H, W] and [N, 1, H, W] hash alike."""
        return hashlib.sha256(self.images.contiguous().numpy().tobytes()).hexdigest()

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """C, H, W of one image."""
        shape = tuple(self.images.shape[1:])
        return (1, shape[0], shape[1]) if len(shape) == 2 else (shape[0], shape[1], shape[2])

    def require(self, min_images: int, name: str, more_images: str) -> None:
        """ExportError unless there are `min_images` images: an agreement gate's floor, every runtime's."""
        if len(self) < min_images:
            raise ExportError(
                f"{name}: the agreement check needs at least {min_images} images, got {len(self)}: {more_images}"
            )

    def inputs(self) -> torch.Tensor:
        """float32 [N, C, H, W]: (pixel / 255 - mean[c]) / std[c]."""
        x = self.images if self.images.dim() == 4 else self.images.unsqueeze(1)
        pre = self.preprocess.per_channel(x.shape[1])
        # x * (1 / (255 std)) - mean / std, per channel: for one channel, the very arithmetic of
        # training/augment.normalize, so FER-2013's calibration inputs stay bit for bit as before.
        scale = torch.tensor([1.0 / (255.0 * s) for s in pre.std], dtype=torch.float32).view(1, -1, 1, 1)
        shift = torch.tensor([m / s for m, s in zip(pre.mean, pre.std)], dtype=torch.float32).view(1, -1, 1, 1)
        return x.float().mul_(scale).sub_(shift)

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
class Samples:
    """What an int8 export reads: images to calibrate on, and other images to check agreement on."""

    calibration: ImageSample
    agreement: ImageSample
    min_agreement_images: int = AGREEMENT_IMAGES  # the fewest the agreement gate accepts
    more_images: str = "pass a complete FER-2013 copy"  # the fix when there are fewer

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return self.agreement.image_shape


def digests(images: torch.Tensor) -> list[bytes]:
    return [hashlib.sha256(img.contiguous().numpy().tobytes()).digest() for img in images]


def own_samples(
    images: torch.Tensor | Any,
    preprocess: Preprocess,
    source: str,
    names: tuple[str, ...] | list[str] | None = None,
    seed: int = SAMPLE_SEED,
) -> Samples:
    """Calibration and agreement images from one set of preprocessed uint8 images [N, C, H, W]
    (a numpy array or a tensor): a seeded half (at most CALIBRATION_IMAGES) calibrates, the
    others (at most AGREEMENT_IMAGES, none byte-identical to a calibration image) check agreement."""
    pixels = torch.as_tensor(images)
    if pixels.dtype != torch.uint8 or pixels.dim() != 4:
        raise ConfigError(
            f"{source}: int8 calibration takes uint8 images [N, C, H, W], got {pixels.dtype} {list(pixels.shape)}"
        )
    labels = tuple(names) if names is not None else tuple(f"{i}" for i in range(len(pixels)))
    if len(labels) != len(pixels):
        raise ConfigError(f"{source}: {len(labels)} names for {len(pixels)} images")
    order = torch.randperm(len(pixels), generator=torch.Generator().manual_seed(seed))
    count = min(CALIBRATION_IMAGES, len(pixels) // 2)
    chosen = order[:count].sort().values
    calibration = ImageSample(
        "calibration", pixels[chosen].clone(), tuple(labels[i] for i in chosen.tolist()), source, seed, 0, preprocess
    )
    banned = set(digests(calibration.images))
    rest = [i for i in order[count:].sort().values.tolist() if digests(pixels[i : i + 1])[0] not in banned]
    kept = rest[:AGREEMENT_IMAGES]
    agreement = ImageSample(
        "agreement",
        pixels[kept].clone(),
        tuple(labels[i] for i in kept),
        source,
        seed,
        len(pixels) - count - len(rest),
        preprocess,
    )
    if min(len(calibration), len(agreement)) < MIN_OWN_IMAGES:
        raise ConfigError(
            f"{source} gives {len(calibration)} calibration and {len(agreement)} distinct agreement images: int8 needs "
            f"at least {MIN_OWN_IMAGES} of each ({2 * MIN_OWN_IMAGES} distinct images): pass a larger --images set"
        )
    return Samples(calibration, agreement, MIN_OWN_IMAGES, "pass a larger --images set")


def check_fits(samples: Samples, spec: ModelSpec, name: str) -> Samples:
    """The samples, when their images are the model's input size; else a one-line error."""
    want = tuple(spec.input_shape[1:])
    for sample in (samples.calibration, samples.agreement):
        if sample.image_shape != want:
            got = "x".join(map(str, sample.image_shape))
            raise ConfigError(
                f"{name} takes {'x'.join(map(str, want))} images, its int8 {sample.split} images are {got}: "
                "preprocess them with the model's own spec"
            )
    return samples


def missing_samples_hint(name: str, spec: ModelSpec) -> str:
    """What to pass when an int8 export of `name` has no images."""
    if is_fer_spec(spec):
        return "int8 export needs FER-2013 images to calibrate and to check agreement: pass --fer-data PATH"
    return f"--quant int8 for {name} calibrates on images of its own kind: pass --images PATH"


def require_samples(samples: Samples | None, spec: ModelSpec, name: str) -> Samples:
    """The exporters' check (ExportError): int8 needs images, of the model's input size."""
    if samples is None:
        raise ExportError(f"{name}: {missing_samples_hint(name, spec)}")
    try:
        return check_fits(samples, spec, name)
    except ConfigError as exc:
        raise ExportError(str(exc)) from None
