"""FER-2013 in the image-folder layout: `train/<class>/*.jpg` and `test/<class>/*.jpg`.

The split of a file comes from its name prefix (`Training_`, `PublicTest_`, `PrivateTest_`)
where it has one, so a `test/` folder holding both test splits is read correctly. A file
without a prefix belongs to its folder's split: `train/` -> Training, `test/` -> PublicTest.
Labels come from the class folder's name, mapped explicitly to the dataset's own order
(never alphabetically). Hidden files (`.DS_Store` and the like) are not data and are skipped;
anything else that is not a readable 48x48 image stops the load.
"""

from __future__ import annotations

import hashlib
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..labels import CLASS_NAMES
from .problems import Problems

FOLDER_SPLITS = {"train": "Training", "test": "PublicTest"}
PREFIX_SPLITS = {"Training_": "Training", "PublicTest_": "PublicTest", "PrivateTest_": "PrivateTest"}
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".pgm", ".tif", ".tiff"}
CLASS_INDEX = {name: i for i, name in enumerate(CLASS_NAMES)}
SIDE = 48


@dataclass(frozen=True)
class ImageFile:
    relpath: str  # posix, relative to the dataset root: the image's name in SplitData.names
    path: str
    label: int
    split: str


def is_folder_layout(root: Path) -> bool:
    return root.is_dir() and any((root / name).is_dir() for name in FOLDER_SPLITS)


def split_of(name: str, folder: str) -> str:
    for prefix, split in PREFIX_SPLITS.items():
        if name.startswith(prefix):
            return split
    return FOLDER_SPLITS[folder]


def scan(root: Path) -> list[ImageFile]:
    """Every image file under train/ and test/, sorted by path; layout problems raise DataError."""
    problems = Problems(str(root))
    files: list[ImageFile] = []
    for folder in FOLDER_SPLITS:
        top = root / folder
        if not top.is_dir():
            continue
        for entry in sorted(os.scandir(top), key=lambda e: e.name):
            if entry.name.startswith("."):
                continue
            if not entry.is_dir():
                problems.add(f"{folder}/{entry.name}", "file outside a class folder")
                continue
            label = CLASS_INDEX.get(entry.name.lower())
            if label is None:
                problems.add(f"{folder}/{entry.name}/", f"unknown class folder (expected {', '.join(CLASS_NAMES)})")
                continue
            for item in sorted(os.scandir(entry.path), key=lambda e: e.name):
                if item.name.startswith("."):
                    continue
                relpath = f"{folder}/{entry.name}/{item.name}"
                if not item.is_file():
                    problems.add(relpath, "not a file")
                elif item.name[item.name.rfind(".") :].lower() not in IMAGE_SUFFIXES:
                    problems.add(relpath, "not an image file")
                else:
                    files.append(ImageFile(relpath, item.path, label, split_of(item.name, folder)))
    problems.raise_if_any("move or delete these files, or fix the folder names")
    return files


def fingerprint(root: Path, files: list[ImageFile]) -> str:
    """Cheap identity from file metadata (like git's index), used to find the content key fast."""
    h = hashlib.sha256(str(root.resolve()).encode())
    for f in files:
        st = os.stat(f.path)
        h.update(f"{f.relpath}\0{st.st_ino}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_ctime_ns}\n".encode())
    return h.hexdigest()


def _read(path: str) -> bytes | OSError:
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except OSError as exc:
        return exc


def read(root: Path, files: list[ImageFile], tag: str) -> tuple[np.ndarray, np.ndarray, list[str], str]:
    """Decode `files` into uint8 [N,48,48] images and labels; return them with the content key.

    The content key hashes every file's path, label and bytes, so it changes whenever the data does.
    """
    import cv2  # imported here: loading the package must not need OpenCV

    # Reads are I/O-bound on a cold disk; threads overlap them (decoding releases the GIL too).
    with ThreadPoolExecutor(max_workers=8) as pool:
        blobs = list(pool.map(_read, (f.path for f in files)))
    problems = Problems(str(root))
    key = hashlib.sha256(tag.encode())
    images = np.empty((len(files), SIDE, SIDE), dtype=np.uint8)
    for i, (f, blob) in enumerate(zip(files, blobs)):
        if isinstance(blob, OSError):
            problems.add(f.relpath, f"unreadable ({blob.strerror})")
            continue
        key.update(f"{f.relpath}\0{f.label}\0{len(blob)}\0".encode())
        key.update(blob)
        img = cv2.imdecode(np.frombuffer(blob, np.uint8), cv2.IMREAD_GRAYSCALE) if blob else None
        if img is None:
            problems.add(f.relpath, "unreadable image (not a decodable image file)")
        elif img.shape != (SIDE, SIDE):
            problems.add(f.relpath, f"image is {img.shape[1]}x{img.shape[0]}, expected {SIDE}x{SIDE}")
        else:
            images[i] = img
    problems.raise_if_any("replace or remove these images (FER-2013 images are 48x48 grayscale)")
    labels = np.array([f.label for f in files], dtype=np.int64)
    return images, labels, [f.relpath for f in files], key.hexdigest()
