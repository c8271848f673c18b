"""Unit tests of fermbench.stats on synthetic samples (the numbers test the math, not a device)."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from fermbench import stats


def _lognormal(seed: int, n: int, median_ns: float = 2e6, sigma: float = 0.08) -> np.ndarray:
    return np.random.default_rng(seed).lognormal(math.log(median_ns), sigma, n)


# -- summarize_ns --------------------------------------------------------------------------------


def test_summary_of_known_samples_uses_linear_interpolation():
    s = stats.summarize_ns([40, 10, 30, 20])  # sorted 10 20 30 40
    assert s.n == 4
    assert s.median == 25.0
    assert s.p90 == pytest.approx(30 + 0.7 * 10)  # position 3 * 0.9 = 2.7
    assert s.p99 == pytest.approx(30 + 0.97 * 10)
    assert (s.min, s.max, s.mean) == (10.0, 40.0, 25.0)
    assert s.std == pytest.approx(math.sqrt(500 / 3))  # ddof = 1
    assert s.cv == pytest.approx(s.std / 25.0)
    assert s.mad == 10.0  # |x - 25| = 15 5 5 15 -> median 10


def test_summary_carries_the_median_interval_from_order_statistics():
    s = stats.summarize_ns([float(v) for v in range(1, 101)])  # 1..100: ranks 40 and 61
    assert (s.median_ci_low, s.median_ci_high) == (40.0, 61.0)
    assert s.median_precision == pytest.approx(10.5 / 50.5)


def test_variant_latency_pools_repeats_and_keeps_their_medians():
    # every timed sample of every repeat pooled; an empty repeat adds nothing
    lat = stats.variant_latency([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0, 7.0], [], [6.0, 6.0, 6.0]])
    assert lat.summary.n == 10 and lat.summary.median == 5.5
    assert lat.repeat_medians == (2.0, 5.5, 6.0)
    assert lat.repeat_spread == pytest.approx((6.0 - 2.0) / 5.5)
    one = stats.variant_latency([[3.0, 1.0]])
    assert one.repeat_spread is None and one.summary.median == 2.0
    assert stats.variant_latency([]) is None and stats.variant_latency([[]]) is None


def test_summary_single_sample_has_zero_spread():
    s = stats.summarize_ns([1_500_000])
    assert (s.n, s.median, s.std, s.cv, s.mad) == (1, 1_500_000.0, 0.0, 0.0, 0.0)


def test_summary_ms_helpers_and_dicts():
    s = stats.summarize_ns([1_000_000, 2_000_000, 3_000_000])
    assert s.median_ms == 2.0 and s.min_ms == 1.0 and s.max_ms == 3.0 and s.ms("p90") == pytest.approx(2.8)
    d = s.to_dict()
    assert list(d) == [
        "n",
        "median",
        "p90",
        "p99",
        "min",
        "max",
        "mean",
        "std",
        "cv",
        "mad",
        "trimmed_mean",
        "median_ci_low",
        "median_ci_high",
    ]
    assert s.median_ci_ms is None and s.median_precision is None  # 3 samples: no 95% interval exists
    assert s.to_ms_dict()["median"] == 2.0 and s.to_ms_dict()["n"] == 3
    with pytest.raises(ValueError):
        s.ms("cv")


def test_trimmed_mean_keeps_the_middle_80_percent_as_executorch_does():
    # n = 20: x[2:18] of the sorted samples; the two lowest and two highest go
    samples = [10.0] * 16 + [0.0, 0.0, 1e6, 1e6]
    np.random.default_rng(0).shuffle(samples)
    s = stats.summarize_ns(samples)
    assert s.trimmed_mean == 10.0 and s.mean > 1e5
    assert s.trimmed_mean_ms == 10.0 / 1e6
    # n = 11: x[1:9]; sorted 1..10, 1000 -> 2..9
    assert stats.trimmed_mean_ns([1000] + list(range(1, 11))) == 5.5
    # n = 5: x[0:4] drops the largest only (integer cuts, exactly ExecuTorch's slice)
    assert stats.trimmed_mean_ns([100, 3, 1, 4, 2]) == 2.5
    assert stats.trimmed_mean_ns([7]) == 7.0  # the slice is empty: the sample itself
    with pytest.raises(ValueError):
        stats.trimmed_mean_ns([])


def test_summary_is_frozen():
    s = stats.summarize_ns([1, 2, 3])
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.median = 5  # type: ignore[misc]


@pytest.mark.parametrize("bad", [[], [1.0, float("nan")], [1.0, float("inf")], [5, -1]])
def test_summary_rejects_bad_samples(bad):
    with pytest.raises(ValueError):
        stats.summarize_ns(bad)


# -- rankdata / Mann-Whitney U -------------------------------------------------------------------


# The hand-written Mann-Whitney U that stats.py carried before it used scipy: kept here, from the
# published definitions, as an independent cross-check of what scipy now computes.


def ref_rankdata(x: np.ndarray) -> np.ndarray:
    """Ranks starting at 1, ties given the mean of the ranks they span (midranks)."""
    _, inverse, counts = np.unique(x, return_inverse=True, return_counts=True)
    ends = np.cumsum(counts)
    return (ends - (counts - 1) / 2.0)[inverse]


def ref_u_counts(n1: int, n2: int) -> np.ndarray:
    """Orderings giving each U = 0..n1*n2: c(m,n)[u] = c(m-1,n)[u-n] + c(m,n-1)[u]."""
    prev = [np.ones(1) for _ in range(n2 + 1)]
    for m in range(1, n1 + 1):
        row = [np.ones(1)]
        for n in range(1, n2 + 1):
            c = np.zeros(m * n + 1)
            c[n : n + prev[n].size] += prev[n]
            c[: row[n - 1].size] += row[n - 1]
            row.append(c)
        prev = row
    return prev[n2]


def ref_mann_whitney(a: np.ndarray, b: np.ndarray, exact: bool) -> float:
    n1, n2 = a.size, b.size
    pooled = np.concatenate([a, b])
    u1 = float(ref_rankdata(pooled)[:n1].sum() - n1 * (n1 + 1) / 2.0)
    if exact:
        counts = ref_u_counts(n1, n2)
        u = int(round(u1))
        return float(min(1.0, 2.0 * min(counts[: u + 1].sum(), counts[u:].sum()) / counts.sum()))
    n = n1 + n2
    _, ties = np.unique(pooled, return_counts=True)
    var = n1 * n2 / 12.0 * ((n + 1) - float((ties**3 - ties).sum()) / (n * (n - 1)))
    z = max(0.0, abs(u1 - n1 * n2 / 2.0) - 0.5) / math.sqrt(var)
    return float(min(1.0, math.erfc(z / math.sqrt(2.0))))


def test_rankdata_gives_midranks_to_ties():
    assert ref_rankdata(np.array([10, 20, 20, 5])).tolist() == [2.0, 3.5, 3.5, 1.0]


@pytest.mark.parametrize("seed", range(6))
def test_scipy_mann_whitney_matches_the_hand_computation(seed):
    rng = np.random.default_rng(seed)
    small_a, small_b = rng.normal(0, 1, 9), rng.normal(0.8, 1, 12)  # no ties, <= 25: exact
    p, method = stats.mann_whitney_u(small_a, small_b)
    assert method == "mann-whitney exact" and p == pytest.approx(ref_mann_whitney(small_a, small_b, True), rel=1e-9)
    big_a, big_b = rng.integers(0, 40, 60).astype(float), rng.integers(3, 43, 80).astype(float)  # ties: normal
    p, method = stats.mann_whitney_u(big_a, big_b)
    assert method == "mann-whitney normal" and p == pytest.approx(ref_mann_whitney(big_a, big_b, False), rel=1e-9)


def test_mann_whitney_exact_complete_separation():
    # 4 vs 4 fully separated: U = 0 is one of C(8,4) = 70 orderings; two-sided p = 2/70.
    p, method = stats.mann_whitney_u([1, 2, 3, 4], [5, 6, 7, 8])
    assert method == "mann-whitney exact"
    assert p == pytest.approx(2 / 70)


def test_mann_whitney_exact_counts_sum_to_binomial():
    counts = ref_u_counts(6, 9)
    assert counts.sum() == math.comb(15, 6)
    assert np.allclose(counts, counts[::-1])  # null distribution of U is symmetric


def test_mann_whitney_normal_identical_values_is_no_evidence():
    p, method = stats.mann_whitney_u([7.0] * 40, [7.0] * 40)
    assert method == "mann-whitney normal" and p == 1.0


def test_mann_whitney_normal_matches_hand_computation():
    # Interleaved 30 vs 30 without ties: U close to n1*n2/2 -> large p; shifted -> tiny p.
    a = np.arange(0, 60, 2, dtype=float)
    b = a + 1
    p_close, _ = stats.mann_whitney_u(a, b)
    p_far, _ = stats.mann_whitney_u(a, b + 100)
    assert p_close > 0.5
    assert p_far < 1e-9


# -- compare_medians ----------------------------------------------------------------------------


def test_known_twofold_slowdown_is_detected():
    base = _lognormal(1, 300)
    cand = _lognormal(2, 300) * 2.0
    c = stats.compare_medians(base, cand)
    assert c.verdict == "slower"
    assert c.ci_low < 2.0 * 1.05 and c.ci_high > 2.0 * 0.95
    assert 1.9 < c.ratio < 2.1
    assert c.p_value < 1e-6


def test_known_speedup_is_detected():
    base = _lognormal(3, 200)
    c = stats.compare_medians(base, _lognormal(4, 200) * 0.7)
    assert c.verdict == "faster" and c.ci_high < 1.0 and c.ratio == pytest.approx(0.7, rel=0.05)


def test_same_distribution_gives_no_change_and_ci_mostly_contains_one():
    # 30 independent pairs drawn from one distribution: a verdict is a false alarm, which the
    # 5 % level plus the 2 % bar keep rare (about 0.5 expected), and the 95 % interval covers
    # the true ratio 1 in most of them (28.5 of 30 expected).
    results = [stats.compare_medians(_lognormal(100 + i, 300), _lognormal(200 + i, 300), n_boot=500) for i in range(30)]
    assert sum(c.verdict != "no change" for c in results) <= 2
    covered = sum(c.ci_low <= 1.0 <= c.ci_high for c in results)
    assert covered >= 25


def test_identical_samples_give_ratio_one():
    x = _lognormal(7, 100)
    c = stats.compare_medians(x, x.copy())
    assert (c.ratio, c.verdict) == (1.0, "no change") and c.p_value > 0.9


def test_tiny_significant_shift_below_min_change_is_no_change():
    # 1 % shift with very low noise: statistically clear, practically below the 2 % bar.
    base = _lognormal(8, 2000, sigma=0.002)
    cand = _lognormal(9, 2000, sigma=0.002) * 1.01
    assert stats.compare_medians(base, cand).verdict == "no change"
    assert stats.compare_medians(base, cand, min_change=0.0).verdict == "slower"


def test_bootstrap_is_reproducible_with_seed_and_varies_without():
    a, b = _lognormal(10, 80, sigma=0.3), _lognormal(11, 80, sigma=0.3)
    c1 = stats.compare_medians(a, b, seed=42)
    c2 = stats.compare_medians(a, b, seed=42)
    c3 = stats.compare_medians(a, b, seed=43)
    assert (c1.ci_low, c1.ci_high) == (c2.ci_low, c2.ci_high)
    assert (c1.ci_low, c1.ci_high) != (c3.ci_low, c3.ci_high)


def test_wider_confidence_gives_wider_interval():
    a, b = _lognormal(12, 60, sigma=0.2), _lognormal(13, 60, sigma=0.2)
    c90 = stats.compare_medians(a, b, confidence=0.90)
    c99 = stats.compare_medians(a, b, confidence=0.99)
    assert c99.ci_low <= c90.ci_low and c99.ci_high >= c90.ci_high


def test_compare_rejects_bad_arguments():
    with pytest.raises(ValueError):
        stats.compare_medians([1, 2], [1, 2], confidence=1.5)
    with pytest.raises(ValueError):
        stats.compare_medians([], [1, 2])


# -- repeat spread and warnings -----------------------------------------------------------------


def test_repeat_spread():
    r = stats.repeat_spread([[100, 100, 100], [110, 110], [90]])
    assert r.medians == (100.0, 110.0, 90.0)
    assert r.relative_range == pytest.approx(0.2)
    assert r.cv == pytest.approx(10.0 / 100.0)


def _codes(samples) -> set[str]:
    return {w.code for w in stats.sample_warnings(stats.summarize_ns(samples))}


def test_clean_samples_have_no_warnings():
    assert _codes(_lognormal(20, 500, sigma=0.02)) == set()


def test_warnings_few_samples_spread_and_tail():
    assert "few_samples" in _codes(_lognormal(21, 5, sigma=0.01))
    assert "no_p99" in _codes(_lognormal(22, 50, sigma=0.01))
    assert "high_spread" in _codes(_lognormal(23, 500, sigma=0.4))
    tail = np.concatenate([np.full(480, 1e6), np.full(20, 5e6)])
    assert "heavy_tail" in _codes(tail)
    assert "below_resolution" in _codes(np.full(200, 300.0))


def test_warning_text_carries_advice():
    w = stats.sample_warnings(stats.summarize_ns([1e6] * 3))[0]
    assert w.code == "few_samples" and "3 samples" in w.message and "--iterations" in str(w)
    assert set(w.to_dict()) == {"code", "message", "advice"}


def test_comparison_warnings():
    few = stats.summarize_ns(_lognormal(30, 10, sigma=0.01))
    noisy = stats.summarize_ns(_lognormal(31, 300, sigma=0.5))
    clean = stats.summarize_ns(_lognormal(32, 300, sigma=0.01))
    assert {w.code for w in stats.comparison_warnings(few, clean)} == {"few_samples"}
    assert {w.code for w in stats.comparison_warnings(clean, noisy)} == {"high_spread"}
    assert stats.comparison_warnings(clean, clean) == []
