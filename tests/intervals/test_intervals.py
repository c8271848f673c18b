"""Accuracy intervals against values computed by hand from the published formulas."""

from __future__ import annotations

import math

import numpy as np
import pytest

from fermbench.intervals import (
    mcnemar_exact,
    median_interval,
    median_ranks,
    overlap,
    paired_comparison,
    paired_difference,
    wilson,
)


def test_wilson_matches_the_formula_and_known_values():
    # Wilson (1927); for 81 of 263 at 95%: 0.2553-0.3662 (the textbook example in Newcombe 1998)
    iv = wilson(81, 263)
    assert iv.value == pytest.approx(81 / 263)
    assert (round(iv.low, 4), round(iv.high, 4)) == (0.2553, 0.3662)
    z = 1.959963984540054
    p, n = 0.5, 10
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    iv = wilson(5, 10)
    assert (iv.low, iv.high) == pytest.approx((centre - half, centre + half))


def test_wilson_stays_inside_zero_and_one_and_narrows_with_n():
    assert wilson(0, 20).low == pytest.approx(0.0, abs=1e-12) and wilson(0, 20).high > 0
    assert wilson(20, 20).high == pytest.approx(1.0) and wilson(20, 20).low < 1
    small, large = wilson(87, 150), wilson(2320, 3589)
    assert (small.high - small.low) > 3 * (large.high - large.low)
    assert wilson(0, 0) is None
    with pytest.raises(ValueError):
        wilson(5, 3)


def test_paired_difference_is_seeded_and_centred_on_the_change():
    rng = np.random.default_rng(1)
    a = rng.random(1000) < 0.65
    b = a.copy()
    flip = rng.choice(1000, 30, replace=False)
    b[flip] = ~b[flip]
    iv = paired_difference(a, b, seed=3)
    assert iv.value == pytest.approx(b.mean() - a.mean())
    assert iv.low <= iv.value <= iv.high
    assert paired_difference(a, b, seed=3) == iv  # same seed, same interval
    same = paired_difference(a, a)
    assert (same.value, same.low, same.high) == (0.0, 0.0, 0.0)
    assert paired_difference([], []) is None
    with pytest.raises(ValueError):
        paired_difference([True], [True, False])


def test_overlap():
    assert overlap((0.1, 0.3), (0.25, 0.4)) and not overlap((0.1, 0.2), (0.3, 0.4))
    assert wilson(60, 100).overlaps(wilson(65, 100)) and not wilson(10, 100).overlaps(wilson(90, 100))


# --- paired comparisons of two models on the same images ---------------------------------------


def _two_models(only_a: int, only_b: int, both: int, neither: int) -> tuple[np.ndarray, np.ndarray]:
    """Correctness of models a and b on the same images, in a seeded random image order."""
    a = np.array([True] * only_a + [False] * only_b + [True] * both + [False] * neither)
    b = np.array([False] * only_a + [True] * only_b + [True] * both + [False] * neither)
    order = np.random.default_rng(7).permutation(a.size)
    return a[order], b[order]


def test_mcnemar_exact_matches_the_binomial_by_hand():
    # 319 images only b got right, 254 only a: the field notes' PublicTest figures, p = 0.0075
    assert mcnemar_exact(254, 319) == pytest.approx(0.00745, abs=5e-5)
    # by hand: 2 * P(X <= 1) for X ~ Binomial(6, 1/2) = 2 * 7/64
    assert mcnemar_exact(1, 5) == pytest.approx(14 / 64)
    assert mcnemar_exact(0, 0) == 1.0 and mcnemar_exact(5, 5) == 1.0


def test_paired_test_finds_a_difference_that_overlapping_wilson_intervals_miss():
    # 3,589 images; a right on 2,319 (64.6%), b on 2,384 (66.4%): marginal intervals overlap,
    # yet b is better on 319 discordant images against 254.
    a, b = _two_models(only_a=254, only_b=319, both=2065, neither=951)
    wa, wb = wilson(int(a.sum()), a.size), wilson(int(b.sum()), b.size)
    assert wa.overlaps(wb)
    cmp = paired_comparison(a, b)
    assert cmp.distinguishable and cmp.difference.low > 0
    assert (cmp.only_a, cmp.only_b) == (254, 319) and cmp.p_value < 0.01
    assert cmp.difference.value == pytest.approx((319 - 254) / 3589)


def test_paired_test_finds_no_difference_where_there_is_none():
    a, b = _two_models(only_a=280, only_b=285, both=2065, neither=959)
    cmp = paired_comparison(a, b)
    assert not cmp.distinguishable and cmp.difference.low < 0 < cmp.difference.high
    assert cmp.p_value > 0.5
    assert paired_comparison([], []) is None


# --- the median's distribution-free interval ----------------------------------------------------


def test_median_ranks_by_hand():
    # n = 6: (x1, x6) covers the median unless all six fall on one side: 1 - 2/64
    assert median_ranks(6) == (1, 6, pytest.approx(1 - 2 / 64))
    assert median_ranks(5) is None and median_interval([1.0, 2.0, 3.0]) is None
    low, high, coverage = median_ranks(100)
    assert (low, high) == (40, 61) and coverage >= 0.95
    # one rank narrower would fall below 95%
    from scipy.stats import binom

    assert 1 - 2 * binom.cdf(low, 100, 0.5) < 0.95
    iv = median_interval(np.arange(100, 0, -1.0))  # unsorted input is sorted first
    assert (iv.low, iv.high, iv.half_width) == (40.0, 61.0, 10.5)


@pytest.mark.parametrize("n", [10, 50, 301])
def test_median_interval_has_its_coverage_on_known_distributions(n):
    """Over many seeded draws from a skewed distribution of known median, the share of intervals
    holding it matches the interval's exact coverage (>= 95%) within 4.5 binomial standard
    errors of that share (a fixed seed, and a tolerance no honest interval misses)."""
    draws = 4000
    rng = np.random.default_rng(20261207 + n)
    x = np.sort(rng.exponential(1.0, size=(draws, n)), axis=1)
    true_median = math.log(2)
    low, high, coverage = median_ranks(n)
    hits = (x[:, low - 1] <= true_median) & (true_median <= x[:, high - 1])
    tolerance = 4.5 * math.sqrt(coverage * (1 - coverage) / draws)
    assert coverage >= 0.95
    assert abs(hits.mean() - coverage) <= tolerance
    # and the interval is the function's own: the first draw through median_interval
    assert median_interval(x[0]).low == x[0, low - 1]


def test_paired_bootstrap_agrees_with_the_normal_interval_on_many_images():
    """Cross-check of scipy's bootstrap: on 3,589 images the percentile interval of a mean of -1/0/+1
    differences is the textbook mean +- 1.96 sd / sqrt(n) to within Monte Carlo noise (0.2 points)."""
    a, b = _two_models(only_a=254, only_b=319, both=2065, neither=951)
    diff = b.astype(float) - a.astype(float)
    half = 1.959964 * diff.std(ddof=1) / math.sqrt(diff.size)
    iv = paired_difference(a, b)
    assert iv.low == pytest.approx(diff.mean() - half, abs=0.002)
    assert iv.high == pytest.approx(diff.mean() + half, abs=0.002)
