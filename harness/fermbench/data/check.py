"""What `fermbench data check` reports about a FER-2013 copy: counts, duplicates, leaks, blanks.

Known properties of FER-2013 are reported, never hidden or fixed: exact duplicate images (some
with conflicting labels), test images byte-identical to a training image, near-blank images.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..labels import CLASS_NAMES
from .fer2013 import SPLITS, EmptySplitError, SplitData, load_split

NEAR_BLANK_STD = 5.0  # grey levels; real faces are above 9, the blank frames in FER-2013 at 0-4
EXAMPLES = 5


@dataclass
class DataReport:
    source: str
    counts: dict[str, list[int]]  # split -> images per class, dataset order
    duplicate_groups: int = 0  # sets of 2+ byte-identical images, across all splits
    duplicate_images: int = 0  # images in those sets
    conflicting_groups: int = 0  # duplicate sets whose images carry different labels
    overlap: dict[str, int] = field(default_factory=dict)  # test split -> images identical to a training image
    overlap_conflicting: dict[str, int] = field(default_factory=dict)  # ... of those, with another label
    near_blank: dict[str, int] = field(default_factory=dict)
    examples: dict[str, list[str]] = field(default_factory=dict)  # a few names per finding
    class_names: tuple[str, ...] = CLASS_NAMES

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def check_dataset(path: str | Path) -> DataReport:
    splits: dict[str, SplitData] = {}
    for split in SPLITS:
        try:
            splits[split] = load_split(path, split)
        except EmptySplitError:
            continue  # a copy without this split (e.g. no PrivateTest): counted as absent
    report = DataReport(str(path), {s: d.class_counts() for s, d in splits.items()})

    # key -> list of (split, index) for every byte-identical image
    groups: dict[bytes, list[tuple[str, int]]] = defaultdict(list)
    for split, data in splits.items():
        rows = data.images.reshape(len(data), -1).numpy()
        for i, row in enumerate(rows):
            groups[hashlib.blake2b(row.tobytes(), digest_size=16).digest()].append((split, i))
        std = data.images.reshape(len(data), -1).float().std(1)
        blank = (std < NEAR_BLANK_STD).nonzero().flatten().tolist()
        report.near_blank[split] = len(blank)
        if blank:
            report.examples[f"near_blank/{split}"] = [data.names[i] for i in blank[:EXAMPLES]]

    label = {s: d.labels.tolist() for s, d in splits.items()}
    name = {s: d.names for s, d in splits.items()}
    dup, conflict = [], []
    for members in groups.values():
        if len(members) < 2:
            continue
        report.duplicate_groups += 1
        report.duplicate_images += len(members)
        dup.append(members)
        if len({label[s][i] for s, i in members}) > 1:
            report.conflicting_groups += 1
            conflict.append(members)
        train_labels = {label[s][i] for s, i in members if s == "Training"}
        if not train_labels:
            continue
        for s, i in members:
            if s != "Training":
                report.overlap[s] = report.overlap.get(s, 0) + 1
                if label[s][i] not in train_labels:
                    report.overlap_conflicting[s] = report.overlap_conflicting.get(s, 0) + 1
    for key, found in (("duplicates", dup), ("conflicting", conflict)):
        if found:
            report.examples[key] = [
                " = ".join(f"{name[s][i]} ({CLASS_NAMES[label[s][i]]})" for s, i in g[:3]) for g in found[:EXAMPLES]
            ]
    for split in splits:
        if split != "Training":
            report.overlap.setdefault(split, 0)
            report.overlap_conflicting.setdefault(split, 0)
    return report
