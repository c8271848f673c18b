"""The metric table (measures/metrics.py): how repeats combine, how a row travels from the runner's
JSON through the store's codec to the report, and when a row warns."""

from __future__ import annotations

import dataclasses

import pytest

from fermbench.errors import ResultsError, RunnerError
from fermbench.measures.metrics import BY_NAME, MEASURED
from fermbench.measures.readings import MemoryReading
from fermbench.report.results import DeviceInfo, ModelResult, _result_warnings, repeat_metrics
from fermbench.runner import protocol as p
from fermbench.store.codec import from_json, to_json
from fermbench.store.records import OK, LatencyRepeat, Memory


def test_rows_combine_repeats_as_they_say():
    assert BY_NAME["load_ms"].combine([3.0, None, 1.0, 2.0]) == 2.0  # median of the measured ones
    assert BY_NAME["gc_count_timed"].combine([0, 4, 1]) == 4  # the worst repeat
    assert BY_NAME["threads"].combine([1, 2]) == 1 and isinstance(BY_NAME["threads"].combine([1, 2]), int)
    assert BY_NAME["native_heap_growth_timed"].combine([None, None]) is None  # not measured is not zero


def test_report_combines_measured_and_derived_rows_from_stored_repeats():
    repeats = [
        LatencyRepeat(
            status=OK,
            threads=2,
            load_ms=float(i),
            metrics={"gc_count_timed": i, "native_heap_growth_timed": 100 * i},
            memory=Memory(
                counter="PSS",
                source="s",
                before_load=MemoryReading(pss_kb=1000),
                after_run=MemoryReading(pss_kb=1000 + 10 * i),
            ),
        )
        for i in (1, 2, 6)
    ]
    combined = repeat_metrics(repeats)
    assert set(combined) == set(BY_NAME)
    assert combined["load_ms"] == 2.0 and combined["threads"] == 2 and combined["mem_run_kb"] == 20.0
    assert combined["gc_count_timed"] == 6 and combined["native_heap_growth_timed"] == 600
    assert combined["peak_rss_kb"] is None and combined["first_inference_ms"] is None


def test_codec_writes_measured_rows_as_keys_of_the_repeat_and_reads_schema_2_files():
    repeat = LatencyRepeat(status=OK, threads=1, metrics={"gc_count_timed": 2, "native_heap_growth_timed": -4096})
    data = to_json(repeat)
    assert "metrics" not in data and data["gc_count_timed"] == 2 and data["native_heap_growth_timed"] == -4096
    assert from_json(LatencyRepeat, data, "r") == repeat
    old = {k: v for k, v in data.items() if k != "native_heap_growth_timed"}  # as a schema-2 file has it
    assert from_json(LatencyRepeat, old, "r").metrics == {"gc_count_timed": 2}
    with pytest.raises(ResultsError, match="r.gc_count_timed: expected a whole number"):
        from_json(LatencyRepeat, {**data, "gc_count_timed": "2"}, "r")
    with pytest.raises(ResultsError, match="unknown key.*energy_mj"):
        from_json(LatencyRepeat, {**data, "energy_mj": 1.0}, "r")


def _latency_json() -> dict:
    reading = {"pss_kb": 1, "rss_kb": 1, "native_heap_kb": 1, "peak_rss_kb": 1}
    env = {
        "thermal_status": None,
        "thermal_status_name": None,
        "battery_temp_c": None,
        "battery_level_pct": None,
        "charging": None,
        "note": "host",
    }
    fg = {
        "isolation_activity": None,
        "importance": None,
        "importance_name": None,
        "sustained_performance_supported": None,
        "sustained_performance_enabled": None,
        "note": "host",
    }
    return {
        "protocol_version": p.PROTOCOL_VERSION,
        "mode": "latency",
        "runner_kind": "host",
        "runner_version": "1",
        "runtime_name": "pytorch_lite",
        "runtime_version": "2",
        "settings": {},
        "model_path": "/m",
        "model_bytes": 1,
        "model_sha256": "0" * 64,
        "threads": 1,
        "input_shape": [1],
        "output_numel": 7,
        "runtime_load_ns": 1,
        "runtime_preloaded": True,
        "load_ns": 1,
        "first_inference_ns": 1,
        "warmup_count": 1,
        "warmup_ns": 1,
        "samples_ns": [1],
        "timed_ns": 1,
        "stop_reason": "count_and_time",
        "memory_counter": "pss",
        "memory_source": "x",
        **{f"memory_{k}": reading for k in ("before_load", "after_runtime", "after_load", "after_run")},
        "env_before": env,
        "env_after": env,
        "foreground": fg,
        "thread_priority": None,
        "gc_count_timed": 0,
        "native_heap_growth_timed": 512,
    }


def test_protocol_gathers_measured_rows_and_requires_every_one():
    result = p.result_from_json(_latency_json())
    assert isinstance(result, p.LatencyResult)
    assert result.metrics == {m.name: _latency_json()[m.name] for m in MEASURED}
    for m in MEASURED:
        missing = {k: v for k, v in _latency_json().items() if k != m.name}
        with pytest.raises(RunnerError, match=f"missing: \\['{m.name}'\\]"):
            p.result_from_json(missing)
    with pytest.raises(RunnerError, match="gc_count_timed must be a whole number or null"):
        p.result_from_json({**_latency_json(), "gc_count_timed": 1.5})


def _result(**metrics: float | None) -> ModelResult:
    blank = {
        f.name: None
        for f in dataclasses.fields(ModelResult)
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    }
    blank.update(
        session="s",
        date="2026-12-07",
        model="m",
        runtime="r",
        quant="fp32",
        status="ok",
        repeats=1,
        device=DeviceInfo(serial="d", kind="android", name="d", abi=None, runtime=None, tags=()),
        rw_per_class=(),
        warnings=(),
        metrics={**dict.fromkeys(BY_NAME), **metrics},
    )
    return ModelResult(**blank)


def test_an_unclean_timed_loop_is_said_with_its_value_and_a_clean_one_is_not():
    codes = lambda r: {w.code: w.message for w in _result_warnings(r)}  # noqa: E731
    assert codes(_result(gc_count_timed=0, native_heap_growth_timed=4096)) == {}
    assert codes(_result(gc_count_timed=None, native_heap_growth_timed=None)) == {}
    said = codes(_result(gc_count_timed=3, native_heap_growth_timed=3 << 20))
    assert said == {
        "gc_count_timed": "timed loop collected garbage 3 time(s) in a repeat",
        "native_heap_growth_timed": "timed loop grew the native heap by 3,072.0 KiB in a repeat",
    }


def test_the_table_is_consistent_and_its_measured_rows_are_in_the_protocol_document():
    from pathlib import Path

    from fermbench.measures.metrics import AGGREGATES, METRICS

    names = [m.name for m in METRICS]
    headers = [m.header for m in METRICS if m.header]
    assert len(set(names)) == len(names) and len(set(headers)) == len(headers)
    assert all(m.aggregate in AGGREGATES and m.kind in (int, float) and m.doc for m in METRICS)
    assert all(m.warning and m.advice for m in METRICS if m.warn_above is not None)
    protocol = (Path(__file__).resolve().parents[2] / "android-runner" / "PROTOCOL.md").read_text()
    assert [m.name for m in MEASURED if f"`{m.name}`" not in protocol] == []
