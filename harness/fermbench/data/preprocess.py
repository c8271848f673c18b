"""One picture file -> the model's input image, by its spec: channels, size and resize policy.

The result is uint8 [C, H, W] (C from the spec's input shape: 1 grayscale, 3 RGB in that order);
the runners normalise it with the spec's per-channel mean and std. Policies (zoo/spec.py):
- STRETCH: resized to H x W, the aspect ratio not kept;
- CENTER_CROP: the shorter side resized to round(max(H, W) / crop_fraction), then the centre
  H x W cut out (ImageNet's habit: 256 then 224 at 0.875);
- FACE_CROP: data/faces.py's Haar pipeline (the FER models'): the largest face's box, resized.
Decoding is OpenCV's, which turns the picture upright by its EXIF orientation (faces.py's
decode_gray is this decode with one channel; IMREAD_IGNORE_ORIENTATION is never passed).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..zoo.spec import CENTER_CROP, FACE_CROP, STRETCH, ModelSpec
from . import faces

UNDECODABLE = faces.UNDECODABLE
NO_FACE = faces.NO_FACE


@dataclass(frozen=True)
class Prepared:
    """A picture as the model takes it, or why it could not be: status and reason."""

    image: np.ndarray | None  # uint8 [C, H, W]
    status: str | None = None  # None: prepared; else UNDECODABLE or NO_FACE
    reason: str | None = None


def decode(path: Path, channels: int) -> tuple[np.ndarray | None, str | None]:
    """The picture as uint8 [H, W] (one channel) or [H, W, 3] RGB, or (None, reason). Its size is
    read from the header first: a picture over faces.MAX_PHOTO_PIXELS is refused undecoded."""
    import cv2

    try:
        data = np.frombuffer(path.read_bytes(), dtype=np.uint8)
    except OSError as exc:
        return None, f"cannot read: {exc.strerror or exc}"
    if data.size == 0:
        return None, "empty file"
    size = faces.header_size(data.tobytes())
    if size is None:
        return None, "not a decodable image"
    if size[0] * size[1] > faces.MAX_PHOTO_PIXELS:
        return (
            None,
            f"{size[0]}x{size[1]} pixels, over the {faces.MAX_PHOTO_PIXELS / 1e6:.0f}-megapixel limit: downscale it",
        )
    image = cv2.imdecode(data, cv2.IMREAD_GRAYSCALE if channels == 1 else cv2.IMREAD_COLOR)
    if image is None or image.size == 0:
        return None, "not a decodable image"
    if channels == 3:
        image = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)  # OpenCV decodes to BGR; models are trained on RGB
    return image, None


def resize(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """`image` ([h, w] or [h, w, 3]) at height x width: area interpolation when it shrinks in both
    directions (it averages every source pixel, no aliasing), bilinear otherwise."""
    import cv2

    h, w = image.shape[:2]
    if (h, w) == (height, width):
        return image
    interp = cv2.INTER_AREA if height <= h and width <= w else cv2.INTER_LINEAR
    return np.asarray(cv2.resize(image, (width, height), interpolation=interp), dtype=np.uint8)


def center_crop(image: np.ndarray, height: int, width: int, crop_fraction: float) -> np.ndarray:
    """The shorter side to round(max(height, width) / crop_fraction), then the centre height x width."""
    h, w = image.shape[:2]
    short = max(round(max(height, width) / crop_fraction), height, width)
    # the longer side keeps the aspect ratio (never below `short`, so the crop always fits)
    if h <= w:
        new_h, new_w = short, max(round(w * short / h), short)
    else:
        new_h, new_w = max(round(h * short / w), short), short
    scaled = resize(image, new_h, new_w)
    top, left = (new_h - height) // 2, (new_w - width) // 2
    return scaled[top : top + height, left : left + width]


def _face_crop(path: Path, spec: ModelSpec, cascade: Any) -> Prepared:
    gray, reason = decode(path, 1)
    if gray is None:
        return Prepared(None, UNDECODABLE, reason)
    boxes = faces.detect_faces(gray, cascade)
    if not boxes:
        return Prepared(None, NO_FACE, "no face found")
    source = gray
    if spec.channels == 3:
        colour, reason = decode(path, 3)
        if colour is None:
            return Prepared(None, UNDECODABLE, reason)
        source = colour
    x, y, w, h = boxes[0]  # the largest face, as faces.py's default policy
    height, width = spec.size
    return Prepared(_channels_first(resize(source[max(y, 0) : y + h, max(x, 0) : x + w], height, width)))


def _channels_first(image: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(image[None] if image.ndim == 2 else image.transpose(2, 0, 1))


def prepare(path: Path, spec: ModelSpec, cascade: Any = None) -> Prepared:
    """`path` as `spec`'s model takes it (uint8 [C, H, W]); `cascade`: faces.load_cascade() for
    FACE_CROP (made once by the caller, not per picture)."""
    resize_policy = spec.preprocess.resize
    if resize_policy == FACE_CROP:
        return _face_crop(path, spec, cascade if cascade is not None else faces.load_cascade())
    image, reason = decode(path, spec.channels)
    if image is None:
        return Prepared(None, UNDECODABLE, reason)
    height, width = spec.size
    if resize_policy == STRETCH:
        return Prepared(_channels_first(resize(image, height, width)))
    if resize_policy == CENTER_CROP:
        return Prepared(_channels_first(center_crop(image, height, width, spec.preprocess.crop_fraction)))
    raise ValueError(f"resize policy {resize_policy!r} has no implementation")  # check_spec refuses others
