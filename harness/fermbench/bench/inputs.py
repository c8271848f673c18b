"""The image sets a session classifies (FER-2013 split, real-world photo crops, any labelled
image folder prepared for one model) and the host's predictions for them, computed once per
(model file, image set) and cached on disk.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import DataError, RunnerError
from ..fileio import atomic_write_bytes, atomic_write_json, sha256_file
from ..labels import NORM_MEAN, NORM_STD
from ..paths import cache_dir
from ..runner import protocol as p

if TYPE_CHECKING:
    from ..data.labelled import LabelledImages
    from ..zoo.spec import ModelSpec


@dataclass
class ImageSet:
    dataset: str  # "fer2013", "photos" or "images" (a labelled folder, prepared for one model)
    images: np.ndarray  # uint8 [N, C, H, W], what the runner classifies ([N, 1, 48, 48] for FER-2013, photos)
    labels: np.ndarray  # int64 [N], indices into the model's classes
    names: list[str]
    file: Path  # the images file (runner format) under the cache
    sha256: str  # of that file
    info: dict[str, Any] = field(default_factory=dict)  # split/source, and for photos the crops
    crops: Any = None  # fermbench.data.faces.FaceCrops for photos
    labelled: LabelledImages | None = None  # for "images": the loaded set, its classes and skipped pictures


def _images_file(images: np.ndarray) -> tuple[Path, str]:
    # one channel is written as format version 1: the bytes, hash and cache name of protocol 3's file
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
    images = data.images.numpy()[idx].astype(np.uint8)[:, None]  # [N, 1, 48, 48]
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
    images = crops.images[:, None]  # [N, 1, 48, 48]
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


def labelled_set(source: str | Path, spec: ModelSpec, model: str | None = None) -> ImageSet:
    """A labelled image folder or path,label CSV prepared by `spec` (data/labelled.py): dataset
    "images", labels as indices into the spec's classes; `model` names it in errors."""
    from ..data.labelled import load_labelled

    data = load_labelled(source, spec, model)
    file, digest = _images_file(data.images)
    info = {
        "source": str(source),
        "resize": data.resize,
        "classes": list(data.classes),
        "counts": data.counts,
        "problems": data.problems,
        "pixels_sha256": data.sha256,
    }
    return ImageSet("images", data.images, data.labels, list(data.names), file, digest, info, labelled=data)


def preparation_key(spec: ModelSpec) -> tuple[Any, ...]:
    """What a labelled set's images and labels depend on: two models with the same key share one
    set (mean and std are not in it: the runner normalises)."""
    pre = spec.preprocess
    return (tuple(spec.input_shape), pre.resize, pre.crop_fraction, tuple(spec.classes))


def labelled_sets(source: str | Path, specs: Mapping[str, ModelSpec]) -> dict[str, ImageSet]:
    """`source` prepared for each model (name -> spec), decoded once per preparation_key."""
    made: dict[tuple[Any, ...], ImageSet] = {}
    sets = {}
    for name, spec in specs.items():
        key = preparation_key(spec)
        if key not in made:
            made[key] = labelled_set(source, spec, name)
        sets[name] = made[key]
    return sets


def host_predictions(
    model_path: Path,
    model_sha256: str,
    images: ImageSet,
    runtime: str = p.RUNTIME_LITE,
    *,
    mean: tuple[float, ...] = (NORM_MEAN,),
    std: tuple[float, ...] = (NORM_STD,),
) -> np.ndarray[Any, Any]:
    """Top class per image from the host's own runtime on the same file, normalised with the
    model's per-channel mean and std as the device is (cached by both hashes and, when not
    FER-2013's, the normalisation)."""
    from ..runner.host import run_host

    key = f"{model_sha256[:24]}-{images.sha256[:24]}"
    if (tuple(mean), tuple(std)) != ((NORM_MEAN,), (NORM_STD,)):  # FER-2013's keep protocol 3's cache names
        key += "-" + hashlib.sha256(repr((tuple(mean), tuple(std))).encode()).hexdigest()[:12]
    cache = cache_dir() / "bench-host-predictions" / f"{key}.json"
    if cache.is_file():
        try:
            top = json.loads(cache.read_text())["top"]
            if len(top) == len(images.images):
                return np.asarray(top, dtype=np.int64)
        except (OSError, ValueError, KeyError):
            pass
    from ..targets import HOST_CPU

    with HOST_CPU:  # torch's thread setting is process-wide; and never measure beside a run
        result = run_host("classify", model=model_path, input_path=images.file, runtime=runtime, mean=mean, std=std)
    if not isinstance(result, p.ClassifyResult):
        raise RunnerError(f"the host runner answered {type(result).__name__} to classify", "bad_result")
    atomic_write_json(cache, {"top": list(result.top), "model_sha256": model_sha256, "images_sha256": images.sha256})
    return np.asarray(result.top, dtype=np.int64)


def calibration_from(images: ImageSet, spec: ModelSpec) -> Any:
    """int8 calibration and agreement images (export/samples.py) from a model's --images set."""
    from ..export.samples import own_samples

    return own_samples(images.images, spec.preprocess, str(images.info.get("source", "")), list(images.names))
