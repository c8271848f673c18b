"""`fermbench report --compare A B` on real sessions: no change against itself, a known
slowdown found with its size, and "not comparable" for a changed model hash or another device."""

from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner

from fermbench.report.commands import report_cmd
from fermbench.report.compare import compare_sessions
from fermbench.report.results import build_report_data

pytestmark = pytest.mark.slow


def compare_json(bench, a: str, b: str) -> dict:
    result = CliRunner().invoke(report_cmd, ["--results", str(bench.results), "--compare", a, b, "--format", "json"],
                                env=bench.env)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def by_model(doc: dict) -> dict[str, dict]:
    return {c["model"]: c for c in doc["comparisons"]}


def test_session_against_itself_is_no_change(bench_sessions):
    bench = bench_sessions
    rows = by_model(compare_json(bench, bench.host, bench.host))
    for model in ("shallow_cnn", "deep_cnn"):
        assert rows[model]["verdict"] == "no change"
        assert rows[model]["ratio"] == 1.0 and rows[model]["ci_low"] <= 1.0 <= rows[model]["ci_high"]
    assert rows["resnet9"]["verdict"] == "not comparable"  # failed on both sides: no samples
    assert "no latency samples" in rows["resnet9"]["reason"]


@pytest.mark.parametrize("scale, verdict", [(1.5, "slower"), (0.6, "faster")])
def test_known_change_is_found_with_its_size(bench_sessions, derive, scale, verdict):
    bench = bench_sessions
    changed = derive(bench.host, f"scaled-{scale}", scale=scale)
    rows = by_model(compare_json(bench, bench.host, changed))
    for model in ("shallow_cnn", "deep_cnn"):
        row = rows[model]
        assert row["verdict"] == verdict, row
        assert row["ratio"] == pytest.approx(scale, rel=1e-3)
        assert row["ci_low"] <= scale * 1.001 and row["ci_high"] >= scale * 0.999
        assert row["p_value"] < 0.05


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


def test_compare_table_and_csv(bench_sessions, derive):
    bench = bench_sessions
    changed = derive(bench.host, "scaled-table", scale=2.0)
    result = CliRunner().invoke(report_cmd, ["--results", str(bench.results), "--compare", bench.host, changed],
                                env=bench.env)
    assert result.exit_code == 0, result.output
    line = next(line for line in result.stdout.splitlines() if line.strip().startswith("shallow_cnn"))
    assert "2.000x" in line and line.rstrip().endswith("slower")
    csv_out = CliRunner().invoke(report_cmd, ["--results", str(bench.results), "--compare", bench.host, changed,
                                              "--format", "csv"], env=bench.env).stdout
    rows = list(csv.DictReader(io.StringIO(csv_out)))
    assert list(rows[0])[:3] == ["model", "session_a", "session_b"]
    shallow = next(r for r in rows if r["model"] == "shallow_cnn")
    assert float(shallow["ratio"]) == pytest.approx(2.0, rel=1e-3) and shallow["verdict"] == "slower"
