"""The image sets a session classifies (FER-2013 split, real-world photo crops) and the host's
predictions for them, computed once per (model file, image set) and cached on disk.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DataError, RunnerError
from ..fileio import atomic_write_bytes, atomic_write_json, sha256_file
from ..paths import cache_dir
from ..runner import protocol as p


@dataclass
class ImageSet:
    dataset: str  # "fer2013" or "photos"
    images: np.ndarray  # uint8 [N, 48, 48], what the runner classifies
    labels: np.ndarray  # int64 [N]
    names: list[str]
    file: Path  # the images file (runner format) under the cache
    sha256: str
    info: dict[str, Any] = field(default_factory=dict)  # split/source, and for photos the crops
    crops: Any = None  # fermbench.data.faces.FaceCrops for photos


def _images_file(images: np.ndarray) -> tuple[Path, str]:
    data = p.images_file_bytes(images)
    digest = hashlib.sha256(data).hexdigest()
    path = cache_dir() / "bench-inputs" / f"{digest[:24]}.ferb"
    # the name is the content's hash: a cached file is reused only when its bytes still hash to it
    # (a damaged file of the same size would otherwise be pushed and classified)
    if not path.is_file() or path.stat().st_size != len(data) or sha256_file(path) != digest:
        atomic_write_bytes(path, data)
    return path, digest


def spread_indices(total: int, limit: int | None) -> np.ndarray:
    """`limit` indices spread evenly over 0..total-1 (all when no limit): every class keeps its
    share, unlike the first N of a class-sorted split."""
    if limit is None or limit >= total:
        return np.arange(total)
    return np.unique(np.linspace(0, total - 1, limit).round().astype(np.int64))


def fer_set(path: str, split: str, limit: int | None) -> ImageSet:
    from ..data.fer2013 import load_split

    data = load_split(path, split)
    idx = spread_indices(len(data), limit)
    images = data.images.numpy()[idx].astype(np.uint8)
    labels = data.labels.numpy()[idx].astype(np.int64)
    names = [data.names[i] for i in idx]
    file, digest = _images_file(images)
    return ImageSet(
        "fer2013",
        images,
        labels,
        names,
        file,
        digest,
        {"split": split, "source": str(path), "limit": limit, "data_digest": data.digest},
    )


def photo_set(source: str, policy: str) -> ImageSet:
    from ..data.faces import UNDECODABLE, crop_photos

    crops = crop_photos(source, policy)
    unreadable = [c for c in crops.crops if c.status == UNDECODABLE]
    if crops.crops and len(unreadable) == len(crops.crops):
        first = unreadable[0]
        raise DataError(
            f"none of the {len(crops.crops)} photos in {source} is a readable image "
            f"(e.g. {first.photo.name}: {first.reason}); pass JPEG or PNG photos"
        )
    images = crops.images
    file, digest = _images_file(images) if len(images) else (Path(), "")
    return ImageSet(
        "photos",
        images,
        crops.labels,
        [c.photo.name for c in crops.classified],
        file,
        digest,
        {"source": str(source), "policy": policy},
        crops,
    )


def host_predictions(
    model_path: Path, model_sha256: str, images: ImageSet, runtime: str = p.RUNTIME_LITE
) -> np.ndarray[Any, Any]:
    """Top class per image from the host's own runtime on the same file (cached by both hashes)."""
    from ..runner.host import run_host

    cache = cache_dir() / "bench-host-predictions" / f"{model_sha256[:24]}-{images.sha256[:24]}.json"
    if cache.is_file():
        try:
            top = json.loads(cache.read_text())["top"]
            if len(top) == len(images.images):
                return np.asarray(top, dtype=np.int64)
        except (OSError, ValueError, KeyError):
            pass
    from ..targets import HOST_CPU

    with HOST_CPU:  # torch's thread setting is process-wide; and never measure beside a run
        result = run_host("classify", model=model_path, input_path=images.file, runtime=runtime)
    if not isinstance(result, p.ClassifyResult):
        raise RunnerError(f"the host runner answered {type(result).__name__} to classify", "bad_result")
    atomic_write_json(cache, {"top": list(result.top), "model_sha256": model_sha256, "images_sha256": images.sha256})
    return np.asarray(result.top, dtype=np.int64)
