"""Every statistical verdict of `fermbench report`, on synthetic sessions with known distributions.

The samples are seeded draws (synthetic_sessions.py) written through the real store, so each
expected verdict is certain, however busy the machine running the tests is: `--compare`'s
faster / slower / no change with its interval and p-value, and the warnings said beside the
numbers (spread, tail, few samples, repeats that disagree).
"""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest
from click.testing import CliRunner

from fermbench.report.commands import report_cmd

MEDIAN_MS = {"shallow_cnn": 4.0, "deep_cnn": 9.0}
N = 60


def run_report(root, *args: str) -> str:
    result = CliRunner().invoke(report_cmd, ["--results", str(root), *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def compare(root, a: str, b: str, *args: str) -> dict[str, dict]:
    doc = json.loads(run_report(root, "--compare", a, b, "--format", "json", *args))
    return {c["model"]: c for c in doc["comparisons"]}


def results(root, session: str) -> dict[str, dict]:
    doc = json.loads(run_report(root, session, "--format", "json"))
    return {r["model"]: r for r in doc["results"]}


def codes(row: dict) -> set[str]:
    return {w["code"] for w in row["warnings"]}


def two_sessions(synthetic, root, scale: float, *, sigma: float = 0.05, n: int = N) -> tuple[str, str]:
    """A baseline and a candidate whose true medians are `scale` times the baseline's; each side
    an independent seeded draw (a copy of the same samples would hide the sampling noise)."""
    a = synthetic.write_session(
        root,
        {m: synthetic.lognormal_ns(i, n, med, sigma) for i, (m, med) in enumerate(MEDIAN_MS.items())},
        session_id="a",
    )
    b = synthetic.write_session(
        root,
        {m: synthetic.lognormal_ns(10 + i, n, med * scale, sigma) for i, (m, med) in enumerate(MEDIAN_MS.items())},
        session_id="b",
    )
    return a, b


# -- --compare ----------------------------------------------------------------------------------


@pytest.mark.parametrize("scale, verdict", [(1.5, "slower"), (0.6, "faster")])
def test_known_change_is_found_with_its_size(synthetic, tmp_path, scale, verdict):
    rows = compare(tmp_path, *two_sessions(synthetic, tmp_path, scale))
    for model in MEDIAN_MS:
        row = rows[model]
        assert row["verdict"] == verdict, row
        assert row["ratio"] == pytest.approx(scale, rel=0.03)
        assert row["ci_low"] <= scale <= row["ci_high"]  # the interval covers the true ratio
        assert row["p_value"] < 1e-6 and row["test"] == "mann-whitney normal"
        assert row["warnings"] == [] and row["n_a"] == row["n_b"] == N


def test_same_distribution_is_no_change(synthetic, tmp_path):
    rows = compare(tmp_path, *two_sessions(synthetic, tmp_path, 1.0))
    for model in MEDIAN_MS:
        assert rows[model]["verdict"] == "no change", rows[model]
        assert rows[model]["ci_low"] <= 1.0 <= rows[model]["ci_high"]
        assert rows[model]["ratio"] != 1.0  # two draws, not one copy: the test sees sampling noise


def test_noisy_samples_hide_a_real_change_and_say_why(synthetic, tmp_path):
    # 10 % slower, but CV above 50 % with 20 samples a side: too noisy for a claim (the case of
    # a live run on a busy machine), and the comparison says so next to the verdict.
    a = synthetic.write_session(tmp_path, {"shallow_cnn": synthetic.lognormal_ns(20, 20, 4.0, 0.5)}, session_id="a")
    b = synthetic.write_session(tmp_path, {"shallow_cnn": synthetic.lognormal_ns(21, 20, 4.4, 0.5)}, session_id="b")
    row = compare(tmp_path, a, b)["shallow_cnn"]
    assert row["verdict"] == "no change" and row["ci_low"] < 1.0 < row["ci_high"]
    assert row["ci_high"] / row["ci_low"] > 2  # a wide interval: the spread, not the change, decides
    assert [w["code"] for w in row["warnings"]] == ["high_spread"]
    table = run_report(tmp_path, "--compare", a, b)
    assert "shallow_cnn: one side has CV" in table and "rerun it on a quiet, cool device" in table


def test_small_change_is_a_verdict_only_above_min_change(synthetic, tmp_path):
    # 3 % slower with 1 % noise and 100 samples: clear to the test, so --min-change decides.
    a = synthetic.write_session(tmp_path, {"deep_cnn": synthetic.lognormal_ns(30, 100, 9.0, 0.01)}, session_id="a")
    b = synthetic.write_session(tmp_path, {"deep_cnn": synthetic.lognormal_ns(31, 100, 9.27, 0.01)}, session_id="b")
    assert compare(tmp_path, a, b)["deep_cnn"]["verdict"] == "slower"
    row = compare(tmp_path, a, b, "--min-change", "0.05")["deep_cnn"]
    assert row["verdict"] == "no change" and row["p_value"] < 1e-6 and row["ci_low"] > 1.0


def test_compare_table_and_csv(synthetic, tmp_path):
    a, b = two_sessions(synthetic, tmp_path, 2.0)
    line = next(
        line for line in run_report(tmp_path, "--compare", a, b).splitlines() if line.strip().startswith("shallow_cnn")
    )
    ratio = compare(tmp_path, a, b)["shallow_cnn"]["ratio"]
    assert f"{ratio:.3f}x" in line and line.rstrip().endswith("slower")
    rows = list(csv.DictReader(io.StringIO(run_report(tmp_path, "--compare", a, b, "--format", "csv"))))
    assert list(rows[0])[:3] == ["model", "session_a", "session_b"]
    shallow = next(r for r in rows if r["model"] == "shallow_cnn")
    assert float(shallow["ratio"]) == pytest.approx(2.0, rel=0.03) and shallow["verdict"] == "slower"
    assert (shallow["session_a"], shallow["session_b"]) == (a, b)


# -- warnings beside the numbers ---------------------------------------------------------------


def test_steady_samples_get_no_sample_warnings(synthetic, tmp_path):
    sid = synthetic.write_session(tmp_path, {"shallow_cnn": synthetic.lognormal_ns(50, 150, 4.0, 0.02)})
    row = results(tmp_path, sid)["shallow_cnn"]
    assert codes(row) == {"host"}  # the device's own warning only
    assert row["n"] == 150 and row["cv"] == pytest.approx(0.02, abs=0.005)


def test_spread_tail_and_few_samples_are_flagged(synthetic, tmp_path):
    steady = synthetic.lognormal_ns(60, 150, 4.0, 0.02)
    sid = synthetic.write_session(
        tmp_path,
        {
            "noisy": synthetic.lognormal_ns(61, 150, 4.0, 0.2),  # CV about 20 %, p99 1.6x the median
            "tailed": steady + [12_000_000] * 4,  # four 3x outliers: past the 99th percentile
            "few": steady[:12],
            "no_p99": steady[:50],
        },
    )
    rows = results(tmp_path, sid)
    assert codes(rows["noisy"]) == {"host", "high_spread"}
    assert {"heavy_tail"} <= codes(rows["tailed"])
    tail = next(w for w in rows["tailed"]["warnings"] if w["code"] == "heavy_tail")
    assert tail["message"] == "heavy tail: p99 is 3.0x the median"
    assert codes(rows["few"]) == {"host", "few_samples"} and codes(rows["no_p99"]) == {"host", "no_p99"}
    text = run_report(tmp_path, sid, "--format", "markdown")
    assert "⚠ noisy: high spread: CV 19%" in text and "⚠ tailed: heavy tail: p99 is 3.0x the median" in text
    assert "⚠ few: only 12 samples (fewer than 20)" in text


def test_repeats_that_disagree_are_flagged(synthetic, tmp_path):
    def repeats(seed: int, medians_ms: list[float]) -> list[list[int]]:
        return [synthetic.lognormal_ns(seed + i, 40, m, 0.01) for i, m in enumerate(medians_ms)]

    sid = synthetic.write_session(
        tmp_path,
        {
            "drifting": repeats(70, [4.0, 4.4, 4.0]),  # medians 10 % apart
            "steady": repeats(80, [4.0, 4.02, 4.0]),
        },
    )
    rows = results(tmp_path, sid)
    drifting, steady = rows["drifting"], rows["steady"]
    assert drifting["repeats"] == steady["repeats"] == 3 and drifting["n"] == 120
    assert drifting["repeat_spread"] == pytest.approx(0.10, abs=0.01)
    assert "repeat_spread" in codes(drifting) and "repeat_spread" not in codes(steady)
    assert steady["repeat_spread"] < 0.02
    medians = [np.median(synthetic.lognormal_ns(70 + i, 40, m, 0.01)) for i, m in enumerate([4.0, 4.4, 4.0])]
    assert drifting["repeat_spread"] == pytest.approx((max(medians) - min(medians)) / np.median(medians))
    assert f"⚠ drifting: repeats' medians {drifting['repeat_spread']:.0%} apart" in run_report(
        tmp_path, sid, "--format", "markdown"
    )


def test_compare_shows_each_median_with_its_order_statistic_interval(synthetic, tmp_path):
    import numpy as np

    from fermbench.intervals import median_ranks

    a, b = two_sessions(synthetic, tmp_path, 1.5)
    rows = compare(tmp_path, a, b)
    low, high, _ = median_ranks(N)
    for i, (model, med) in enumerate(MEDIAN_MS.items()):
        drawn = np.sort(np.asarray(synthetic.lognormal_ns(i, N, med, 0.05), dtype=float)) / 1e6
        row = rows[model]
        assert (row["median_a_ci_low_ms"], row["median_a_ci_high_ms"]) == pytest.approx(
            (drawn[low - 1], drawn[high - 1])
        )
        assert row["median_b_ci_low_ms"] <= row["median_b_ms"] <= row["median_b_ci_high_ms"]
    text = run_report(tmp_path, "--compare", a, b, "--format", "markdown")
    assert f"[{rows['shallow_cnn']['median_a_ci_low_ms']:.3f}-{rows['shallow_cnn']['median_a_ci_high_ms']:.3f}]" in text
