"""The results store: layout, atomic records, resume bookkeeping, schema checks, pandas loading."""

from __future__ import annotations

import json

import pytest

from fermbench.errors import ResultsError
from fermbench.stats import summarize_ns
from fermbench.store import (
    OK,
    PHASE_FAILED,
    SCHEMA_VERSION,
    AccuracyPhase,
    LatencyRepeat,
    SessionStore,
    Variant,
    latest_session,
    load_sessions,
    now_iso,
    slug,
)

SETTINGS = {"iterations": 5, "repeats": 2}
TINY = Variant("tiny", "pytorch_android_lite-2.1.0", "fp32")
STEM = "tiny.pytorch_android_lite-2.1.0.fp32"


def make_session(root, *, sid="20240101-000000-aaaa", fail_model=False):
    store = SessionStore.create(SETTINGS, root=root, session_id=sid, seed=7)
    store.set_device(
        "127.0.0.1:15555", kind="sim", identity={"model": "SimPhone", "abis": ["x86_64"]}, tags=["simulated"]
    )
    store.set_model(TINY, {"sha256": "ab" * 32, "bytes": 1234, "trained": False})
    rec = store.record("127.0.0.1:15555", TINY)
    for r, samples in enumerate([[10, 20, 30], [11, 21, 31, 41]]):
        rel = store.write_samples("127.0.0.1:15555", TINY, r, samples, first_ns=99, warmup_ns=[98])
        rec.set_phase("latency", LatencyRepeat(status=OK, samples=rel, summary=summarize_ns(samples)), now_iso(), r)
        store.save_record(rec)
    rows = [
        {"index": i, "name": f"x{i}", "label": i % 7, "device_pred": i % 7, "host_pred": i % 7, "latency_ns": 100 + i}
        for i in range(4)
    ]
    rel = store.write_predictions("127.0.0.1:15555", TINY, "fer2013", rows, list(rows[0]))
    rec.set_phase(
        "accuracy", AccuracyPhase(status=OK, device_accuracy=1.0, agreement=1.0, predictions=rel, n=4), now_iso()
    )
    rec.finish([("latency", 0), ("latency", 1), ("accuracy", None)])
    store.save_record(rec)
    if fail_model:
        bad = store.record("127.0.0.1:15555", Variant("broken", TINY.runtime, TINY.quant))
        bad.fail("export failed: boom")
        bad.finish([("latency", 0)])
        store.save_record(bad)
    store.set_status("complete")
    store.close()  # releases the session's lock, as the end of a run does
    return store


def test_layout_and_round_trip(tmp_path):
    store = make_session(tmp_path, fail_model=True)
    root = tmp_path / "20240101-000000-aaaa"
    assert (root / "session.json").is_file()
    assert (root / "records" / "127.0.0.1_15555" / f"{STEM}.json").is_file()
    assert (root / "samples" / "127.0.0.1_15555" / f"{STEM}.r1.csv").read_text().splitlines()[:3] == [
        "phase,index,ns",
        "first,0,99",
        "warmup,0,98",
    ]
    assert "session 20240101-000000-aaaa created" in (root / "log.txt").read_text()
    info = json.loads((root / "session.json").read_text())
    assert info["schema_version"] == SCHEMA_VERSION and info["seed"] == 7
    assert info["devices"]["127.0.0.1:15555"]["slug"] == "127.0.0.1_15555"
    stored = json.loads((root / "records" / "127.0.0.1_15555" / f"{STEM}.json").read_text())
    assert stored["accuracy"]["device_accuracy"] == 1.0 and stored["latency"][1]["summary"]["median"] == 26

    loaded = load_sessions([store.session_id], root=tmp_path)
    (session,) = loaded.sessions
    assert session.info.devices["127.0.0.1:15555"].tags == ["simulated"]
    tiny_rec = next(r for r in session.records if r.model == "tiny")
    assert [lat.summary.median for lat in tiny_rec.latency] == [20, 26]
    runs = loaded.runs  # the same fields, flattened with dotted names
    tiny = runs[runs.model == "tiny"]
    assert sorted(tiny["latency.repeat"]) == [0, 1] and set(tiny.status) == {OK}
    assert sorted(tiny["latency.summary.median"]) == [20, 26]
    assert tiny["accuracy.device_accuracy"].tolist() == [1.0, 1.0]
    broken = runs[runs.model == "broken"]
    assert len(broken) == 1 and broken.status.iloc[0] == PHASE_FAILED
    assert broken.error.iloc[0] == "export failed: boom"
    s = loaded.samples
    assert len(s) == 2 + 3 + 2 + 4 and len(s[(s.phase == "timed") & (s.repeat == 1)]) == 4
    assert loaded.predictions.dataset.unique().tolist() == ["fer2013"]
    assert len(loaded.predictions) == 4


def test_resume_reopens_and_skips_done_phases(tmp_path):
    make_session(tmp_path)
    store = SessionStore.open("20240101-000000-aaaa", root=tmp_path)
    # opening changes no status (a resume that is then refused leaves the session as it was)
    assert store.info.status == "complete" and len(store.info.resumed) == 1
    rec = store.record("127.0.0.1:15555", TINY)
    assert rec.phase_done("latency", 1) and rec.phase_done("accuracy")
    assert not rec.phase_done("latency", 2) and not rec.phase_done("realworld")


def test_failed_phase_marks_record_failed_and_is_rerun(tmp_path):
    store = SessionStore.create(SETTINGS, root=tmp_path)
    rec = store.record("host", Variant("m", TINY.runtime, TINY.quant))
    rec.set_phase("latency", LatencyRepeat(status=PHASE_FAILED, error="runner crashed"), now_iso(), 0)
    rec.finish([("latency", 0)])
    assert rec.status == PHASE_FAILED and "latency[0]" in rec.error
    assert not rec.phase_done("latency", 0)


def test_unknown_schema_version_is_refused(tmp_path):
    make_session(tmp_path)
    path = tmp_path / "20240101-000000-aaaa" / "session.json"
    info = json.loads(path.read_text())
    info["schema_version"] = 99
    path.write_text(json.dumps(info))
    with pytest.raises(ResultsError, match="schema_version 99"):
        load_sessions(["20240101-000000-aaaa"], root=tmp_path)


def test_corrupt_and_missing_sessions_are_clear_errors(tmp_path):
    make_session(tmp_path)
    rec = tmp_path / "20240101-000000-aaaa" / "records" / "127.0.0.1_15555" / f"{STEM}.json"
    rec.write_text("{not json")
    with pytest.raises(ResultsError, match="not valid JSON"):
        load_sessions(None, root=tmp_path)
    with pytest.raises(ResultsError, match="no session 'nope'"):
        load_sessions(["nope"], root=tmp_path)
    with pytest.raises(ResultsError, match="no sessions"):
        latest_session(tmp_path / "empty")


def test_latest_and_all(tmp_path):
    make_session(tmp_path, sid="20240101-000000-aaaa")
    make_session(tmp_path, sid="20240102-000000-bbbb")
    assert latest_session(tmp_path).name == "20240102-000000-bbbb"
    assert load_sessions("latest", root=tmp_path).sessions[0].id == "20240102-000000-bbbb"
    assert len(load_sessions(None, root=tmp_path).sessions) == 2
    with pytest.raises(ResultsError, match="already exists"):
        SessionStore.create(SETTINGS, root=tmp_path, session_id="20240101-000000-aaaa")


def test_slug_never_leaves_path_separators():
    assert slug("127.0.0.1:15555") == "127.0.0.1_15555"
    assert slug("../../etc/passwd") == ".._.._etc_passwd"
    assert slug("..") == "_.." and slug("") == "_"
    assert slug("emulator-5554") == "emulator-5554"
