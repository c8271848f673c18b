"""Paired accuracy comparisons between models of one session and device.

Every model of a session classifies the same FER-2013 images and the same photos, so two models
are compared image by image: the exact McNemar test on the images only one of them got right,
and a 95% interval of the paired difference (intervals.paired_comparison). Overlapping Wilson
intervals of the two accuracies say nothing about that difference.

Images are paired by identity (a FER-2013 image's file name, a photo's path), never by row
position; a pair whose labels disagree means the two models did not see the same data, and the
comparison is refused with that reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any

from ..intervals import PairedComparison, paired_comparison
from ..labels import STUDY_MODELS
from .results import ModelResult

# dataset -> (label, identity column); a labelled image set's label is its own name (ModelResult.acc_label)
DATASETS = {
    "fer2013": ("FER-2013", "name"),
    "photos": ("photos", "photo"),
    "images": ("labelled images", "name"),
}
ACCURACY_SETS = ("fer2013", "images")  # what an accuracy phase classifies; photos are the real-world phase's


@dataclass(frozen=True)
class ModelPair:
    """Model b against model a on one dataset: b's accuracy minus a's, or why it cannot be said."""

    dataset: str  # fer2013 | photos
    a: ModelResult
    b: ModelResult
    comparison: PairedComparison | None
    problem: str | None = None  # why there is no comparison

    @property
    def label(self) -> str:
        """The data's name in a table: FER-2013, photos, or the labelled set's own name."""
        return (self.a.acc_label or DATASETS[self.dataset][0]) if self.dataset in ACCURACY_SETS else "photos"

    def to_dict(self) -> dict[str, Any]:
        c = self.comparison
        return {
            "dataset": self.dataset,
            **({"data": self.label} if self.dataset not in ("fer2013", "photos") else {}),
            "model_a": self.a.model,
            "model_b": self.b.model,
            "variant_a": self.a.variant.key,
            "variant_b": self.b.variant.key,
            "images": c.difference.n if c else None,
            "difference": c.difference.value if c else None,
            "ci_low": c.difference.low if c else None,
            "ci_high": c.difference.high if c else None,
            "only_a_correct": c.only_a if c else None,
            "only_b_correct": c.only_b if c else None,
            "mcnemar_p": c.p_value if c else None,
            "distinguishable": c.distinguishable if c else None,
            "problem": self.problem,
        }


def _rows(predictions: Any, r: ModelResult, dataset: str) -> Any:
    p = predictions
    mine = p[
        (p.session == r.session) & (p.device == r.device.serial) & (p.variant == r.variant.key) & (p.dataset == dataset)
    ]
    if dataset == "photos" and len(mine):
        mine = mine[mine.status == "classified"]
    return mine


def compare_pair(predictions: Any, a: ModelResult, b: ModelResult, dataset: str) -> ModelPair:
    """b against a on the images both classified, joined on each image's identity."""
    _, key = DATASETS[dataset]
    if predictions is None or not len(predictions) or "dataset" not in predictions:
        return ModelPair(dataset, a, b, None, "no per-image predictions stored")
    ra, rb = _rows(predictions, a, dataset), _rows(predictions, b, dataset)
    if not len(ra) or not len(rb):
        return ModelPair(dataset, a, b, None, "no per-image predictions stored for both models")
    if key not in ra or key not in rb:
        return ModelPair(dataset, a, b, None, f"predictions lack the image identity column {key!r}")
    if ra[key].duplicated().any() or rb[key].duplicated().any():
        return ModelPair(dataset, a, b, None, f"an image {key} appears twice in one model's predictions")
    pairs = ra.merge(rb, on=key, suffixes=("_a", "_b"))
    if not len(pairs):
        return ModelPair(dataset, a, b, None, "the two models classified no image in common")
    if (pairs.label_a != pairs.label_b).any():
        return ModelPair(dataset, a, b, None, "the same image carries different labels: not the same data")
    a_ok = (pairs.device_pred_a.astype(int) == pairs.label_a.astype(int)).to_numpy()
    b_ok = (pairs.device_pred_b.astype(int) == pairs.label_b.astype(int)).to_numpy()
    return ModelPair(dataset, a, b, paired_comparison(a_ok, b_ok))


def comparable(r: ModelResult) -> bool:
    """A model whose accuracy means something: the study's trained ones, and every other model
    unless it is marked untrained (fermbench cannot know whether a factory's weights are trained)."""
    return bool(r.trained) if r.model in STUDY_MODELS else r.trained is not False


def _scored_on(r: ModelResult, dataset: str) -> tuple[str, str | None, tuple[str, ...]] | None:
    """What r's accuracy on `dataset` was measured on: (dataset, source, classes); None if not measured."""
    if dataset == "photos":
        return ("photos", None, r.classes) if r.rw_interval is not None else None
    if dataset == "fer2013":
        return ("fer2013", None, r.classes) if r.fer_interval is not None else None
    if r.acc_interval is None or r.acc_dataset != dataset:
        return None
    return (dataset, r.accuracy.source if dataset != "fer2013" and r.accuracy else None, r.classes)


def model_pairs(results: Sequence[ModelResult], predictions: Any) -> list[ModelPair]:
    """Every pair of models (in the results' order) measured on the same data with the same
    classes, on each dataset; models with other classes or data are never paired (see unpaired)."""
    usable = [r for r in results if comparable(r)]
    out = []
    for dataset in DATASETS:
        groups: dict[tuple[str, str | None, tuple[str, ...]], list[ModelResult]] = {}
        for r in usable:
            if (on := _scored_on(r, dataset)) is not None:
                groups.setdefault(on, []).append(r)
        for measured in groups.values():
            out += [compare_pair(predictions, a, b, dataset) for a, b in combinations(measured, 2)]
    return out


def unpaired(results: Sequence[ModelResult]) -> str | None:
    """One line naming the models whose accuracy was measured on other classes or data than the
    rest (they are not paired with those); None when every scored model shares one."""
    kinds: dict[tuple[str, str | None, tuple[str, ...]], list[ModelResult]] = {}
    for r in results:
        on = next((k for d in ACCURACY_SETS if (k := _scored_on(r, d)) is not None), None)
        if comparable(r) and on is not None:
            kinds.setdefault(on, []).append(r)
    if len(kinds) < 2:
        return None
    shown = "; ".join(
        f"{group[0].acc_label or DATASETS[dataset][0]} ({len(classes)} classes): {', '.join(r.model for r in group)}"
        for (dataset, _, classes), group in kinds.items()
    )
    return f"models scored on different data or classes are not paired across them: {shown}"
