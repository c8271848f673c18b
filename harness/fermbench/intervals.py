"""Confidence intervals for accuracies: how sure a number measured on N images is.

- `wilson`: one accuracy, k correct of n (Wilson score interval). Unlike the normal
  approximation it stays inside [0, 1] and behaves at small n and at 0% or 100%, which matters
  for 150 photos split over six classes.
- `paired_difference`: the change of accuracy between two models classified on the *same*
  images (e.g. int8 against fp32), with a seeded percentile bootstrap over images. Pairing
  matters: two models that agree on most images differ far less than two independent samples.
- `paired_comparison`: two models on the same images: the exact McNemar p-value on the
  images only one of them got right, with the paired difference's interval. Overlapping
  marginal (Wilson) intervals do not show "no difference"; this does, when its interval holds 0.
- `median_interval`: a distribution-free interval of a median from two order statistics (the
  count of samples below the true median is Binomial(n, 1/2) for any continuous distribution).
- `overlap`: whether two intervals overlap.

Pure functions over counts, samples and boolean arrays; nothing here reads files. scipy gives
the Wilson interval, the binomial law and the bootstrap; what it lacks (order-statistic ranks,
McNemar's discordant counts) is written here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

import numpy as np
from scipy import stats as sps


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
    _z(confidence)
    ci = sps.binomtest(correct, n).proportion_ci(confidence_level=confidence, method="wilson")
    return Interval(correct / n, max(0.0, float(ci.low)), min(1.0, float(ci.high)), n, confidence)


def paired_difference(
    a_correct: Sequence[bool] | np.ndarray[Any, Any],
    b_correct: Sequence[bool] | np.ndarray[Any, Any],
    confidence: float = 0.95,
    n_boot: int = 2000,
    seed: int = 0,
) -> Interval | None:
    """accuracy(b) - accuracy(a) on the same images, with a percentile bootstrap interval that
    resamples images (scipy.stats.bootstrap, seeded: the same inputs always give the same
    interval). None when empty."""
    a = np.asarray(a_correct, dtype=bool)
    b = np.asarray(b_correct, dtype=bool)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"paired results must be two equal 1-D arrays, got {a.shape} and {b.shape}")
    n = int(a.size)
    if n == 0:
        return None
    _z(confidence)
    diff = (b.astype(np.int8) - a.astype(np.int8)).astype(np.float64)  # -1, 0 or +1 per image
    if np.all(diff == diff[0]):
        value = float(diff[0])
        return Interval(value, value, value, n, confidence)  # every resample is the same
    res = sps.bootstrap(
        (diff,),
        np.mean,
        n_resamples=n_boot,
        confidence_level=confidence,
        method="percentile",
        vectorized=True,
        batch=256,
        rng=np.random.default_rng(seed),
    )
    return Interval(
        float(diff.mean()), float(res.confidence_interval.low), float(res.confidence_interval.high), n, confidence
    )


@dataclass(frozen=True)
class PairedComparison:
    """Model b against model a on the same images (paired by image identity)."""

    difference: Interval  # accuracy(b) - accuracy(a), paired bootstrap interval
    only_a: int  # images a got right and b wrong (discordant)
    only_b: int  # images b got right and a wrong
    p_value: float  # exact McNemar: two-sided binomial test of only_b against only_a + only_b at 1/2

    @property
    def distinguishable(self) -> bool:
        """The difference's interval excludes zero."""
        return not self.difference.low <= 0.0 <= self.difference.high

    def text(self) -> str:
        d = self.difference
        return (
            f"{100 * d.value:+.1f} pts [{100 * d.low:+.1f}, {100 * d.high:+.1f}], "
            f"McNemar p={self.p_value:.2g} ({self.only_b} vs {self.only_a} discordant of {d.n:,})"
        )


def mcnemar_exact(only_a: int, only_b: int) -> float:
    """Two-sided exact McNemar p-value: under no difference each discordant image is a fair coin."""
    if only_a < 0 or only_b < 0:
        raise ValueError("discordant counts cannot be negative")
    if only_a + only_b == 0:
        return 1.0
    return float(sps.binomtest(only_b, only_a + only_b, 0.5).pvalue)


def paired_comparison(
    a_correct: Sequence[bool] | np.ndarray[Any, Any],
    b_correct: Sequence[bool] | np.ndarray[Any, Any],
    confidence: float = 0.95,
    seed: int = 0,
) -> PairedComparison | None:
    """b against a, image by image (the arrays must be aligned on the same images); None when empty."""
    diff = paired_difference(a_correct, b_correct, confidence=confidence, seed=seed)
    if diff is None:
        return None
    a = np.asarray(a_correct, dtype=bool)
    b = np.asarray(b_correct, dtype=bool)
    only_a, only_b = int((a & ~b).sum()), int((b & ~a).sum())
    return PairedComparison(diff, only_a, only_b, mcnemar_exact(only_a, only_b))


@dataclass(frozen=True)
class MedianInterval:
    """A median's distribution-free interval: the order statistics x(lower_rank), x(upper_rank)
    (1-based) of the sorted samples, covering the true median with probability `coverage` (exact
    for continuous data, at least the nominal level)."""

    low: float
    high: float
    lower_rank: int
    upper_rank: int
    coverage: float

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2


MEDIAN_INTERVAL_MIN_N = 6  # fewer samples cannot give a 95% interval from order statistics


def median_ranks(n: int, confidence: float = 0.95) -> tuple[int, int, float] | None:
    """(lower rank, upper rank, coverage) of the narrowest symmetric order-statistic interval with at
    least `confidence` coverage for n samples; None when even (min, max) falls short."""
    _z(confidence)
    if n < 1:
        return None
    alpha = 1 - confidence
    # Largest k with P(Binomial(n, 1/2) <= k - 1) <= alpha / 2: then P(x(k) <= median <= x(n+1-k)) >= confidence.
    k = int(sps.binom.ppf(alpha / 2, n, 0.5))
    if sps.binom.cdf(k, n, 0.5) <= alpha / 2:
        k += 1
    if k < 1:
        return None
    coverage = 1 - 2 * float(sps.binom.cdf(k - 1, n, 0.5))
    return k, n + 1 - k, coverage


def median_interval(samples: Sequence[float] | np.ndarray[Any, Any], confidence: float = 0.95) -> MedianInterval | None:
    """The median's interval from order statistics (no assumption on the distribution); None when
    there are too few samples for the confidence asked (fewer than 6 at 95%)."""
    x = np.sort(np.asarray(samples, dtype=np.float64).ravel())
    ranks = median_ranks(int(x.size), confidence)
    if ranks is None:
        return None
    low, high, coverage = ranks
    return MedianInterval(float(x[low - 1]), float(x[high - 1]), low, high, coverage)


def overlap(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return a[0] <= b[1] and b[0] <= a[1]
