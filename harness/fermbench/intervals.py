"""Confidence intervals for accuracies: how sure a number measured on N images is.

- `wilson`: one accuracy, k correct of n (Wilson score interval). Unlike the normal
  approximation it stays inside [0, 1] and behaves at small n and at 0% or 100%, which matters
  for 150 photos split over six classes.
- `paired_difference`: the change of accuracy between two models classified on the *same*
  images (e.g. int8 against fp32), with a seeded percentile bootstrap over images. Pairing
  matters: two models that agree on most images differ far less than two independent samples.
- `overlap`: whether two intervals overlap (the report then says "not distinguishable").

Pure functions over counts and boolean arrays; nothing here reads files.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any, Sequence

import numpy as np


@dataclass(frozen=True)
class Interval:
    """An estimate with its confidence interval, all as fractions 0..1 (or differences of them)."""

    value: float
    low: float
    high: float
    n: int
    confidence: float = 0.95

    def overlaps(self, other: Interval) -> bool:
        return overlap((self.low, self.high), (other.low, other.high))

    def text(self, scale: float = 100.0, digits: int = 1) -> str:
        """'64.6 [63.0-66.1]' (percent by default)."""
        return f"{self.value * scale:.{digits}f} [{self.low * scale:.{digits}f}-{self.high * scale:.{digits}f}]"


def _z(confidence: float) -> float:
    if not 0 < confidence < 1:
        raise ValueError("confidence must be between 0 and 1")
    return NormalDist().inv_cdf(0.5 + confidence / 2)


def wilson(correct: int, n: int, confidence: float = 0.95) -> Interval | None:
    """Accuracy `correct / n` with its Wilson score interval; None when n is 0 (nothing measured)."""
    if n < 0 or not 0 <= correct <= n:
        raise ValueError(f"need 0 <= correct <= n, got {correct} of {n}")
    if n == 0:
        return None
    z = _z(confidence)
    p = correct / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return Interval(p, max(0.0, centre - half), min(1.0, centre + half), n, confidence)


def paired_difference(a_correct: Sequence[bool] | np.ndarray[Any, Any], b_correct: Sequence[bool] | np.ndarray[Any, Any],
                      confidence: float = 0.95, n_boot: int = 2000, seed: int = 0) -> Interval | None:
    """accuracy(b) - accuracy(a) on the same images, with a percentile bootstrap interval that
    resamples images (seeded: the same inputs always give the same interval). None when empty."""
    a = np.asarray(a_correct, dtype=bool)
    b = np.asarray(b_correct, dtype=bool)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"paired results must be two equal 1-D arrays, got {a.shape} and {b.shape}")
    n = int(a.size)
    if n == 0:
        return None
    _z(confidence)
    diff = b.astype(np.int8) - a.astype(np.int8)  # -1, 0 or +1 per image
    rng = np.random.default_rng(seed)
    boot = np.empty(n_boot)
    for start in range(0, n_boot, 256):  # chunks keep memory small for large test sets
        stop = min(n_boot, start + 256)
        idx = rng.integers(0, n, size=(stop - start, n))
        boot[start:stop] = diff[idx].mean(axis=1)
    alpha = 1 - confidence
    low, high = (float(v) for v in np.quantile(boot, [alpha / 2, 1 - alpha / 2]))
    return Interval(float(diff.mean()), low, high, n, confidence)


def overlap(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return a[0] <= b[1] and b[0] <= a[1]
