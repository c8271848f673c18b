"""Phases are typed: a session plans and measures the phases PhaseName names, and a name that
is none of them is an error (it used to fall through to app size). A record keeps its failed
phases in a typed field, not in the prefix of its error text; files written before still read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fermbench.bench.exports import ModelFile
from fermbench.bench.session import BenchmarkSession, planned_phases
from fermbench.bench.settings import build_settings
from fermbench.store import OK, PHASE_FAILED, AccuracyPhase, LatencyRepeat, Record, SessionStore, Variant, now_iso
from fermbench.store.codec import from_json, to_json
from fermbench.store.records import PhaseName

TINY = Variant("tiny", "pytorch_android_lite-2.1.0", "fp32")


@pytest.fixture
def session(tmp_path: Path) -> BenchmarkSession:
    settings = build_settings(devices=("host",), models=("shallow_cnn",), repeats=2, untrained=True)
    store = SessionStore.create(settings.to_dict(), root=tmp_path)
    model = tmp_path / "tiny.ptl"
    model.write_bytes(b"model")
    files = {TINY: ModelFile(TINY, model, {"sha256": "ab" * 32}, cached=True)}
    yield BenchmarkSession(store, settings, [], [TINY], {}, files)
    store.close()


def test_the_plan_is_every_phase_with_latency_once_per_repeat(session):
    plan = planned_phases(session.settings)
    assert plan[:2] == [(PhaseName.LATENCY, 0), (PhaseName.LATENCY, 1)]
    assert {phase for phase, _ in plan} == set(PhaseName)


@pytest.mark.parametrize("phase", [p for p in PhaseName if p is not PhaseName.LATENCY])
def test_every_phase_after_latency_has_its_own_measurement(session, phase):
    result = session.phase_fn(None, TINY, phase)(None)  # no inputs given: skipped with the reason, or app size
    assert (
        type(result).__name__
        == {"accuracy": "AccuracyPhase", "realworld": "RealworldPhase", "appsize": "AppSizePhase"}[phase.value]
    )


@pytest.mark.parametrize("name", ["bogus", "app_size", ""])
def test_an_unknown_phase_is_an_error_not_app_size(session, name):
    with pytest.raises(ValueError, match="PhaseName"):
        session.phase_fn(None, TINY, name)


def test_latency_is_not_measured_by_phase_fn(session):
    with pytest.raises(ValueError, match="latency_fn"):
        session.phase_fn(None, TINY, PhaseName.LATENCY)


def test_phase_names_read_as_their_plain_names():
    assert f"{PhaseName.LATENCY} #1" == "latency #1" and json.dumps([PhaseName.APPSIZE]) == '["appsize"]'
    assert PhaseName("realworld") is PhaseName.REALWORLD


# -- a record's failed phases -------------------------------------------------------------


def record_with(latency_status: str) -> Record:
    rec = Record("host", "tiny")
    rec.set_phase("latency", LatencyRepeat(status=latency_status), now_iso(), 0)
    rec.set_phase("accuracy", AccuracyPhase(status=OK), now_iso())
    return rec


PLAN = [("latency", 0), ("accuracy", None)]


def test_failed_phases_are_a_field_and_clear_once_they_run_ok():
    rec = record_with(PHASE_FAILED)
    rec.finish(PLAN)
    assert (rec.status, rec.failed_phases, rec.error) == (PHASE_FAILED, ["latency[0]"], "failed phases: latency[0]")
    rec.set_phase("latency", LatencyRepeat(status=OK), now_iso(), 0)  # --resume ran it again
    rec.finish(PLAN)
    assert (rec.status, rec.failed_phases, rec.error) == (OK, [], None)


def test_a_failure_of_the_whole_record_stands_whatever_its_text():
    rec = record_with(OK)
    rec.fail("failed phases: written by a checkpoint that says so")  # the text no longer decides
    rec.finish(PLAN)
    assert rec.status == PHASE_FAILED and rec.error.startswith("failed phases: written")
    rec.reopen()
    rec.finish(PLAN)
    assert (rec.status, rec.error) == (OK, None)


def test_a_failed_phase_then_a_failure_of_the_whole_record():
    rec = record_with(PHASE_FAILED)
    rec.finish(PLAN)
    rec.fail("device lost: gone")
    rec.finish(PLAN)
    assert (rec.status, rec.failed_phases, rec.error) == (PHASE_FAILED, [], "device lost: gone")


def test_a_record_written_before_the_field_reads_the_same():
    """Schema-2 files of earlier versions have no `failed_phases`: the list was in the error's text."""
    old = {k: v for k, v in to_json(record_with(PHASE_FAILED)).items() if k != "failed_phases"}
    phase_failed = from_json(Record, dict(old, status=PHASE_FAILED, error="failed phases: latency[0], appsize"), "r")
    assert phase_failed.failed_phases == ["latency[0]", "appsize"]
    assert phase_failed.error == "failed phases: latency[0], appsize"  # reported as before
    phase_failed.set_phase("latency", LatencyRepeat(status=OK), now_iso(), 0)
    phase_failed.finish(PLAN)
    assert (phase_failed.status, phase_failed.error) == (OK, None)
    whole = from_json(Record, dict(old, status=PHASE_FAILED, error="export failed: boom"), "r")
    whole.finish(PLAN)
    assert (whole.status, whole.failed_phases, whole.error) == (PHASE_FAILED, [], "export failed: boom")
