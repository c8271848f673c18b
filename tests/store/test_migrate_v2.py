"""Schema 2 -> 3: a repeat's memory and thermal values move into the runner's readings, on read
(reporting) and on resume (the rewritten files are schema 3 and report the same)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from fermbench.errors import ResultsError
from fermbench.measures.readings import EnvReading, MemoryReading
from fermbench.report.commands import report_cmd
from fermbench.store import SCHEMA_VERSION, SessionStore, Variant, load_session

HERE = Path(__file__).resolve().parent
V2 = HERE / "golden" / "v2-session"
V1 = HERE.parent / "fixtures" / "v1-session"
LITE = Variant("shallow_cnn", "pytorch_android_lite-2.1.0", "fp32")
RECORD = "records/host/shallow_cnn.pytorch_android_lite-2.1.0.fp32.json"


def test_schema_2_repeats_read_as_readings_with_every_stored_value():
    raw = json.loads((V2 / "session" / RECORD).read_text())["latency"][0]
    rec = next(r for r in load_session(V2 / "session").records if r.variant == LITE)
    mem, thermal = rec.latency[0].memory, rec.latency[0].thermal
    old = raw["memory"]
    assert mem.counter == "PSS" and mem.source == old["source"]
    assert mem.before_load == MemoryReading(
        pss_kb=old["before_load_kb"], native_heap_kb=old["native_heap_before_load_kb"]
    )
    assert mem.after_runtime == MemoryReading(pss_kb=old["after_runtime_kb"])
    assert mem.after_load == MemoryReading(pss_kb=old["after_load_kb"])
    assert mem.after_run == MemoryReading(
        pss_kb=old["after_run_kb"], native_heap_kb=old["native_heap_after_run_kb"], peak_rss_kb=old["peak_rss_kb"]
    )
    assert mem.kb("after_run") == old["after_run_kb"] and mem.peak_rss_kb == old["peak_rss_kb"]
    assert thermal.before == thermal.after == EnvReading(note="not available on host")
    assert rec.latency[0].metrics == {"gc_count_timed": raw["gc_count_timed"]}


def test_a_resumed_schema_2_session_is_rewritten_as_3_and_reports_the_same(tmp_path):
    shutil.copytree(V2, tmp_path / "v2")
    session = tmp_path / "v2" / "session"
    store = SessionStore.open(session)
    try:
        store.save_record(store.record("host", LITE))
    finally:
        store.close()
    rewritten = json.loads((session / RECORD).read_text())
    assert rewritten["schema_version"] == SCHEMA_VERSION == 3
    assert rewritten["latency"][0]["memory"]["after_run"]["peak_rss_kb"] > 0
    assert "before_load_kb" not in rewritten["latency"][0]["memory"]
    for fmt in ("markdown", "table"):
        env = {"COLUMNS": "200"}
        out = CliRunner().invoke(report_cmd, ["--results", str(tmp_path / "v2"), "session", "--format", fmt], env=env)
        assert out.exit_code == 0, out.output
        assert out.stdout == (V2 / f"report.{fmt}").read_text(encoding="utf-8")


def test_a_schema_1_session_is_still_not_resumable(tmp_path):
    shutil.copytree(V1 / "session", tmp_path / "v1")
    with pytest.raises(ResultsError, match="older fermbench .*schema 1"):
        SessionStore.open(tmp_path / "v1")
