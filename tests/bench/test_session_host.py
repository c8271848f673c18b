"""Sessions on the host runner: the whole pipeline without adb, store contents checked."""

from __future__ import annotations

import _thread
import json
import signal
import threading
import time

import pytest
from click.testing import CliRunner

from child_signals import ctrl_c_raises  # tests/ is on pytest's pythonpath
from fermbench.bench.progress import Progress
from fermbench.bench.start import run_benchmark
from fermbench.export.runtimes import DEFAULT_RUNTIME
from fermbench.store import Variant, load_sessions

pytestmark = pytest.mark.slow


def test_host_session_stores_everything(tiny, bench_models, fer_path, photo_dir, tmp_path):
    settings = tiny(
        devices=("host",),
        models=("shallow_cnn",),
        repeats=2,
        fer_data=str(fer_path),
        fer_limit=21,
        photos=str(photo_dir),
    )
    outcome = run_benchmark(settings, out=tmp_path / "results", model_dir=bench_models)
    assert outcome.status == "complete"
    loaded = load_sessions([outcome.store.path])
    (session,) = loaded.sessions
    (rec,) = session.records
    assert [lat.repeat for lat in rec.latency] == [0, 1] and rec.status == "ok"
    assert all(lat.ok and lat.summary.n >= 5 and lat.summary.median > 0 for lat in rec.latency)
    assert rec.accuracy.n == 21 and rec.accuracy.agreement == 1.0
    counts = rec.realworld.counts
    assert (counts.photos, counts.classified, counts.no_face, counts.undecodable) == (3, 1, 1, 1)
    assert rec.appsize.kind == "model_only"
    assert (
        session.info.models[rec.key]["sha256"] == json.loads((bench_models / "shallow_cnn.json").read_text())["sha256"]
    )
    runs = loaded.runs  # the same record, flattened for pandas under the same field names
    assert len(runs) == 2 and set(runs["latency.repeat"]) == {0, 1} and set(runs.status) == {"ok"}
    assert (runs["accuracy.agreement"] == 1.0).all() and (runs["realworld.counts.photos"] == 3).all()
    s = loaded.samples
    assert set(s.phase) == {"first", "timed"} and len(s[s.phase == "timed"]) == runs["latency.summary.n"].sum()
    photos = loaded.predictions[loaded.predictions.dataset == "photos"]
    assert sorted(photos.status) == ["classified", "no_face", "undecodable"]
    record = outcome.store.record("host", rec.variant)
    assert record.realworld.undecodable_photos == ["sad/broken.jpg"]
    assert record.realworld.no_face_photos == ["sad/blank.png"]
    log = (outcome.store.path / "log.txt").read_text()
    assert "photo sad/broken.jpg: cannot be decoded" in log and "1 without a face" in log
    info = outcome.store.info
    assert info.devices["host"].tags == ["host"] and info.order["host"]["1"] == [rec.key]
    assert info.totals["runner_s"] > 0


def test_failed_export_is_recorded_and_others_go_on(tiny, models_copy, tmp_path):
    (models_copy / "deep_cnn.ckpt").write_bytes(b"not a checkpoint")
    settings = tiny(devices=("host",), models=("shallow_cnn", "deep_cnn"))
    outcome = run_benchmark(settings, out=tmp_path / "results", model_dir=models_copy)
    assert outcome.status == "partial"
    by_model = {r.model: r for r in outcome.records}
    assert by_model["shallow_cnn"].status == "ok"
    assert by_model["deep_cnn"].status == "failed"
    assert "deep_cnn.ckpt is truncated or not a fermbench checkpoint" in by_model["deep_cnn"].error
    assert by_model["deep_cnn"].latency == []


def test_resume_runs_only_what_is_missing(tiny, bench_models, tmp_path):
    settings = tiny(devices=("host",), models=("shallow_cnn", "resnet9"))
    first = run_benchmark(settings, out=tmp_path / "results", model_dir=bench_models)
    store = first.store
    # Pretend the session died before resnet9's latency finished.
    rec = store.record("host", Variant("resnet9", DEFAULT_RUNTIME, "fp32"))
    rec.latency, rec.status = [], "running"
    store.save_record(rec)
    store.set_status("running")
    kept = (store.path / "samples" / "host" / "shallow_cnn.pytorch_android_lite-2.1.0.fp32.r0.csv").stat().st_mtime_ns
    again = run_benchmark(None, resume=store.session_id, out=tmp_path / "results", model_dir=bench_models)
    assert again.status == "complete" and again.store.path == store.path
    assert (
        store.path / "samples" / "host" / "shallow_cnn.pytorch_android_lite-2.1.0.fp32.r0.csv"
    ).stat().st_mtime_ns == kept
    log = (store.path / "log.txt").read_text().split("session resumed")[1]
    assert "[resnet9] latency #1: ok" in log and "[shallow_cnn] latency" not in log
    assert len(json.loads((store.path / "session.json").read_text())["resumed"]) == 1


def test_cli_refuses_bad_config_and_mixed_resume(tmp_path):
    from fermbench.cli import main

    cfg = tmp_path / "bench.toml"
    cfg.write_text("iteratons = 3\n")
    result = CliRunner().invoke(main, ["run", "--device", "host", "--config", str(cfg)])
    assert result.exit_code == 1 and "unknown key(s) iteratons" in result.output
    result = CliRunner().invoke(main, ["run", "--resume", "x", "--iterations", "3"])
    assert result.exit_code == 1 and "--resume continues with the session's own settings" in result.output
    result = CliRunner().invoke(main, ["run", "--device", "host", "--models", "nope"])
    assert result.exit_code == 1 and "unknown model 'nope'" in result.output


def test_untrained_models_are_announced_loudly(tiny, models_copy, tmp_path):
    from fermbench.bench.session import Progress
    from fermbench.zoo import build_model
    from fermbench.zoo.checkpoint import save_checkpoint

    class Messages(Progress):
        def __init__(self):
            self.lines = []

        def message(self, text):
            self.lines.append(text)

    save_checkpoint(models_copy / "shallow_cnn.ckpt", "shallow_cnn", build_model("shallow_cnn", seed=9))
    progress = Messages()
    settings = tiny(devices=("host",), models=("shallow_cnn", "resnet9"))
    run_benchmark(settings, out=tmp_path / "results", model_dir=models_copy, progress=progress)
    warnings = [line for line in progress.lines if "UNTRAINED" in line]
    assert len(warnings) == 1 and warnings[0].startswith("WARNING resnet9:")


def test_target_precision_is_sent_recorded_and_reported(tiny, bench_models, tmp_path):
    """--target-precision reaches the runner, which records what stopped it; the report shows it, and warns
    where the precision was not reached before --max-seconds."""
    from fermbench.report.results import build_report_data
    from fermbench.report.tables import result_row

    loose = tiny(devices=("host",), models=("shallow_cnn",), target_precision=0.5, max_seconds=30.0)
    outcome = run_benchmark(loose, out=tmp_path / "results", model_dir=bench_models)
    (rec,) = outcome.records
    (lat,) = rec.latency
    assert lat.stop_reason == "precision" and lat.settings.target_precision == 0.5
    assert lat.summary.median_precision <= 0.5
    strict = tiny(devices=("host",), models=("shallow_cnn",), target_precision=1e-6, max_seconds=0.3)
    outcome = run_benchmark(strict, out=tmp_path / "results", model_dir=bench_models)
    (rec,) = outcome.records
    assert rec.latency[0].stop_reason == "max_s"
    (result,) = build_report_data([outcome.store.path]).results
    assert result_row(result)["timed_stop"] == ["max_s"]
    assert "imprecise" in [w.code for w in result.warnings]


class CtrlCAfterFirstPhase(Progress):
    """Presses Ctrl-C once a device worker has stored its first phase."""

    sent = False

    def done(self, serial: str, model: str, phase: str, status: str) -> None:
        if not self.sent and threading.current_thread() is not threading.main_thread():
            self.sent = True
            _thread.interrupt_main()
            time.sleep(1.0)  # this worker holds on until the main thread has stopped the session


def test_an_interrupted_session_gives_the_caller_its_signal_handlers_back(tiny, bench_models, tmp_path):
    """While it winds down the session ignores SIGINT and SIGTERM; a caller that goes on (a test,
    a notebook) gets its own handlers back, or every child it starts later would ignore Ctrl-C."""

    def on_sigterm(signum: int, frame: object) -> None:
        raise AssertionError("not called")

    settings = tiny(devices=("host",), models=("shallow_cnn", "deep_cnn"))
    previous = signal.signal(signal.SIGTERM, on_sigterm)
    try:
        with ctrl_c_raises():
            with pytest.raises(KeyboardInterrupt):
                run_benchmark(
                    settings, out=tmp_path / "results", model_dir=bench_models, progress=CtrlCAfterFirstPhase()
                )
            assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
        assert signal.getsignal(signal.SIGTERM) is on_sigterm
    finally:
        signal.signal(signal.SIGTERM, previous)
    (info,) = [json.loads(p.read_text()) for p in (tmp_path / "results").glob("*/session.json")]
    assert info["status"] == "interrupted"
