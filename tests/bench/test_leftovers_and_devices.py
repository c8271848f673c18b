"""Nothing fermbench starts outlives a crash (issue 22, items 3 and 4): adb servers, simulated
phones' folders and export staging carry an owner marker (pid + start time) and are stopped or
swept at the next start once their owner is dead; the local adb server fermbench starts has mDNS
off. Real processes, the real adb and `kill -9`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from fermbench.cli import main
from fermbench.device.adb_server import AdbServer, free_port
from fermbench.export.common import work_dir
from fermbench.tempdirs import MARKER, orphaned, process_start, sweep
from ports import free_block
from ports import udp_ports_of as _udp_ports_of

ROOT = Path(__file__).resolve().parents[2]


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    (tmp_path / "tmp").mkdir(exist_ok=True)
    return {
        **os.environ,
        "TMPDIR": str(tmp_path / "tmp"),
        "PYTHONPATH": str(ROOT / "harness"),
        "ADB_LIBUSB": "0",
        **extra,
    }


def _wait(predicate, timeout: float = 120, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def test_a_reused_pid_is_not_the_owner(tmp_path):
    folder = tmp_path / "fermbench-x-1"
    folder.mkdir()
    alive = os.getppid()  # alive, but it did not start at this time
    (folder / MARKER).write_text(json.dumps({"pid": alive, "start": (process_start(alive) or 0) + 1}))
    assert orphaned(folder)
    (folder / MARKER).write_text(json.dumps({"pid": alive, "start": process_start(alive)}))
    assert not orphaned(folder)


def test_export_staging_of_a_killed_export_is_swept_at_the_next_export(tmp_path):
    models = tmp_path / "models"
    killed = models / ".export-killed"
    killed.mkdir(parents=True)
    (killed / MARKER).write_text(json.dumps({"pid": _dead_pid()}))
    (killed / "shallow_cnn.ptl").write_bytes(b"x" * 1000)
    unmarked = models / ".export-someone"
    unmarked.mkdir()
    staging = work_dir(models)
    assert not killed.exists() and unmarked.exists()
    assert json.loads((staging / MARKER).read_text())["pid"] == os.getpid()  # its own is marked too


@pytest.mark.adb
@pytest.mark.slow
def test_kill9_of_a_sim_session_leaves_no_adb_server_or_folder_after_the_next_start(adb_path, bench_models, tmp_path):
    port = free_port()
    env = _env(
        tmp_path,
        ANDROID_ADB_SERVER_PORT=str(port),
        FERMBENCH_ADB=adb_path,
        FERMBENCH_MODELS=str(bench_models),
        FERMBENCH_CACHE=str(tmp_path / "cache"),
    )
    out = tmp_path / "results"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "fermbench.cli",
            "run",
            "--device",
            "sim",
            "--models",
            "shallow_cnn",
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
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    probe = AdbServer(port=port, home=tmp_path / "probe", adb_path=adb_path)
    try:

        def running() -> bool:
            assert proc.poll() is None, proc.stderr.read()
            found = list(out.glob("*/session.json")) if out.is_dir() else []
            return bool(found) and json.loads(found[0].read_text())["status"] == "running"

        _wait(running, what="the session to run")
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        tmp = tmp_path / "tmp"
        left = sorted(p.name.rsplit("-", 1)[0] for p in tmp.glob("fermbench-*"))
        assert "fermbench-sim" in left and "fermbench-adb" in left, left  # what kill -9 leaves
        (server,) = probe.server_pids()
        removed = sweep(tmp)  # what the next `fermbench run`, `sim`, `devices` or `doctor` does first
        assert {p.name.rsplit("-", 1)[0] for p in removed} >= {"fermbench-sim", "fermbench-adb"}
        _wait(lambda: probe.server_pids() == [], 10, "the orphaned adb server to stop")
        assert not list(tmp.glob("fermbench-sim-*")) and not list(tmp.glob("fermbench-adb-*"))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        probe.stop()


@pytest.mark.adb
def test_sim_count_3_killed_leaves_three_roots_that_the_next_start_sweeps(tmp_path):
    first = free_block(3)
    proc = subprocess.Popen(
        [sys.executable, "-m", "fermbench.cli", "sim", "--port", str(first), "--count", "3"],
        env=_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        lines = [proc.stdout.readline() for _ in range(6)]
        assert sum("listening as" in line for line in lines) == 3, lines
    finally:
        proc.kill()
        proc.wait()
    roots = list((tmp_path / "tmp").glob("fermbench-sim-*"))
    assert len(roots) == 3
    assert sorted(sweep(tmp_path / "tmp")) == sorted(roots)


@pytest.mark.adb
@pytest.mark.skipif(not Path("/proc/self/net/udp").is_file(), reason="needs Linux /proc to read sockets")
def test_the_local_adb_server_fermbench_starts_has_mdns_off(adb_path, tmp_path, monkeypatch):
    port = free_port()
    for key, value in _env(
        tmp_path, ANDROID_ADB_SERVER_PORT=str(port), FERMBENCH_ADB=adb_path, HOME=str(tmp_path)
    ).items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("ADB_MDNS", raising=False)
    probe = AdbServer(port=port, home=tmp_path / "probe", adb_path=adb_path)
    try:
        result = CliRunner().invoke(main, ["devices"])
        assert result.exit_code == 0, result.output
        (pid,) = probe.server_pids()
        environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        assert b"ADB_MDNS=0" in environ
        assert 5353 not in _udp_ports_of(pid)
    finally:
        probe.stop()


def test_an_adb_server_port_that_is_not_a_port_is_one_line(monkeypatch):
    from cli_checks import one_line_error

    monkeypatch.setenv("ANDROID_ADB_SERVER_PORT", "abc")
    one_line_error(CliRunner().invoke(main, ["devices"]), "ANDROID_ADB_SERVER_PORT='abc' is not a TCP port")
    monkeypatch.delenv("ANDROID_ADB_SERVER_PORT")
    one_line_error(CliRunner().invoke(main, ["devices", "--adb-port", "0"]), "--adb-port 0")


@pytest.mark.slow
def test_a_second_sigterm_while_stopping_still_ends_interrupted_with_130(bench_models, tmp_path):
    out = tmp_path / "results"
    env = _env(tmp_path, FERMBENCH_MODELS=str(bench_models), FERMBENCH_CACHE=str(tmp_path / "cache"))
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "fermbench.cli",
            "run",
            "--device",
            "host",
            "--models",
            "shallow_cnn",
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
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:

        def running() -> bool:
            assert proc.poll() is None, proc.stderr.read()
            found = list(out.glob("*/session.json")) if out.is_dir() else []
            return bool(found) and json.loads(found[0].read_text())["status"] == "running"

        _wait(running, what="the session to run")
        time.sleep(1.0)
        proc.send_signal(signal.SIGTERM)
        for _ in range(5):  # impatient: again and again while it winds down
            time.sleep(0.02)
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130 and "Traceback" not in err, err
    (info,) = [json.loads(p.read_text()) for p in out.glob("*/session.json")]
    assert info["status"] == "interrupted"


def test_a_device_named_twice_is_refused_before_anything_is_written(tmp_path):
    from cli_checks import one_line_error

    result = CliRunner().invoke(
        main, ["run", "--device", "host", "--device", "host", "--untrained", "--quiet", "--out", str(tmp_path / "r")]
    )
    one_line_error(result, "--device host is named twice")
    assert not (tmp_path / "r").exists()
