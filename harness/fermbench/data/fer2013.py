"""Load one FER-2013 split into memory: uint8 images [N,48,48], int64 labels [N], their names.

Reads the image-folder layout (`train/`, `test/`) and the Kaggle CSV, validates everything
(one DataError naming the first offenders and their count), and caches the decoded arrays by
content under `paths.cache_dir()` so a repeated load skips decoding.

    data = load_split("../shared/fer2013", "Training")
    data.images.shape   # torch.Size([28709, 48, 48]), torch.uint8
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..errors import DataError
from ..labels import CLASS_NAMES
from . import cache, csv_source, folder_source

SPLITS: tuple[str, ...] = ("Training", "PublicTest", "PrivateTest")


class EmptySplitError(DataError):
    """The source is valid but holds no image of the requested split (e.g. no PrivateTest)."""


CACHE_TAG = "fer2013-v1"  # bump when decoding changes, so old cache entries are not used


@dataclass(frozen=True)
class SplitData:
    split: str
    images: torch.Tensor  # uint8 [N, 48, 48]
    labels: torch.Tensor  # int64 [N], dataset order (see labels.CLASS_NAMES)
    names: list[str]  # folder layout: path relative to the root; CSV: "row<i>"
    source: str = ""  # the path it was read from
    digest: str = ""  # sha256 of the images and labels: the "data hash" runs record
    from_cache: bool = False
    seconds: float = field(default=0.0, compare=False)  # how long the load took

    def __len__(self) -> int:
        return len(self.labels)

    def class_counts(self) -> list[int]:
        return torch.bincount(self.labels, minlength=len(CLASS_NAMES)).tolist()


def data_digest(images: np.ndarray, labels: np.ndarray) -> str:
    h = hashlib.sha256(np.ascontiguousarray(images).tobytes())
    h.update(np.ascontiguousarray(labels, dtype=np.int64).tobytes())
    return h.hexdigest()


def check_split(split: str) -> str:
    if split not in SPLITS:
        raise DataError(f"unknown split {split!r}: choose one of {', '.join(SPLITS)}")
    return split


def load_split(path: str | Path, split: str, *, use_cache: bool = True) -> SplitData:
    """One split of FER-2013 at `path` (image-folder root, Kaggle CSV, or a folder holding it)."""
    check_split(split)
    start = time.perf_counter()
    root = Path(path)
    if not root.exists():
        raise DataError(
            f"dataset path {root} does not exist: pass the FER-2013 folder (with train/, test/) or fer2013.csv"
        )
    if folder_source.is_folder_layout(root):
        return _load_folder(root, split, use_cache, start)
    csv_path = csv_source.find_csv(root)
    if csv_path is None:
        raise DataError(
            f"{root} is neither the FER-2013 image-folder layout (train/, test/) nor a Kaggle CSV: pass one of those"
        )
    return _load_csv(csv_path, split, use_cache, start)


def _load_csv(csv_path: Path, split: str, use_cache: bool, start: float) -> SplitData:
    file_fp = csv_source.fingerprint(csv_path)
    split_fp = {s: hashlib.sha256(f"{file_fp}:{s}".encode()).hexdigest() for s in SPLITS}
    hit = _from_cache(split_fp[split], split, csv_path, start) if use_cache else None
    if hit is not None:
        return hit
    parsed = csv_source.read(csv_path, CACHE_TAG)
    counts = {s: len(v[1]) for s, v in parsed.items()}
    if use_cache:  # one parse fills the cache for every split, empty ones too
        for s, (images, labels, names, key) in parsed.items():
            _store(split_fp[s], key, images, labels, names, counts)
    images, labels, names, _ = parsed[split]
    return _result(split, images, labels, names, csv_path, counts, start)


def _load_folder(root: Path, split: str, use_cache: bool, start: float) -> SplitData:
    files = folder_source.scan(root)
    chosen = [f for f in files if f.split == split]
    counts = {s: sum(f.split == s for f in files) for s in SPLITS}
    if not chosen:
        _empty(split, root, counts)
    fp = folder_source.fingerprint(root, chosen)
    hit = _from_cache(fp, split, root, start) if use_cache else None
    if hit is not None:
        return hit
    images, labels, names, key = folder_source.read(root, chosen, f"{CACHE_TAG}:{split}")
    if use_cache:
        _store(fp, key, images, labels, names, counts)
    return _result(split, images, labels, names, root, counts, start)


def _empty(split: str, source: Path, counts: dict[str, int]) -> None:
    found = ", ".join(f"{s} {n}" for s, n in counts.items() if n) or "no images at all"
    raise EmptySplitError(
        f"split {split} is empty in {source} (found: {found}): use a split this copy has, or a complete copy"
    )


def _result(
    split: str,
    images: np.ndarray[Any, Any],
    labels: np.ndarray[Any, Any],
    names: Sequence[str],
    source: Path,
    counts: dict[str, int],
    start: float,
) -> SplitData:
    if not len(labels):
        _empty(split, source, counts)
    return SplitData(
        split,
        torch.from_numpy(images),
        torch.from_numpy(labels),
        list(names),
        str(source),
        data_digest(images, labels),
        False,
        time.perf_counter() - start,
    )


def _store(
    fp: str,
    key: str,
    images: np.ndarray[Any, Any],
    labels: np.ndarray[Any, Any],
    names: Sequence[str],
    counts: dict[str, int],
) -> None:
    cache.store(
        key,
        {
            "images": images,
            "labels": labels,
            "names": np.array(names, dtype=str),
            "digest": np.array(data_digest(images, labels)),
            "counts": np.array([counts.get(s, 0) for s in SPLITS], dtype=np.int64),
        },
    )
    cache.remember(fp, key)


def _from_cache(fp: str, split: str, source: Path, start: float) -> SplitData | None:
    key = cache.key_for(fp)
    arrays = cache.load(key) if key else None
    if arrays is None or "counts" not in arrays:
        return None
    if not len(arrays["labels"]):
        _empty(split, source, dict(zip(SPLITS, arrays["counts"].tolist())))
    return SplitData(
        split,
        torch.from_numpy(arrays["images"]),
        torch.from_numpy(arrays["labels"]),
        arrays["names"].tolist(),
        str(source),
        str(arrays["digest"]),
        True,
        time.perf_counter() - start,
    )
