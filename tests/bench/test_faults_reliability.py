"""Faults injected by hand, one test each (issue 12): no result attributed to the wrong model, one
writer per session and one session on the host CPU, interrupts are interrupts, a full disk is one
line, misleading states are gone. Sessions here run on the host runner; the adb-side faults are in
tests/device and tests/sim."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli_checks import one_line_error
from fermbench.bench.session import Progress
from fermbench.bench.start import run_benchmark
from fermbench.cli import main
from fermbench.errors import StorageError
from fermbench.locks import ProcessLock, host_cpu_lock
from fermbench.store import load_sessions

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


class OnStep(Progress):
    def __init__(self, fn):
        self.fn = fn

    def step(self, serial, model, phase):
        self.fn(serial, model, phase)


# 1. ---------------------------------------------------------------------- attribution by hash


def test_a_replaced_shared_export_does_not_change_what_a_session_measures(tiny, models_copy, tmp_path):
    """Another session re-exports models/shallow_cnn.ptl mid-way: this session keeps measuring its
    own file, and every phase's runner answer carries that file's sha256."""
    replaced = []

    def on_step(serial, model, phase):
        if phase.startswith("latency") and not replaced:
            target = models_copy / "shallow_cnn.ptl"
            tmp = target.with_suffix(".other")
            tmp.write_bytes(b"another session's export " * 1000)
            os.replace(tmp, target)  # what an export's rename does
            replaced.append(target)

    settings = tiny(devices=("host",), models=("shallow_cnn",), untrained=True)
    outcome = run_benchmark(settings, out=tmp_path / "results", model_dir=models_copy, progress=OnStep(on_step))
    assert replaced and outcome.status == "complete"
    session = load_sessions([outcome.store.path]).sessions[0]
    (meta,) = session.info.models.values()
    assert meta["sha256"] != __import__("hashlib").sha256((models_copy / "shallow_cnn.ptl").read_bytes()).hexdigest()


def test_every_phase_refuses_a_file_that_is_not_the_recorded_one(tiny, models_copy, tmp_path, monkeypatch):
    """If the file the runner loads is not the one the session recorded (here: changed in place
    after the latency phase), accuracy fails with the hash mismatch instead of being attributed."""
    from fermbench.bench import phases

    real = phases.classify_on_target

    def tampered(target, model, images, settings, timing):
        with open(model.path, "r+b") as fh:  # the session's own link, changed in place
            fh.seek(100)
            fh.write(b"\x00" * 16)
        return real(target, model, images, settings, timing)

    monkeypatch.setattr(phases, "classify_on_target", tampered)
    from fermbench.data.synthetic import write_folder

    write_folder(tmp_path / "fer", {"PublicTest": 14})
    settings = tiny(devices=("host",), models=("shallow_cnn",), untrained=True, fer_data=str(tmp_path / "fer"))
    outcome = run_benchmark(settings, out=tmp_path / "results", model_dir=models_copy)
    (rec,) = outcome.records
    assert rec.latency[0].ok
    assert rec.accuracy.status == "failed" and "the runner measured a file with sha256" in rec.accuracy.error


# 2. ---------------------------------------------------------------------- locks


def _hold(lock_path: Path, what: str) -> subprocess.Popen:
    code = (
        "import sys, time; sys.path.insert(0, sys.argv[3]); from fermbench.locks import ProcessLock; "
        "lock = ProcessLock(__import__('pathlib').Path(sys.argv[1]), sys.argv[2]); assert lock.try_acquire(); "
        "print('held', flush=True); time.sleep(60)"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(lock_path), what, str(ROOT / "harness")], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_resuming_a_session_another_process_runs_is_refused_and_a_dead_owner_is_taken_over(
    tiny, bench_models, tmp_path
):
    settings = tiny(devices=("host",), models=("shallow_cnn",), untrained=True)
    first = run_benchmark(settings, out=tmp_path / "results", model_dir=bench_models)
    lock = first.store.path / ".lock"
    holder = _hold(lock, f"fermbench run, session {first.store.session_id}")
    try:
        result = CliRunner().invoke(
            main, ["run", "--resume", str(first.store.path), "--quiet"], env={"FERMBENCH_MODELS": str(bench_models)}
        )
        one_line_error(result, "is being written by pid", str(holder.pid))
    finally:
        holder.kill()
        holder.wait()
    again = run_benchmark(None, resume=str(first.store.path), model_dir=bench_models)
    assert again.status == "complete"
    log = (first.store.path / "log.txt").read_text()
    assert f"took over the session's lock from pid {holder.pid}" in log


def test_a_second_session_on_the_host_cpu_waits_and_says_why(tiny, bench_models, tmp_path):
    lock = host_cpu_lock("test")
    holder = _hold(lock.path, "another fermbench session")
    said = []

    class Listen(Progress):
        def message(self, text):
            said.append(text)
            if "waiting for" in text:
                holder.kill()  # the other session ends: this one may go on

    try:
        settings = tiny(devices=("host",), models=("shallow_cnn",), untrained=True)
        outcome = run_benchmark(settings, out=tmp_path / "results", model_dir=bench_models, progress=Listen())
    finally:
        holder.kill()
        holder.wait()
    assert outcome.status == "complete"
    waiting = [t for t in said if "waiting for" in t]
    assert len(waiting) == 1 and f"pid {holder.pid}" in waiting[0] and "host's CPU" in waiting[0]
    assert "waiting for" in (outcome.store.path / "log.txt").read_text()


# 3. ---------------------------------------------------------------------- interrupts


def test_sigterm_marks_the_record_in_progress_interrupted_and_resume_finishes_it(bench_models, tmp_path):
    out = tmp_path / "results"
    env = {**os.environ, "FERMBENCH_MODELS": str(bench_models), "FERMBENCH_CACHE": str(tmp_path / "cache")}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "fermbench.cli",
            "run",
            "--device",
            "host",
            "--models",
            "shallow_cnn,deep_cnn",
            "--untrained",
            "--warmup",
            "0",
            "--iterations",
            "5",
            "--min-seconds",
            "60",
            "--max-seconds",
            "120",
            "--cooldown",
            "none",
            "--quiet",
            "--out",
            str(out),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    session_json = None
    while time.monotonic() < deadline and session_json is None:  # wait until the first latency runs
        found = list(out.glob("*/session.json")) if out.is_dir() else []
        if found and json.loads(found[0].read_text())["status"] == "running":
            session_json = found[0]
        time.sleep(0.2)
    assert session_json is not None, proc.stderr.read() if proc.poll() is not None else "no session started"
    time.sleep(1.5)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    info = json.loads(session_json.read_text())
    assert info["status"] == "interrupted"
    records = [json.loads(p.read_text()) for p in session_json.parent.glob("records/*/*.json")]
    assert any(r["status"] == "interrupted" and "interrupted during latency" in r["error"] for r in records)
    assert not any(r["status"] == "failed" for r in records), [r["error"] for r in records]
    assert "device lost" not in (session_json.parent / "log.txt").read_text()


# 4. ---------------------------------------------------------------------- full disk


def test_a_full_disk_fails_the_session_with_one_line_and_the_reason(tiny, bench_models, tmp_path, monkeypatch):
    from fermbench import fileio
    from fermbench.store import writer

    real = writer.atomic_write_text

    def full(path, text):
        if "/samples/" in str(path):  # the disk fills up when the first raw samples are written
            raise fileio.storage_error(Path(path), OSError(errno.ENOSPC, "No space left on device"))
        return real(path, text)

    monkeypatch.setattr(writer, "atomic_write_text", full)
    settings = tiny(devices=("host",), models=("shallow_cnn", "deep_cnn"), untrained=True)
    with pytest.raises(StorageError, match=r"cannot write .*samples.*: no space left on the device \(.* MB free"):
        run_benchmark(settings, out=tmp_path / "results", model_dir=bench_models)
    (session,) = (tmp_path / "results").iterdir()
    info = json.loads((session / "session.json").read_text())
    assert info["status"] == "failed" and "no space left" in info["error"]
    assert not list(session.rglob("*.tmp")), "nothing half-written"


def test_full_disk_through_the_cli_is_one_line(bench_models, tmp_path, monkeypatch):
    from fermbench import fileio
    from fermbench.store import writer

    def full(path, text):
        raise fileio.storage_error(Path(path), OSError(errno.ENOSPC, "No space left on device"))

    monkeypatch.setattr(writer, "atomic_write_text", full)
    result = CliRunner().invoke(
        main,
        [
            "run",
            "--device",
            "host",
            "--models",
            "shallow_cnn",
            "--untrained",
            "--iterations",
            "2",
            "--min-seconds",
            "0",
            "--out",
            str(tmp_path / "r"),
            "--quiet",
        ],
        env={"FERMBENCH_MODELS": str(bench_models)},
    )
    one_line_error(result, "no space left on the device")


# 6. ---------------------------------------------------------------------- user mistakes, one line


def test_a_truncated_session_json_is_one_line_for_report_and_resume(tmp_path):
    session = tmp_path / "20240101-000000-abcd"
    session.mkdir()
    (session / "session.json").write_text('{"schema_version": 2}')
    result = CliRunner().invoke(main, ["report", "--results", str(tmp_path), session.name])
    one_line_error(result, "session.json", "missing key(s)")
    result = CliRunner().invoke(main, ["run", "--resume", str(session), "--quiet"])
    one_line_error(result, "missing key(s)")


def test_a_samples_file_with_a_word_is_one_line(tiny, bench_models, tmp_path):
    outcome = run_benchmark(
        tiny(devices=("host",), models=("shallow_cnn",), untrained=True),
        out=tmp_path / "results",
        model_dir=bench_models,
    )
    (csv_path,) = (outcome.store.path / "samples").rglob("*.csv")
    csv_path.write_text("phase,index,ns\ntimed,0,fast\n")
    result = CliRunner().invoke(main, ["report", "--results", str(tmp_path / "results"), outcome.store.session_id])
    one_line_error(result, csv_path.name, "not a samples file")


def test_a_binary_config_file_is_one_line(tmp_path):
    cfg = tmp_path / "bench.toml"
    cfg.write_bytes(b"\xff\xfe\x00binary\x89PNG")
    result = CliRunner().invoke(main, ["run", "--device", "host", "--config", str(cfg)])
    one_line_error(result, "is not text")


# 7. ---------------------------------------------------------------------- states that told a story


def test_photos_none_of_which_is_readable_refuse_the_run(tmp_path):
    photos = tmp_path / "photos" / "happy"
    photos.mkdir(parents=True)
    (photos / "a.jpg").write_bytes(b"\xff\xd8 not a jpeg")
    (photos / "b.png").write_bytes(b"")
    result = CliRunner().invoke(
        main,
        [
            "run",
            "--device",
            "host",
            "--photos",
            str(tmp_path / "photos"),
            "--untrained",
            "--out",
            str(tmp_path / "r"),
            "--quiet",
        ],
    )
    one_line_error(result, "none of the 2 photos", "readable image")
    assert not (tmp_path / "r").exists()


def test_a_refused_resume_leaves_the_session_as_it_was(tiny, bench_models, tmp_path):
    outcome = run_benchmark(
        tiny(devices=("host",), models=("shallow_cnn",), untrained=True),
        out=tmp_path / "results",
        model_dir=bench_models,
    )
    path = outcome.store.path / "session.json"
    info = json.loads(path.read_text())
    info["status"] = "interrupted"
    info["settings"]["devices"] = ["no-such-phone-1234"]  # what the resume will try to open
    path.write_text(json.dumps(info))
    result = CliRunner().invoke(
        main, ["run", "--resume", str(outcome.store.path), "--quiet"], env={"FERMBENCH_MODELS": str(bench_models)}
    )
    assert result.exit_code == 1
    assert json.loads(path.read_text())["status"] == "interrupted"


def test_a_bogus_device_beside_the_host_is_an_error_and_nothing_is_written(adb_env, bench_models, tmp_path):
    result = CliRunner().invoke(
        main,
        [
            "run",
            "--device",
            "host",
            "--device",
            "no-such-phone-1234",
            "--models",
            "shallow_cnn",
            "--untrained",
            "--out",
            str(tmp_path / "r"),
            "--quiet",
        ],
        env={"FERMBENCH_MODELS": str(bench_models)},
    )
    one_line_error(result, "no-such-phone-1234")
    assert not (tmp_path / "r").exists()


def test_process_locks_release_when_the_owner_dies(tmp_path):
    path = tmp_path / "x.lock"
    holder = _hold(path, "a test")
    mine = ProcessLock(path, "me")
    assert not mine.try_acquire() and mine.owner().pid == holder.pid
    holder.kill()
    holder.wait()
    assert mine.try_acquire() and mine.previous.pid == holder.pid
    mine.release()


# 8. ---------------------------------------------------------------------- nothing left behind


@pytest.mark.adb
def test_no_adb_server_is_left_running_when_fermbench_started_it(adb_path, tiny, bench_models, tmp_path, monkeypatch):
    """ANDROID_ADB_SERVER_PORT names a port where no server runs: the simulated phone's session starts
    its own server there, and stops it (and removes its HOME) at the end."""
    from fermbench.device.adb_server import AdbServer, free_port

    port = free_port()
    monkeypatch.setenv("ANDROID_ADB_SERVER_PORT", str(port))
    monkeypatch.setenv("FERMBENCH_ADB", adb_path)
    probe = AdbServer(port=port, home=tmp_path / "probe-home", adb_path=adb_path)
    outcome = run_benchmark(
        tiny(devices=("sim",), models=("shallow_cnn",), untrained=True),
        out=tmp_path / "results",
        model_dir=bench_models,
    )
    assert outcome.status == "complete"
    assert probe.server_pids() == [], "fermbench left its adb server running"
    assert not [
        p
        for p in Path(os.environ.get("TMPDIR", "/tmp")).glob("fermbench-adb-*")
        if (p / ".fermbench-owner").is_file() and json.loads((p / ".fermbench-owner").read_text())["pid"] == os.getpid()
    ], "its HOME folder was left behind"
