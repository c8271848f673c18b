"""Sessions end to end through the real adb server and simulated phones, with injected faults.

Each test keeps its settings tiny (a few iterations, one or two models) so the file stays fast.
The adb server is the fixture's private one (ANDROID_ADB_SERVER_PORT), so `--device sim` and
serial devices alike go through it, and the fixture checks that no process is left behind.
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from fermbench.bench.session import Progress
from fermbench.bench.start import run_benchmark
from fermbench.errors import DeviceError
from fermbench.runner.protocol import PROTOCOL_VERSION, RUNNER_PACKAGE
from fermbench.sim.apk import make_apk_bytes
from fermbench.sim.state import Faults
from fermbench.store import load_sessions

pytestmark = [pytest.mark.adb, pytest.mark.slow]
MIB = 1 << 20


def runner_apk(path: Path) -> Path:
    """An APK-shaped runner the simulated phone installs, with native libraries for app size."""
    buf = io.BytesIO(make_apk_bytes(RUNNER_PACKAGE, version_code=PROTOCOL_VERSION, version_name="test"))
    with zipfile.ZipFile(buf, "a", zipfile.ZIP_DEFLATED) as z:
        z.writestr("lib/x86_64/libpytorch_jni_lite.so", os.urandom(200_000))
        z.writestr("lib/arm64-v8a/libpytorch_jni_lite.so", os.urandom(150_000))
    path.write_bytes(buf.getvalue())
    return path


@pytest.fixture
def runner_phone(make_sim_phone, adb_env, tmp_path):
    """make(identity=None, faults=None): a connected simulated phone with the runner installed."""
    apk = runner_apk(tmp_path / "runner.apk")

    def make(**kw):
        phone = make_sim_phone(**kw)
        adb_env.adb("-s", phone.serial, "install", str(apk))
        return phone

    return make


class Hook(Progress):
    """Calls `on_step(serial, model, phase)` as each phase starts: how tests time their faults."""

    def __init__(self, on_step):
        self.on_step = on_step

    def step(self, serial, model, phase):
        self.on_step(serial, model, phase)


def by_model(outcome):
    return {(r.device, r.model): r for r in outcome.records}


def test_full_session_on_sim_through_cli(adb_env, bench_models, fer_path, photo_dir, tmp_path, monkeypatch):
    from fermbench.cli import main

    monkeypatch.setenv("FERMBENCH_MODELS", str(bench_models))
    apk = runner_apk(tmp_path / "runner.apk")
    out = tmp_path / "results"
    result = CliRunner().invoke(
        main,
        [
            "run",
            "--device",
            "sim",
            "--models",
            "shallow_cnn,resnet9",
            "--warmup",
            "1",
            "--warmup-seconds",
            "0",
            "--iterations",
            "5",
            "--min-seconds",
            "0",
            "--cooldown-seconds",
            "0",
            "--seed",
            "3",
            "--fer-data",
            str(fer_path),
            "--fer-limit",
            "14",
            "--photos",
            str(photo_dir),
            "--apk",
            str(apk),
            "--install",
            "--out",
            str(out),
            "--quiet",
            "--untrained",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "complete" in result.output and "host CPU's" in result.output
    loaded = load_sessions(None, root=out)
    (session,) = loaded.sessions
    dev = session.info.devices["sim"]
    assert dev.kind == "sim" and "simulated" in dev.tags
    assert dev.runners["pytorch_lite"].protocol_version == PROTOCOL_VERSION
    assert dev.properties["adb_serial"].startswith("127.0.0.1:")
    assert len(session.records) == 2
    for rec in session.records:
        assert rec.status == "ok" and all(lat.summary.n >= 5 for lat in rec.latency)
        assert rec.accuracy.agreement == 1.0 and rec.accuracy.n == 14
        c = rec.realworld.counts
        assert (c.no_face, c.undecodable, c.classified) == (1, 1, 1)
        app = rec.appsize
        assert app.kind == "apk" and app.installed_bytes == apk.stat().st_size, app  # base.apk: no du on the sim
        assert app.apk_with_model_bytes > app.model_bytes + apk.stat().st_size - 1
        assert app.model_asset_offset % 4 == 0
        assert set(app.runtime_bytes_by_abi) == {"x86_64", "arm64-v8a"}
        assert rec.realworld.undecodable_photos == ["sad/broken.jpg"]
    timed = loaded.samples[loaded.samples.phase == "timed"]
    assert len(timed) == sum(lat.summary.n for rec in session.records for lat in rec.latency)


def test_resume_after_killed_session(adb_env, bench_models, tmp_path):
    """Kill a real `fermbench run` mid-session (SIGKILL), then --resume it to completion."""
    out = tmp_path / "results"
    env = {
        **os.environ,
        "FERMBENCH_MODELS": str(bench_models),
        "FERMBENCH_CACHE": str(tmp_path / "cache"),
        "ANDROID_ADB_SERVER_PORT": str(adb_env.port),
    }
    cmd = [
        sys.executable,
        "-m",
        "fermbench.cli",
        "run",
        "--device",
        "sim",
        "--models",
        "shallow_cnn,deep_cnn",
        "--repeats",
        "3",
        "--warmup",
        "1",
        "--warmup-seconds",
        "0",
        "--iterations",
        "5",
        "--min-seconds",
        "0.4",
        "--cooldown-seconds",
        "0",
        "--out",
        str(out),
        "--quiet",
        "--untrained",
    ]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 600  # only a hung run waits this out
        samples: list[Path] = []
        while time.monotonic() < deadline and len(samples) < 2 and proc.poll() is None:
            samples = sorted(out.glob("*/samples/sim/*.csv"))
            time.sleep(0.05)
        assert len(samples) >= 2, "the session never got going"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait(10)
    (session_dir,) = out.iterdir()
    # The repeats the killed run finished are those its records call ok: a samples file written
    # just before the kill may have no record yet (a busy machine widens that gap), and is redone.
    done_before = {
        lat["samples"]: (session_dir / lat["samples"]).stat().st_mtime_ns
        for rec in (session_dir / "records" / "sim").glob("*.json")
        for lat in json.loads(rec.read_text())["latency"]
        if lat["status"] == "ok"
    }
    assert done_before, "the first samples file's record was saved before the second was written"
    outcome = run_benchmark(None, resume=session_dir.name, out=out, model_dir=bench_models)
    assert outcome.status == "complete"
    for rel, mtime in done_before.items():  # finished repeats were not measured again
        assert (session_dir / rel).stat().st_mtime_ns == mtime
    records = load_sessions([session_dir]).sessions[0].records
    assert sum(len(r.latency) for r in records) == 6 and {r.status for r in records} == {"ok"}
    log = (session_dir / "log.txt").read_text()
    assert "session resumed" in log
    after = log.split("session resumed")[1]
    assert after.count("latency #") == 6 - len(done_before)


def test_disconnect_mid_push_is_retried(runner_phone, bench_models, tmp_path, tiny):
    phone = runner_phone()
    dropped = threading.Event()

    def watch():  # clear the fault once the phone has dropped off, so adb can bring it back
        while not dropped.is_set():
            if phone.faults.offline_after_bytes is not None and phone.connection_count() == 0:
                phone.set_faults(offline_after_bytes=None)
                dropped.set()
            time.sleep(0.005)

    def on_step(serial, model, phase):
        if model == "shallow_cnn" and phase.startswith("latency"):
            phone.set_faults(offline_after_bytes=8 * MIB)  # the 41 MB model is cut off mid-push
            threading.Thread(target=watch, daemon=True).start()

    settings = tiny(devices=(phone.serial,), models=("shallow_cnn",), reconnect_budget_seconds=30.0)
    outcome = run_benchmark(settings, out=tmp_path / "results", model_dir=bench_models, progress=Hook(on_step))
    assert dropped.is_set(), "the fault never fired"
    assert outcome.status == "complete", outcome.records[0]
    # the runner measured the complete file (its sha256 is checked against the export)
    assert outcome.records[0].latency[0].status == "ok"


def test_disconnect_mid_run_retries_the_phase(runner_phone, bench_models, tmp_path, tiny):
    phone = runner_phone()
    cuts = []

    def cut_later():  # once the runner runs (its timed phase alone lasts 1.5 s), however slow the machine
        while RUNNER_PACKAGE not in phone.state.processes:
            time.sleep(0.005)
        cuts.append(phone.connection_count())
        phone.drop_connections()

    def on_step(serial, model, phase):
        if serial == phone.serial and phase == "latency #1" and not cuts:
            threading.Thread(target=cut_later, daemon=True).start()

    settings = tiny(devices=(phone.serial,), models=("shallow_cnn",), min_seconds=1.5, reconnect_budget_seconds=30.0)
    outcome = run_benchmark(settings, out=tmp_path / "results", model_dir=bench_models, progress=Hook(on_step))
    assert cuts and cuts[0] > 0, "the link was never cut during the run"
    assert outcome.status == "complete"
    log = (outcome.store.path / "log.txt").read_text()
    assert "latency #1: retrying after the device came back" in log


def test_device_lost_past_budget_fails_it_alone(runner_phone, bench_models, tmp_path, tiny):
    good, bad = runner_phone(), runner_phone()

    def on_step(serial, model, phase):
        if serial == bad.serial and phase.startswith("latency"):
            bad.stop()  # gone for good

    settings = tiny(devices=(good.serial, bad.serial), models=("shallow_cnn",), reconnect_budget_seconds=2.0)
    outcome = run_benchmark(settings, out=tmp_path / "results", model_dir=bench_models, progress=Hook(on_step))
    assert outcome.status == "partial"
    recs = by_model(outcome)
    assert recs[(good.serial, "shallow_cnn")].status == "ok"
    lost = recs[(bad.serial, "shallow_cnn")]
    assert lost.status == "failed" and "did not come back within 2 s" in lost.error
    assert outcome.store.info.devices[bad.serial].status == "failed"


def test_disk_full(runner_phone, bench_models, tmp_path, tiny):
    phone = runner_phone(faults=Faults(disk_free_bytes=2 * MIB))
    settings = tiny(devices=(phone.serial,), models=("shallow_cnn",))
    with pytest.raises(DeviceError, match=r"space: 2\.1 MB free .*free space on the device"):
        run_benchmark(settings, out=tmp_path / "results", model_dir=bench_models)
    assert not (tmp_path / "results").exists(), "a refused session writes nothing"
    # Space runs out mid-session: that model fails with the reason, the other still runs.
    phone.set_faults(disk_free_bytes=None)

    def on_step(serial, model, phase):
        if serial == phone.serial:
            phone.set_faults(disk_free_bytes=MIB if model == "resnet9" else None)

    settings = tiny(devices=(phone.serial,), models=("shallow_cnn", "resnet9"))
    outcome = run_benchmark(settings, out=tmp_path / "results", model_dir=bench_models, progress=Hook(on_step))
    recs = by_model(outcome)
    assert recs[(phone.serial, "shallow_cnn")].status == "ok"
    failed = recs[(phone.serial, "resnet9")].latency[0]
    assert failed.status == "failed" and "no room for resnet9.ptl" in failed.error


@pytest.mark.parametrize("fault, message", [("runner_crash", "crashed"), ("runner_hang", "did not finish")])
def test_runner_crash_and_hang_fail_one_model(runner_phone, bench_models, tmp_path, tiny, fault, message):
    phone = runner_phone()

    def on_step(serial, model, phase):
        if serial == phone.serial:
            phone.set_faults(**{fault: model == "deep_cnn"})

    # The hang costs the whole timeout; the healthy model's calls must finish within it on a busy machine.
    settings = tiny(devices=(phone.serial,), models=("shallow_cnn", "deep_cnn"), timeout_seconds=10.0)
    outcome = run_benchmark(settings, out=tmp_path / "results", model_dir=bench_models, progress=Hook(on_step))
    assert outcome.status == "partial"
    recs = by_model(outcome)
    assert recs[(phone.serial, "shallow_cnn")].status == "ok"
    bad = recs[(phone.serial, "deep_cnn")]
    assert bad.status == "failed" and message in bad.latency[0].error
    assert bad.appsize.status == "ok", "later phases of the failed model still ran"


def test_unauthorized_device_is_refused_with_the_fix(make_sim_phone, adb_env, bench_models, tmp_path):
    from fermbench.cli import main

    phone = make_sim_phone(faults=Faults(unauthorized=True), states=("unauthorized",))
    result = CliRunner().invoke(
        main,
        [
            "run",
            "--device",
            phone.serial,
            "--models",
            "shallow_cnn",
            "--out",
            str(tmp_path / "results"),
            "--quiet",
            "--untrained",
        ],
        env={"FERMBENCH_MODELS": str(bench_models)},
    )
    assert result.exit_code == 1
    assert f"device {phone.serial}: unauthorized" in result.output
    assert "accept the 'Allow USB debugging?' prompt" in result.output


def test_two_devices_run_in_parallel(runner_phone, bench_models, tmp_path, tiny):
    a, b = runner_phone(), runner_phone()
    active: set[str] = set()
    overlap = threading.Event()
    lock = threading.Lock()

    class Watch(Progress):
        def step(self, serial, model, phase):
            with lock:
                active.add(serial)
                if len(active) == 2:
                    overlap.set()

        def done(self, serial, model, phase, status):
            if phase.startswith("appsize"):
                with lock:
                    active.discard(serial)

    settings = tiny(devices=(a.serial, b.serial), models=("shallow_cnn", "deep_cnn"), min_seconds=0.3)
    outcome = run_benchmark(settings, out=tmp_path / "results", model_dir=bench_models, progress=Watch())
    assert outcome.status == "complete"
    assert overlap.is_set(), "both devices were never busy at the same time"
    records = load_sessions([outcome.store.path]).sessions[0].records
    assert sorted({r.device for r in records}) == sorted([a.serial, b.serial]) and len(records) == 4
    orders = outcome.store.info.order
    assert set(orders) == {a.serial, b.serial}


def test_refused_device_is_recorded_and_the_other_runs(runner_phone, make_sim_phone, bench_models, tmp_path, tiny):
    good = runner_phone()
    bare = make_sim_phone()  # no runner installed
    locked = make_sim_phone(faults=Faults(unauthorized=True), states=("unauthorized",))
    settings = tiny(devices=(good.serial, bare.serial, locked.serial), models=("shallow_cnn",))
    outcome = run_benchmark(settings, out=tmp_path / "results", model_dir=bench_models)
    assert outcome.status == "partial"
    recs = by_model(outcome) | {(r.device, r.model): r for r in load_sessions([outcome.store.path]).sessions[0].records}
    assert recs[(good.serial, "shallow_cnn")].status == "ok"
    refused = recs[(bare.serial, "shallow_cnn")]
    assert refused.status == "failed" and "preflight refused the device" in refused.error
    assert "--apk PATH --install" in refused.error
    assert outcome.store.info.devices[bare.serial].status == "failed"
    assert "unauthorized" in recs[(locked.serial, "shallow_cnn")].error
    assert outcome.store.info.devices[locked.serial].status == "failed"
