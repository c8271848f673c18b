"""Real-world photos -> FER-2013-shaped face crops, as in the study: Haar cascade on the host.

Pipeline per photo: decode -> grayscale -> OpenCV's frontal-face Haar cascade
(`haarcascade_frontalface_default.xml`) -> pick a face by policy -> crop the box -> 48x48 uint8.

Policy when a photo does not hold exactly one face (every case is counted, none dropped silently):
- no face: the photo is not classified; status `no_face`.
- several faces, policy `largest` (default): the face with the largest box is classified;
  status `classified`, `faces` > 1, counted in `multi_face`.
- several faces, policy `skip`: the photo is not classified; status `multi_face_skipped`.
- a file that cannot be decoded (or is missing): status `undecodable`, reported by name.

Photo folder: either class subfolders (`<root>/<class name>/<photo>`, class names as in
`fermbench.labels.CLASS_NAMES`, any case) or a CSV file of `path,label` rows (label = class name
or index; paths relative to the CSV's folder; an optional header row `path,label`).
"""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DataError
from ..labels import CLASS_NAMES

FACE_POLICIES = ("largest", "skip")
CROP_SIZE = 48
CASCADE_FILE = "haarcascade_frontalface_default.xml"

# detectMultiScale settings: the common ones for frontal faces; minSize keeps specks out.
SCALE_FACTOR = 1.1
MIN_NEIGHBORS = 5
MIN_FACE = 24

CLASSIFIED, NO_FACE, MULTI_SKIPPED, UNDECODABLE = "classified", "no_face", "multi_face_skipped", "undecodable"
# Larger photos are refused from their header, before decoding: a 120 KB PNG can claim 10000x10000
# pixels and cost gigabytes to decode and scan. 40 megapixels is above a phone camera's usual output.
MAX_PHOTO_PIXELS = 40_000_000
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff")


@dataclass(frozen=True)
class Photo:
    name: str  # as the user knows it: relative to the folder, or as written in the CSV
    path: Path
    label: int


@dataclass
class PhotoCrop:
    photo: Photo
    status: str  # classified | no_face | multi_face_skipped | undecodable
    faces: int = 0
    box: tuple[int, int, int, int] | None = None  # x, y, w, h of the chosen face
    image: np.ndarray | None = None  # 48x48 uint8 where classified
    reason: str | None = None  # why undecodable


@dataclass
class FaceCrops:
    """Every photo with what happened to it; `images`/`labels` hold only the classified ones."""

    source: str
    policy: str
    crops: list[PhotoCrop] = field(default_factory=list)

    @property
    def classified(self) -> list[PhotoCrop]:
        return [c for c in self.crops if c.status == CLASSIFIED]

    @property
    def images(self) -> np.ndarray:
        kept = self.classified
        if not kept:
            return np.zeros((0, CROP_SIZE, CROP_SIZE), np.uint8)
        return np.stack([c.image for c in kept if c.image is not None]).astype(np.uint8)

    @property
    def labels(self) -> np.ndarray:
        return np.array([c.photo.label for c in self.classified], dtype=np.int64)

    def names(self, status: str) -> list[str]:
        return [c.photo.name for c in self.crops if c.status == status]

    @property
    def counts(self) -> dict[str, int]:
        return {
            "photos": len(self.crops),
            "classified": len(self.classified),
            "no_face": sum(c.status == NO_FACE for c in self.crops),
            "multi_face": sum(c.faces > 1 for c in self.crops),
            "undecodable": sum(c.status == UNDECODABLE for c in self.crops),
        }


def parse_label(text: str, where: str) -> int:
    value = text.strip()
    lowered = value.lower()
    if lowered in CLASS_NAMES:
        return CLASS_NAMES.index(lowered)
    if value.isdigit() and int(value) < len(CLASS_NAMES):
        return int(value)
    raise DataError(
        f"{where}: unknown label '{value}'; use one of {', '.join(CLASS_NAMES)} or an index 0-{len(CLASS_NAMES) - 1}"
    )


def list_photos(source: str | Path) -> list[Photo]:
    """The labelled photos of a class-subfolder tree or a `path,label` CSV, in a stable order."""
    source = Path(source)
    if source.is_file() and source.suffix.lower() in IMAGE_SUFFIXES:
        raise DataError(
            f"photo source {source} is one image; pass the folder of class subfolders that holds "
            "the photos, or a CSV of path,label rows"
        )
    if source.is_file():
        return _photos_from_csv(source)
    if source.is_dir():
        return _photos_from_folders(source)
    raise DataError(
        f"photo source {source} does not exist; pass a folder of class subfolders or a CSV of path,label rows"
    )


def display_name(name: str) -> str:
    """A file name as text that can be written anywhere (JSON, CSV, the terminal): bytes that are
    not UTF-8 (Python keeps them as surrogates) are shown as \\xNN, so names stay distinct."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _photos_from_folders(root: Path) -> list[Photo]:
    subdirs = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not subdirs:
        raise DataError(
            f"{root} has no class subfolders; lay photos out as {root}/<class>/<photo> "
            f"with classes {', '.join(CLASS_NAMES)}, or pass a CSV of path,label"
        )
    photos = []
    for sub in subdirs:
        label = parse_label(sub.name, f"folder {sub}")
        for path in sorted(p for p in sub.rglob("*") if p.is_file() and not p.name.startswith(".")):
            photos.append(Photo(display_name(str(path.relative_to(root))), path, label))
    if not photos:
        raise DataError(f"{root}: the class subfolders hold no files")
    return photos


def _photos_from_csv(csv_path: Path) -> list[Photo]:
    return [
        Photo(row.name, row.path, parse_label(row.label, f"{csv_path} line {row.line}"))
        for row in read_path_label_csv(csv_path, "photo")
    ]


@dataclass(frozen=True)
class PathLabelRow:
    name: str  # the path as written in the CSV
    path: Path  # resolved against the CSV's folder
    label: str  # as written (the caller decides what a label may be)
    line: int


def read_path_label_csv(csv_path: Path, what: str = "image") -> list[PathLabelRow]:
    """The rows of a `path,label` CSV (an optional header row `path,label`; paths relative to the
    CSV's folder); a file that is not such a CSV is one DataError naming it."""
    try:
        return _read_path_label_csv(csv_path, what)
    except UnicodeDecodeError as exc:
        raise DataError(f"{csv_path} is not UTF-8 text (byte {exc.start}); save it as UTF-8") from None
    except csv.Error as exc:
        raise DataError(f"{csv_path} is not a CSV of path,label rows ({exc}); fix or re-save it") from None
    except OSError as exc:
        raise DataError(f"{csv_path} cannot be read ({exc.strerror or exc}); pass a readable CSV") from None


def _read_path_label_csv(csv_path: Path, what: str) -> list[PathLabelRow]:
    rows = []
    with open(csv_path, newline="", encoding="utf-8") as fh:
        for lineno, row in enumerate(csv.reader(fh), start=1):
            if not row or not "".join(row).strip():
                continue
            if len(row) != 2:
                raise DataError(f"{csv_path} line {lineno}: expected 'path,label', got {len(row)} fields")
            name, label = row[0].strip(), row[1]
            if "\0" in name:
                raise DataError(f"{csv_path} line {lineno}: the path holds a NUL byte; fix or re-save the CSV")
            if lineno == 1 and label.strip().lower() == "label":
                continue  # header row
            path = Path(name) if Path(name).is_absolute() else csv_path.parent / name
            rows.append(PathLabelRow(name, path, label, lineno))
    if not rows:
        raise DataError(f"{csv_path} lists no {what}s; write one 'path,label' row per {what}")
    return rows


@functools.lru_cache(maxsize=1)
def _cascade_path() -> str:
    try:
        import cv2

        path = Path(cv2.data.haarcascades) / CASCADE_FILE  # type: ignore[attr-defined]  # not in cv2's stubs
    except (ImportError, AttributeError) as exc:
        raise DataError(
            "OpenCV with Haar cascades is needed for photos; install opencv-python-headless<5 (5.x ships no cascades)"
        ) from exc
    if not path.is_file():
        raise DataError(f"{path} is missing; reinstall opencv-python-headless<5")
    return str(path)


def load_cascade() -> Any:
    """A fresh CascadeClassifier (one per caller: the detector is not shared across threads)."""
    import cv2

    cascade = cv2.CascadeClassifier(_cascade_path())
    if cascade.empty():
        raise DataError(f"OpenCV could not load {_cascade_path()}; reinstall opencv-python-headless<5")
    return cascade


def detect_faces(gray: np.ndarray[Any, Any], cascade: Any = None) -> list[tuple[int, int, int, int]]:
    """Face boxes (x, y, w, h) in a grayscale image, largest first."""
    cascade = cascade if cascade is not None else load_cascade()
    boxes = cascade.detectMultiScale(
        gray, scaleFactor=SCALE_FACTOR, minNeighbors=MIN_NEIGHBORS, minSize=(MIN_FACE, MIN_FACE)
    )
    found = [(int(b[0]), int(b[1]), int(b[2]), int(b[3])) for b in (boxes if len(boxes) else [])]
    return sorted(found, key=lambda b: (-b[2] * b[3], b[0], b[1]))


def crop_face(gray: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """The box cut out of `gray`, resized to 48x48 uint8 (area interpolation, as for downscaling)."""
    import cv2

    x, y, w, h = box
    face = gray[max(y, 0) : y + h, max(x, 0) : x + w]
    interp = cv2.INTER_AREA if min(face.shape) >= CROP_SIZE else cv2.INTER_LINEAR
    return cv2.resize(face, (CROP_SIZE, CROP_SIZE), interpolation=interp).astype(np.uint8)


def decode_gray(path: Path) -> tuple[np.ndarray | None, str | None]:
    """The photo in grayscale, or (None, reason): data/preprocess.py's decoding with one channel."""
    from .preprocess import decode  # preprocess builds on this module: imported here, not at the top

    return decode(path, 1)


def header_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) read from the image's header alone (Pillow opens lazily; nothing is
    decoded), or None when no image format is recognised."""
    import io
    import warnings

    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Pillow's own bomb warning: the limit here decides
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
    except Image.DecompressionBombError:
        return (1 << 31, 1)  # beyond Pillow's own hard limit: over ours too
    except Exception:  # a hostile header may raise anything from a third-party parser: not an image
        return None
    return int(width), int(height)


def crop_photo(photo: Photo, policy: str = "largest", cascade: Any = None) -> PhotoCrop:
    gray, reason = decode_gray(photo.path)
    if gray is None:
        return PhotoCrop(photo, UNDECODABLE, reason=reason)
    boxes = detect_faces(gray, cascade)
    if not boxes:
        return PhotoCrop(photo, NO_FACE)
    if len(boxes) > 1 and policy == "skip":
        return PhotoCrop(photo, MULTI_SKIPPED, faces=len(boxes))
    return PhotoCrop(photo, CLASSIFIED, faces=len(boxes), box=boxes[0], image=crop_face(gray, boxes[0]))


def crop_photos(source: str | Path, policy: str = "largest") -> FaceCrops:
    """Detect, choose and crop a face in every photo of `source` (see the module docstring)."""
    if policy not in FACE_POLICIES:
        raise DataError(f"unknown face policy '{policy}'; choose one of {', '.join(FACE_POLICIES)}")
    photos = list_photos(source)
    cascade = load_cascade()
    return FaceCrops(str(source), policy, [crop_photo(p, policy, cascade) for p in photos])
