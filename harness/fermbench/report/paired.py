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
from .results import ModelResult

DATASETS = {"fer2013": ("FER-2013", "name"), "photos": ("photos", "photo")}  # dataset -> (label, identity column)


@dataclass(frozen=True)
class ModelPair:
    """Model b against model a on one dataset: b's accuracy minus a's, or why it cannot be said."""

    dataset: str  # fer2013 | photos
    a: ModelResult
    b: ModelResult
    comparison: PairedComparison | None
    problem: str | None = None  # why there is no comparison

    def to_dict(self) -> dict[str, Any]:
        c = self.comparison
        return {
            "dataset": self.dataset,
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


def model_pairs(results: Sequence[ModelResult], predictions: Any) -> list[ModelPair]:
    """Every pair of trained models (in the results' order), on each dataset both measured."""
    trained = [r for r in results if r.trained]
    out = []
    for dataset in DATASETS:
        measured = [r for r in trained if (r.fer_interval if dataset == "fer2013" else r.rw_interval) is not None]
        out += [compare_pair(predictions, a, b, dataset) for a, b in combinations(measured, 2)]
    return out
