"""Small FER-shaped datasets with known labels, in both layouts, for tests and benchmarks.

Each class gets its own easy-to-learn pattern (a bright horizontal band at a class-specific
height) plus noise, so a model trained on it for a few epochs beats chance clearly.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from ..labels import CLASS_NAMES

SPLIT_FOLDER = {"Training": "train", "PublicTest": "test", "PrivateTest": "test"}


def make_images(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """n uint8 48x48 images and their labels (cycling through the 7 classes)."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % len(CLASS_NAMES)
    images = rng.integers(0, 90, size=(n, 48, 48)).astype(np.uint8)
    for i, y in enumerate(labels):
        top = 3 + 6 * int(y)
        images[i, top : top + 6, :] = rng.integers(180, 255, size=(6, 48))
    return images, labels.astype(np.int64)


def write_folder(root: Path, counts: dict[str, int], seed: int = 0, ext: str = ".png") -> dict[str, np.ndarray]:
    """Write `counts` images per split as train/<class>/<Split>_<i><ext> (PNG: lossless by default).

    Returns split -> labels in file-name order within each class folder (what the loader reads).
    """
    import cv2

    written = {}
    for s, (split, n) in enumerate(counts.items()):
        images, labels = make_images(n, seed + s)
        for i, (img, y) in enumerate(zip(images, labels)):
            folder = Path(root) / SPLIT_FOLDER[split] / CLASS_NAMES[y]
            folder.mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(folder / f"{split}_{i:06d}{ext}"), img)
        written[split] = labels
    return written


def write_csv(path: Path, counts: dict[str, int], seed: int = 0) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Write a Kaggle-style fer2013.csv; returns split -> (images, labels) in row order."""
    written = {}
    with open(path, "w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["emotion", "pixels", "Usage"])
        for s, (split, n) in enumerate(counts.items()):
            images, labels = make_images(n, seed + s)
            for img, y in zip(images, labels):
                out.writerow([int(y), " ".join(map(str, img.ravel().tolist())), split])
            written[split] = (images, labels)
    return written
