"""Any labelled image set, prepared for one model: accuracy beyond FER-2013.

Source: a folder of class subfolders (`<root>/<class>/<picture>`, any class names, pictures at
any depth below their class folder) or a CSV of `path,label` rows (paths relative to the CSV's
folder; an optional header row `path,label`). A label is a class name of the model (exactly, or
in another case); one the model does not know stops the load, naming it. Each picture is decoded
and prepared by the model's own spec (data/preprocess.py); one that cannot be (not an image, no
face for a FACE_CROP model) is counted and named, never fatal, unless none is left.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import DataError
from ..zoo.spec import FACE_CROP, ModelSpec
from . import faces, preprocess

SHOWN_CLASSES = 10  # classes named in an error; the count covers all of them


@dataclass(frozen=True)
class Picture:
    name: str  # relative to the folder, or as written in the CSV
    path: Path
    label: str  # as found: the class folder's name or the CSV's label


@dataclass(frozen=True)
class Skipped:
    """A listed picture that is not in the set, and why."""

    name: str
    status: str  # preprocess.UNDECODABLE or preprocess.NO_FACE
    reason: str


@dataclass(frozen=True)
class LabelledImages:
    """The pictures the model can be scored on, prepared; `skipped` names the rest."""

    images: np.ndarray  # uint8 [N, C, H, W], the model's own size and channels
    labels: np.ndarray  # int64 [N], indices into `classes`
    names: list[str]  # per image, relative to the source
    classes: tuple[str, ...]  # the model's classes, in its output order
    source: str
    sha256: str  # of the pixels (images' bytes), shape included
    resize: str  # the spec's resize policy the images went through
    skipped: tuple[Skipped, ...] = ()

    @property
    def counts(self) -> dict[str, int]:
        """listed = loaded + undecodable + no_face."""
        return {
            "listed": len(self.names) + len(self.skipped),
            "loaded": len(self.names),
            "undecodable": sum(s.status == preprocess.UNDECODABLE for s in self.skipped),
            "no_face": sum(s.status == preprocess.NO_FACE for s in self.skipped),
        }

    @property
    def problems(self) -> dict[str, str]:
        """Each skipped picture's name -> why it was not loaded."""
        return {s.name: s.reason for s in self.skipped}


def pixels_sha256(images: np.ndarray) -> str:
    """sha256 of uint8 [N, C, H, W] pixels with their shape (same bytes, other shape: other set)."""
    h = hashlib.sha256(f"{list(images.shape)}\n".encode())
    h.update(np.ascontiguousarray(images).tobytes())
    return h.hexdigest()


def list_pictures(source: str | Path) -> list[Picture]:
    """The labelled pictures of a class-subfolder tree or a `path,label` CSV, in a stable order."""
    source = Path(source)
    if source.is_file() and source.suffix.lower() in faces.IMAGE_SUFFIXES:
        raise DataError(
            f"image source {source} is one image; pass the folder of class subfolders that holds it, "
            "or a CSV of path,label rows"
        )
    if source.is_file():
        return [Picture(r.name, r.path, r.label.strip()) for r in faces.read_path_label_csv(source)]
    if source.is_dir():
        return _pictures_in_folders(source)
    raise DataError(
        f"image source {source} does not exist; pass a folder of class subfolders or a CSV of path,label rows"
    )


def _pictures_in_folders(root: Path) -> list[Picture]:
    subdirs = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not subdirs:
        raise DataError(f"{root} has no class subfolders; lay images out as {root}/<class>/<image>")
    pictures = []
    for sub in subdirs:
        for path in sorted(p for p in sub.rglob("*") if p.is_file() and not p.name.startswith(".")):
            pictures.append(Picture(faces.display_name(path.relative_to(root).as_posix()), path, sub.name))
    if not pictures:
        raise DataError(f"{root}: the class subfolders hold no files")
    return pictures


def _shown(classes: tuple[str, ...]) -> str:
    more = f", ... ({len(classes)} in all)" if len(classes) > SHOWN_CLASSES else ""
    return ", ".join(classes[:SHOWN_CLASSES]) + more


def class_indices(labels: list[str], spec: ModelSpec, model: str, rename: str = "rename the folders") -> list[int]:
    """Each label's index in the model's classes (exact name first, else the one name equal
    ignoring case); DataError naming every unknown label and the model's classes."""
    if not spec.classes:
        raise DataError(
            f"{model} names no classes, so it cannot be scored on labelled images: give its ModelSpec "
            "classes=(...) in output order, or time it without images"
        )
    exact = {c: i for i, c in enumerate(spec.classes)}
    folded: dict[str, list[int]] = {}
    for i, c in enumerate(spec.classes):
        folded.setdefault(c.casefold(), []).append(i)
    indices, unknown = [], []
    for label in labels:
        index = exact.get(label)
        if index is None and len(folded.get(label.casefold(), [])) == 1:
            index = folded[label.casefold()][0]
        if index is None:
            unknown.append(label)
        indices.append(-1 if index is None else index)
    if unknown:
        names = sorted(set(unknown))
        which = f"labels {', '.join(names)} are not classes" if len(names) > 1 else f"label {names[0]} is not a class"
        raise DataError(f"{which} of {model} ({_shown(spec.classes)}): {rename} or pick the model trained on them")
    return indices


def load_labelled(source: str | Path, spec: ModelSpec, model: str | None = None) -> LabelledImages:
    """The pictures of `source` prepared for `spec`'s model (named `model` in errors; default the
    spec's name), with their labels as indices into its classes."""
    model = model or spec.name or "the model"
    pictures = list_pictures(source)
    is_csv = Path(source).is_file()
    indices = class_indices(
        [p.label for p in pictures], spec, model, "rename the labels" if is_csv else "rename the folders"
    )
    cascade = faces.load_cascade() if spec.preprocess.resize == FACE_CROP else None
    kept: list[np.ndarray] = []
    labels: list[int] = []
    names: list[str] = []
    skipped: list[Skipped] = []
    for picture, index in zip(pictures, indices):
        prepared = preprocess.prepare(picture.path, spec, cascade)
        if prepared.image is None:
            skipped.append(Skipped(picture.name, prepared.status or preprocess.UNDECODABLE, prepared.reason or ""))
            continue
        kept.append(prepared.image)
        labels.append(index)
        names.append(picture.name)
    if not kept:
        first = skipped[0]
        fix = "pass pictures with one face each" if first.status == preprocess.NO_FACE else "pass JPEG or PNG images"
        raise DataError(
            f"none of the {len(pictures)} images in {source} could be prepared for {model} "
            f"(e.g. {first.name}: {first.reason}); {fix}"
        )
    images = np.stack(kept).astype(np.uint8)
    return LabelledImages(
        images=images,
        labels=np.asarray(labels, dtype=np.int64),
        names=names,
        classes=tuple(spec.classes),
        source=str(source),
        sha256=pixels_sha256(images),
        resize=spec.preprocess.resize,
        skipped=tuple(skipped),
    )
