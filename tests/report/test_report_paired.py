"""Model-against-model accuracy findings on synthetic predictions: paired by image identity,
McNemar's exact test and the paired interval decide, never overlapping Wilson intervals; and the
overfitting finding read from each checkpoint's own curve."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fermbench.intervals import wilson
from fermbench.report import findings as fd
from fermbench.report.paired import compare_pair, model_pairs
from fermbench.report.results import DeviceInfo, ModelResult
from fermbench.report.training import TrainingRun

DEVICE = DeviceInfo(serial="sim-1", kind="sim", name="sim-1", abi=None, runtime=None, tags=())


def result(model: str, correct: np.ndarray, *, curve: TrainingRun | None = None) -> ModelResult:
    """A trained model's result whose FER-2013 accuracy is that of `correct` (its Wilson interval)."""
    blank = {
        f.name: None
        for f in dataclasses.fields(ModelResult)
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    }
    blank.update(
        session="s1",
        date="2026-12-07",
        device=DEVICE,
        model=model,
        runtime="pytorch_android_lite-2.1.0",
        quant="fp32",
        status="ok",
        trained=True,
        repeats=1,
        rw_per_class=(),
        warnings=(),
        curve=curve,
        fer_interval=wilson(int(correct.sum()), correct.size),
    )
    return ModelResult(**blank)


def predictions(model: str, correct: np.ndarray, labels: np.ndarray, order: np.ndarray) -> pd.DataFrame:
    """The model's FER-2013 prediction rows, in the given row order (pairing must not depend on it)."""
    preds = np.where(correct, labels, (labels + 1) % 7)
    return pd.DataFrame(
        {
            "session": "s1",
            "device": DEVICE.serial,
            "model": model,
            "variant": f"{model}/pytorch_android_lite-2.1.0/fp32",
            "dataset": "fer2013",
            "index": order,
            "name": [f"test/{i:05d}.png" for i in order],
            "label": labels[order],
            "device_pred": preds[order],
        }
    )


def two_models(only_a: int, only_b: int, both: int, neither: int, seed: int = 3):
    rng = np.random.default_rng(seed)
    a = np.array([True] * only_a + [False] * only_b + [True] * both + [False] * neither)
    b = np.array([False] * only_a + [True] * only_b + [True] * both + [False] * neither)
    perm = rng.permutation(a.size)
    a, b = a[perm], b[perm]
    labels = rng.integers(0, 7, a.size)
    frame = pd.concat(
        [
            predictions("shallow_cnn", a, labels, np.arange(a.size)),
            predictions("deep_cnn", b, labels, rng.permutation(a.size)),
        ]
    )  # rows shuffled
    return [result("shallow_cnn", a), result("deep_cnn", b)], frame


def fer_finding(results, frame):
    return fd.accuracy_findings(results, frame)[0]


def test_paired_test_tells_apart_what_overlapping_wilson_intervals_do_not():
    results, frame = two_models(only_a=254, only_b=319, both=2065, neither=951)
    assert results[0].fer_interval.overlaps(results[1].fer_interval)  # the old rule said "not distinguishable"
    finding = fer_finding(results, frame)
    assert finding.verdict == "deep_cnn"
    assert "McNemar p=0.0074 (319 vs 254 discordant of 3,589)" in finding.evidence
    assert "+1.8 pts [+0.5, +3.1]" in finding.evidence
    assert "training runs behind each model: deep_cnn 1 (run not recorded), shallow_cnn 1" in finding.evidence


def test_no_difference_is_not_distinguishable():
    results, frame = two_models(only_a=285, only_b=280, both=2065, neither=959)
    finding = fer_finding(results, frame)
    assert finding.verdict == "not distinguishable (shallow_cnn and deep_cnn)"
    assert "includes zero" in finding.evidence


def test_a_clear_but_small_difference_is_flagged_below_the_run_to_run_spread():
    results, frame = two_models(only_a=0, only_b=30, both=2300, neither=1259)  # +0.8 pts, p ~ 2e-9
    finding = fer_finding(results, frame)
    assert finding.verdict == "deep_cnn on these images, by less than the run-to-run spread"
    assert "run-to-run spread of about 1 point" in finding.evidence


def test_pairs_join_on_image_identity_and_refuse_other_data():
    results, frame = two_models(only_a=254, only_b=319, both=2065, neither=951)
    pair = compare_pair(frame, results[0], results[1], "fer2013")
    assert (pair.comparison.only_a, pair.comparison.only_b) == (254, 319)  # despite the shuffled rows
    other = frame.copy()
    deep = other.model == "deep_cnn"
    other.loc[deep, "label"] = (other.loc[deep, "label"] + 1) % 7
    refused = compare_pair(other, results[0], results[1], "fer2013")
    assert refused.comparison is None and "different labels" in refused.problem
    finding = fer_finding(results, other)
    assert finding.verdict.startswith("cannot say whether deep_cnn and shallow_cnn differ")
    assert [p.to_dict()["mcnemar_p"] for p in model_pairs(results, frame)] == [pytest.approx(0.00745, abs=5e-5)]


def curve(model: str, val: list[float], train: list[float]) -> TrainingRun:
    n = len(val)
    return TrainingRun(
        f"{model}-run", model, Path("."), tuple(range(1, n + 1)), tuple(train), tuple(val), tuple([0.5] * n)
    )


def test_overfitting_is_read_per_model_from_its_own_curve():
    rising = curve("deep_cnn", [1.2, 1.0, 0.95, 1.05, 1.20], [1.1, 0.8, 0.5, 0.3, 0.15])
    falling = curve("shallow_cnn", [1.3, 1.1, 1.0, 0.97, 0.95], [1.3, 1.1, 0.9, 0.8, 0.75])
    ones = np.ones(10, dtype=bool)
    found = fd.training_findings([result("shallow_cnn", ones, curve=falling), result("deep_cnn", ones, curve=rising)])
    deep, shallow = found
    assert deep.claim.startswith("deep_cnn overfits") and deep.verdict == "supports"
    assert "lowest at epoch 3 of 5 (0.950), 1.200 at the last" in deep.evidence and "final gap" in deep.evidence
    assert shallow.claim.startswith("does shallow_cnn overfit") and shallow.verdict == "no"
    # the study's model with a falling validation loss contradicts the claim
    (only,) = fd.training_findings(
        [result("deep_cnn", ones, curve=curve("deep_cnn", falling.val_loss, falling.train_loss))]
    )
    assert only.verdict == "contradicts" and "lowest at epoch 5 of 5" in only.evidence


def test_the_pairs_table_and_json_carry_every_pair():
    from fermbench.report.results import ReportData
    from fermbench.report.tables import pair_blocks, render_results

    results, frame = two_models(only_a=254, only_b=319, both=2065, neither=951)
    data = ReportData(results, {}, frame, [])
    (block,) = pair_blocks(data)
    (section,) = block.sections
    assert section.rows == [
        ["FER-2013", "deep_cnn - shallow_cnn", "3,589", "+1.8 [+0.5, +3.1]", "319", "254", "0.0074", "differ"]
    ]
    import json

    doc = json.loads(render_results(data, "json"))
    (pair,) = doc["accuracy_comparisons"][0]["pairs"]
    assert (pair["model_a"], pair["model_b"], pair["only_b_correct"], pair["distinguishable"]) == (
        "shallow_cnn",
        "deep_cnn",
        319,
        True,
    )
