"""Pure functions over raw latency samples (nanoseconds): summaries, comparisons, warnings.

Nothing here reads files or talks to devices; every function takes plain numbers and returns
frozen dataclasses, so results can be recomputed from stored raw samples at any time.

Definitions used throughout:
- Percentiles (median, p90, p99) use linear interpolation between closest ranks
  (Hyndman & Fan type 7, numpy's default "linear" method): for sorted x[0..n-1], the q-th
  percentile sits at position h = (n - 1) * q / 100 and is x[floor h] + (h - floor h) *
  (x[floor h + 1] - x[floor h]).
- std is the sample standard deviation (ddof = 1; 0 for a single sample); cv = std / mean.
- mad is the raw median absolute deviation, median(|x - median(x)|), in ns (not scaled by 1.4826).
- trimmed_mean is the mean of the middle 80 %: sorted x[n // 10 : 9 * n // 10], the slice
  ExecuTorch's Android benchmark app reports as trimmean_inference_latency, so the figures compare
  with theirs; for a single sample (an empty slice) it is that sample.
- median_ci_low/high: the median's distribution-free 95% interval, two order statistics of the
  samples (intervals.median_interval); None below 6 samples, where none exists.
- A comparison's ratio is median(candidate) / median(baseline): below 1 means the candidate
  is faster.
- A variant measured in several repeats is summarised over all its timed samples pooled
  (`variant_latency`); the repeats' medians give its run-to-run spread.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
from scipy import stats as sps

from .intervals import median_interval

NS_PER_MS = 1_000_000.0

Verdict = Literal["faster", "slower", "no change"]

# Thresholds for warnings (pyperf-style: said next to the numbers, with advice).
MIN_SAMPLES = 20  # below this a median and p90 are shaky and p99 is meaningless
MIN_SAMPLES_P99 = 100  # p99 needs about 100 samples to be more than the maximum
MAX_CV = 0.10  # std above 10 % of the mean: the run was disturbed or the device unstable
MAX_TAIL_RATIO = 2.0  # p99 more than twice the median: heavy tail (GC, throttling, other apps)
MIN_RESOLVABLE_NS = 1_000.0  # under 1 us per inference, timer overhead dominates


def _as_samples(samples: Iterable[float], what: str = "samples") -> np.ndarray:
    arr = np.asarray(list(samples) if not isinstance(samples, np.ndarray) else samples, dtype=np.float64)
    if arr.ndim != 1:
        arr = arr.ravel()
    if arr.size == 0:
        raise ValueError(f"{what}: no samples to summarize")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{what}: samples must be finite numbers")
    if np.any(arr < 0):
        raise ValueError(f"{what}: latency samples cannot be negative")
    return arr


@dataclass(frozen=True)
class LatencySummary:
    """Summary of one set of latency samples; every value in nanoseconds except n and cv."""

    n: int
    median: float
    p90: float
    p99: float
    min: float
    max: float
    mean: float
    std: float
    cv: float
    mad: float
    trimmed_mean: float | None = None  # mean of the middle 80%; None in summaries stored before it existed
    median_ci_low: float | None = None  # the median's 95% order-statistic interval; None below 6 samples
    median_ci_high: float | None = None  # (and in summaries stored before it existed)

    def to_dict(self) -> dict[str, float | int]:
        return asdict(self)

    def to_ms_dict(self) -> dict[str, float | int]:
        """The same summary with times in milliseconds (n and cv unchanged)."""
        return {k: (v if k in ("n", "cv") or v is None else v / NS_PER_MS) for k, v in asdict(self).items()}

    def ms(self, field: str) -> float:
        """One time field in milliseconds, e.g. `summary.ms("p90")`."""
        if field in ("n", "cv"):
            raise ValueError(f"{field} is not a time")
        value: float = getattr(self, field)
        return value / NS_PER_MS

    @property
    def median_ms(self) -> float:
        return self.median / NS_PER_MS

    @property
    def median_ci_ms(self) -> tuple[float, float] | None:
        """The median's 95% interval in ms, when there is one."""
        if self.median_ci_low is None or self.median_ci_high is None:
            return None
        return self.median_ci_low / NS_PER_MS, self.median_ci_high / NS_PER_MS

    @property
    def median_precision(self) -> float | None:
        """The interval's half-width relative to the median (0.01: within 1%)."""
        if self.median_ci_low is None or self.median_ci_high is None or self.median <= 0:
            return None
        return (self.median_ci_high - self.median_ci_low) / 2 / self.median

    @property
    def p90_ms(self) -> float:
        return self.p90 / NS_PER_MS

    @property
    def p99_ms(self) -> float:
        return self.p99 / NS_PER_MS

    @property
    def min_ms(self) -> float:
        return self.min / NS_PER_MS

    @property
    def max_ms(self) -> float:
        return self.max / NS_PER_MS

    @property
    def mean_ms(self) -> float:
        return self.mean / NS_PER_MS

    @property
    def trimmed_mean_ms(self) -> float | None:
        return None if self.trimmed_mean is None else self.trimmed_mean / NS_PER_MS


def trimmed_mean_ns(samples: Iterable[float]) -> float:
    """Mean of the middle 80 % of the samples, cut exactly as ExecuTorch's benchmark app does."""
    x = np.sort(_as_samples(samples))
    middle = x[x.size // 10 : 9 * x.size // 10]
    return float(middle.mean() if middle.size else x.mean())


def summarize_ns(samples: Iterable[float]) -> LatencySummary:
    """Summarize raw latency samples in ns. Raises ValueError on no, negative or non-finite samples."""
    x = _as_samples(samples)
    median, p90, p99 = (float(v) for v in np.percentile(x, [50, 90, 99]))
    mean = float(x.mean())
    std = float(x.std(ddof=1)) if x.size > 1 else 0.0
    ci = median_interval(x)
    return LatencySummary(
        n=int(x.size),
        median=median,
        p90=p90,
        p99=p99,
        min=float(x.min()),
        max=float(x.max()),
        mean=mean,
        trimmed_mean=trimmed_mean_ns(x),
        std=std,
        cv=std / mean if mean > 0 else 0.0,
        mad=float(np.median(np.abs(x - median))),
        median_ci_low=ci.low if ci else None,
        median_ci_high=ci.high if ci else None,
    )


@dataclass(frozen=True)
class VariantLatency:
    """One variant's latency on one device: every repeat's timed samples pooled, and the repeats'
    medians for the run-to-run spread. `fermbench run`'s closing table and `fermbench report`
    both show this, so one session has one median."""

    summary: LatencySummary
    repeat_medians: tuple[float, ...]  # ns, one per repeat, in repeat order
    repeat_spread: float | None  # (max - min) / median of the repeats' medians; None for one repeat


def variant_latency(repeats: Sequence[Iterable[float]]) -> VariantLatency | None:
    """The summary of a variant's repeats (each an iterable of timed ns); None when none has samples."""
    arrays = [np.asarray(list(r) if not isinstance(r, np.ndarray) else r, dtype=np.float64) for r in repeats]
    arrays = [a for a in arrays if a.size]
    if not arrays:
        return None
    medians = tuple(float(np.median(a)) for a in arrays)
    spread = repeat_spread([[m] for m in medians]).relative_range if len(medians) > 1 else None
    return VariantLatency(summarize_ns(np.concatenate(arrays)), medians, spread)


# ---------------------------------------------------------------------------------------------
# Comparison: bootstrap CI of the ratio of medians + Mann-Whitney U


@dataclass(frozen=True)
class Comparison:
    """candidate against baseline. ratio = median(candidate) / median(baseline)."""

    ratio: float
    ci_low: float
    ci_high: float
    confidence: float
    p_value: float
    verdict: Verdict
    n_baseline: int
    n_candidate: int
    test: str  # "mann-whitney exact" or "mann-whitney normal"

    def to_dict(self) -> dict[str, float | int | str]:
        return asdict(self)


def compare_medians(
    baseline: Iterable[float],
    candidate: Iterable[float],
    confidence: float = 0.95,
    n_boot: int = 2000,
    seed: int = 0,
    min_change: float = 0.02,
) -> Comparison:
    """Compare two sets of latency samples.

    The ratio of medians gets a percentile bootstrap confidence interval (each set resampled
    with replacement, `n_boot` times, from a generator seeded with `seed` so the same inputs
    always give the same interval). The verdict is "faster"/"slower" only when all three agree:
    the interval excludes 1, the two-sided Mann-Whitney U p-value is below 1 - confidence, and
    the ratio differs from 1 by at least `min_change` (default 2 %: run-to-run spread of a
    phone's median is typically a few percent, so smaller shifts are not worth a claim).
    """
    if not 0 < confidence < 1:
        raise ValueError("confidence must be between 0 and 1")
    if n_boot < 100:
        raise ValueError("n_boot must be at least 100")
    a = _as_samples(baseline, "baseline")
    b = _as_samples(candidate, "candidate")
    med_a = float(np.median(a))
    med_b = float(np.median(b))
    ratio = _ratio(med_b, med_a)
    ci_low, ci_high = _bootstrap_ratio_ci(a, b, n_boot, seed, confidence)
    alpha = 1.0 - confidence
    p_value, test = mann_whitney_u(a, b)
    significant = p_value < alpha and (ci_high < 1.0 or ci_low > 1.0) and abs(ratio - 1.0) >= min_change
    verdict: Verdict = "no change"
    if significant:
        verdict = "faster" if ratio < 1.0 else "slower"
    return Comparison(
        ratio=ratio,
        ci_low=ci_low,
        ci_high=ci_high,
        confidence=confidence,
        p_value=p_value,
        verdict=verdict,
        n_baseline=int(a.size),
        n_candidate=int(b.size),
        test=test,
    )


def _ratio(num: float, den: float) -> float:
    if den == 0:
        return 1.0 if num == 0 else math.inf
    return num / den


def _median_ratio(a: np.ndarray, b: np.ndarray, axis: int = -1) -> np.ndarray:
    """median(b) / median(a) along axis; 1 where both are 0, inf where only a's is."""
    med_a, med_b = np.median(a, axis=axis), np.median(b, axis=axis)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(med_a > 0, med_b / np.where(med_a > 0, med_a, 1.0), np.where(med_b > 0, np.inf, 1.0))


def _bootstrap_ratio_ci(a: np.ndarray, b: np.ndarray, n_boot: int, seed: int, confidence: float) -> tuple[float, float]:
    """Percentile bootstrap interval of the ratio of medians (scipy.stats.bootstrap), each set
    resampled on its own; batched so that 100k samples x 2000 resamples never needs GBs at once."""
    if np.all(a == a[0]) and np.all(b == b[0]):
        value = float(_median_ratio(a, b))
        return value, value  # every resample is the same: scipy would call the data degenerate
    res = sps.bootstrap(
        (a, b),
        _median_ratio,
        n_resamples=n_boot,
        confidence_level=confidence,
        method="percentile",
        vectorized=True,
        paired=False,
        batch=max(1, 4_000_000 // max(a.size, b.size)),
        rng=np.random.default_rng(seed),
    )
    return float(res.confidence_interval.low), float(res.confidence_interval.high)


# Exact distribution only for small samples without ties (as scipy's "auto" would choose, made explicit).
EXACT_MAX_N = 25


def mann_whitney_u(a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray) -> tuple[float, str]:
    """Two-sided Mann-Whitney U test (scipy.stats.mannwhitneyu): (p_value, method).

    Exact when both samples have at most EXACT_MAX_N values and there are no ties; otherwise the
    normal approximation with tie correction and continuity correction.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.size == 0 or b.size == 0:
        raise ValueError("mann_whitney_u needs samples on both sides")
    pooled = np.concatenate([a, b])
    if np.all(pooled == pooled[0]):
        return 1.0, "mann-whitney normal"  # every value identical: no evidence of any difference
    has_ties = np.unique(pooled).size < pooled.size
    if max(a.size, b.size) <= EXACT_MAX_N and not has_ties:
        return float(sps.mannwhitneyu(a, b, alternative="two-sided", method="exact").pvalue), "mann-whitney exact"
    res = sps.mannwhitneyu(a, b, alternative="two-sided", method="asymptotic", use_continuity=True)
    return float(min(1.0, res.pvalue)), "mann-whitney normal"


# ---------------------------------------------------------------------------------------------
# Run-to-run spread


@dataclass(frozen=True)
class RepeatSpread:
    """How much the median moved between repeats of the same measurement."""

    medians: tuple[float, ...]  # ns, one per repeat
    min: float
    max: float
    relative_range: float  # (max - min) / median of medians
    cv: float  # std / mean of the medians

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["medians"] = list(self.medians)
        return d


def repeat_spread(repeats: Sequence[Iterable[float]]) -> RepeatSpread:
    """Spread of the per-repeat medians (e.g. 5 repeats of one model on one device)."""
    medians = tuple(float(np.median(_as_samples(r, f"repeat {i + 1}"))) for i, r in enumerate(repeats))
    if not medians:
        raise ValueError("repeat_spread needs at least one repeat")
    arr = np.asarray(medians)
    mid = float(np.median(arr))
    mean = float(arr.mean())
    std = float(arr.std(ddof=1)) if arr.size > 1 else 0.0
    return RepeatSpread(
        medians=medians,
        min=float(arr.min()),
        max=float(arr.max()),
        relative_range=float((arr.max() - arr.min()) / mid) if mid > 0 else 0.0,
        cv=std / mean if mean > 0 else 0.0,
    )


# ---------------------------------------------------------------------------------------------
# Warnings as data with advice


@dataclass(frozen=True)
class StatWarning:
    """A problem with a set of samples, said next to the numbers. `code` is stable for machines."""

    code: str  # few_samples | no_p99 | high_spread | heavy_tail | below_resolution
    message: str
    advice: str

    def __str__(self) -> str:
        return f"{self.message}; {self.advice}"

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


def sample_warnings(
    summary: LatencySummary,
    min_samples: int = MIN_SAMPLES,
    max_cv: float = MAX_CV,
    max_tail_ratio: float = MAX_TAIL_RATIO,
) -> list[StatWarning]:
    """Warnings about one summary (pyperf-style: what looks wrong, and what to do about it)."""
    out: list[StatWarning] = []
    if summary.n < min_samples:
        out.append(
            StatWarning(
                "few_samples",
                f"only {summary.n} samples (fewer than {min_samples})",
                "raise --iterations or the minimum timed-phase time",
            )
        )
    elif summary.n < MIN_SAMPLES_P99:
        out.append(
            StatWarning(
                "no_p99",
                f"p99 from {summary.n} samples is close to the maximum",
                f"collect at least {MIN_SAMPLES_P99} samples for a meaningful p99",
            )
        )
    if summary.cv > max_cv:
        out.append(
            StatWarning(
                "high_spread",
                f"high spread: CV {summary.cv:.0%} (std above {max_cv:.0%} of the mean)",
                "close other apps, let the device cool down, and rerun with --repeats to check",
            )
        )
    if summary.median > 0 and summary.p99 / summary.median > max_tail_ratio:
        out.append(
            StatWarning(
                "heavy_tail",
                f"heavy tail: p99 is {summary.p99 / summary.median:.1f}x the median",
                "look for throttling or background work; compare medians, not means",
            )
        )
    if summary.median < MIN_RESOLVABLE_NS:
        out.append(
            StatWarning(
                "below_resolution",
                f"median {summary.median:.0f} ns is near the timer's resolution",
                "time batches of inferences instead of single calls",
            )
        )
    return out


def comparison_warnings(baseline: LatencySummary, candidate: LatencySummary) -> list[StatWarning]:
    """Warnings that weaken a comparison between two summaries."""
    out: list[StatWarning] = []
    n = min(baseline.n, candidate.n)
    if n < MIN_SAMPLES:
        out.append(
            StatWarning(
                "few_samples",
                f"comparison rests on only {n} samples on one side",
                "collect more samples on both sides before trusting the verdict",
            )
        )
    worst_cv = max(baseline.cv, candidate.cv)
    if worst_cv > MAX_CV:
        out.append(
            StatWarning(
                "high_spread",
                f"one side has CV {worst_cv:.0%}",
                "a noisy side widens the interval; rerun it on a quiet, cool device",
            )
        )
    return out
