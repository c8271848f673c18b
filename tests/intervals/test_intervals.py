"""Accuracy intervals against values computed by hand from the published formulas."""

from __future__ import annotations

import math

import numpy as np
import pytest

from fermbench.intervals import overlap, paired_difference, wilson


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
