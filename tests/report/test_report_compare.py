"""`fermbench report --compare A B` on real sessions: no change against itself, and "not
comparable" for a changed model hash or another device.

The real sessions' samples were measured live, so their spread depends on how busy the machine
was: these tests assert only what holds whatever the spread (a session against itself or an
unchanged copy, pairing, reasons). Verdicts on known changes are in test_report_verdicts.py."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from fermbench.report.commands import report_cmd
from fermbench.report.compare import compare_sessions
from fermbench.report.results import build_report_data

pytestmark = pytest.mark.slow


def compare_json(bench, a: str, b: str) -> dict:
    result = CliRunner().invoke(
        report_cmd, ["--results", str(bench.results), "--compare", a, b, "--format", "json"], env=bench.env
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def by_model(doc: dict) -> dict[str, dict]:
    return {c["model"]: c for c in doc["comparisons"]}


def test_session_against_itself_is_no_change(bench_sessions):
    bench = bench_sessions
    rows = by_model(compare_json(bench, bench.host, bench.host))
    for model in ("shallow_cnn", "deep_cnn"):  # identical samples: p = 1 whatever their spread
        assert rows[model]["verdict"] == "no change"
        assert rows[model]["ratio"] == 1.0 and rows[model]["ci_low"] <= 1.0 <= rows[model]["ci_high"]
    assert rows["resnet9"]["verdict"] == "not comparable"  # failed on both sides: no samples
    assert "no latency samples" in rows["resnet9"]["reason"]


def test_changed_model_hash_is_not_comparable(bench_sessions, derive):
    bench = bench_sessions
    other = derive(bench.host, "other-hash", model_hash={"shallow_cnn": "f" * 64})
    rows = by_model(compare_json(bench, bench.host, other))
    assert rows["shallow_cnn"]["verdict"] == "not comparable"
    assert "model hash differs" in rows["shallow_cnn"]["reason"]
    assert rows["shallow_cnn"]["ratio"] is None
    assert rows["deep_cnn"]["verdict"] == "no change"  # untouched model still compares


def test_other_device_is_not_comparable(bench_sessions):
    bench = bench_sessions
    if bench.sim is None:
        pytest.skip(bench.sim_skip_reason)
    a = build_report_data([bench.host], root=bench.results)
    b = build_report_data([bench.sim], root=bench.results)
    rows = {c.model: c for c in compare_sessions(a, b)}
    assert rows["shallow_cnn"].verdict == "not comparable"
    assert "device differs" in rows["shallow_cnn"].reason
    assert rows["deep_cnn"].reason == "not measured in B"
