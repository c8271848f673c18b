"""A device farm: two real adb servers on private ports, each with simulated phones (issue 14).

Server A is the fixture's (the local one: ANDROID_ADB_SERVER_PORT names it, so its devices keep
their bare serials); server B is started here on its own port, so its devices are keyed
127.0.0.1:PORT/SERIAL. Settings are tiny (one or two models, the Lite runtime, a few iterations).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli_checks import one_line_error
from fermbench.bench.session import Progress
from fermbench.bench.start import run_benchmark
from fermbench.cli import main
from fermbench.device.adb_server import AdbServer, free_port
from fermbench.runner.protocol import PROTOCOL_VERSION, RUNNER_PACKAGE
from fermbench.sim.apk import make_apk_bytes
from fermbench.sim.phone import SimPhone
from fermbench.sim.state import SimIdentity
from fermbench.store import load_sessions

pytestmark = [pytest.mark.adb, pytest.mark.slow]


@dataclass
class TwoServers:
    a: AdbServer  # the local one (ANDROID_ADB_SERVER_PORT)
    b: AdbServer  # another, on its own port
    apk: Path
    phones: list[tuple[AdbServer, SimPhone]] = field(default_factory=list)

    def phone(self, server: AdbServer, identity: SimIdentity | None = None) -> SimPhone:
        """A simulated phone connected to `server`, with the Lite runner installed."""
        phone = SimPhone(identity=identity).start()
        self.phones.append((server, phone))
        server.connect(phone.serial)
        server.adb("-s", phone.serial, "install", str(self.apk))
        return phone

    def key(self, server: AdbServer, phone: SimPhone) -> str:
        return phone.serial if server is self.a else f"127.0.0.1:{server.port}/{phone.serial}"

    @property
    def servers(self) -> tuple[str, str]:
        return f"127.0.0.1:{self.a.port}", f"127.0.0.1:{self.b.port}"


@pytest.fixture
def two(adb_env, adb_path, tmp_path):
    apk = tmp_path / "runner.apk"
    apk.write_bytes(make_apk_bytes(RUNNER_PACKAGE, version_code=PROTOCOL_VERSION, version_name="test"))
    b = AdbServer(adb_path=adb_path).start()
    farm = TwoServers(adb_env, b, apk)
    try:
        yield farm
    finally:
        for server, phone in farm.phones:  # every link first: a phone may be on both servers
            if server.server_pids():  # not for a server a test killed (adb would start a new one)
                server.disconnect(phone.serial)
        for phone in {id(p): p for _, p in farm.phones}.values():
            phone.stop()
        assert not b.stop(), "server B outlived kill-server"


class Hook(Progress):
    def __init__(self, on_step):
        self.on_step = on_step

    def step(self, serial, model, phase):
        self.on_step(serial, model, phase)


def units_of(records) -> Counter:
    """(variant, phase, repeat) -> how many records hold it finished (ok, or skipped: no --fer-data)."""
    seen: Counter = Counter()
    for rec in records:
        for lat in rec.latency:
            assert lat.ok, lat.error
            seen[(rec.variant, "latency", lat.repeat)] += 1
        for phase in ("accuracy", "realworld", "appsize"):
            found = rec.phase(phase)
            if found is not None:
                assert found.status in ("ok", "skipped"), found.error
                seen[(rec.variant, phase, None)] += 1
    return seen


def test_devices_of_both_servers_listed_and_benchmarked_in_one_session(two, bench_models, tmp_path, tiny):
    a1, b1 = two.phone(two.a), two.phone(two.b)
    result = CliRunner().invoke(
        main, ["devices", "--adb-server", two.servers[0], "--adb-server", two.servers[1]], env={"COLUMNS": "250"}
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert any(two.servers[0] in line and a1.serial in line and "device" in line for line in lines), result.output
    assert any(two.servers[1] in line and b1.serial in line for line in lines), result.output

    settings = tiny(devices=("all",), adb_servers=two.servers, models=("shallow_cnn",))
    outcome = run_benchmark(settings, out=tmp_path / "results", model_dir=bench_models)
    assert outcome.status == "complete"
    info = outcome.store.info
    keys = {two.key(two.a, a1), two.key(two.b, b1)}
    assert set(info.devices) == keys and set(info.settings["devices"]) == {
        f"{two.servers[0]}/{a1.serial}",
        f"{two.servers[1]}/{b1.serial}",
    }
    assert info.adb_servers == list(two.servers) and info.adb_local_server == two.servers[0]
    assert info.devices[two.key(two.b, b1)].properties["adb_server"] == two.servers[1]
    session = load_sessions([outcome.store.path]).sessions[0]
    assert {r.device for r in session.records} == keys and all(r.status == "ok" for r in session.records)
    assert set(info.order) == keys  # without --shard, each device ran every unit itself
    assert (outcome.store.path / "samples" / f"127.0.0.1_{two.b.port}_127.0.0.1_{b1.port}").is_dir()

    from fermbench.report.results import build_report_data  # both devices, one model: a spread of the median
    from fermbench.report.tables import render_results

    data = build_report_data([outcome.store.path])
    (spread,) = {r.device_spread for r in data.results}
    assert spread.devices == tuple(sorted(keys))
    assert spread.medians_ms == tuple(r.latency.median / 1e6 for r in data.results)
    header = render_results(data, "csv").splitlines()[0].split(",")
    assert header[header.index("same_model_devices") :][:2] == ["same_model_devices", "device_spread"]
    text = render_results(data, "markdown")
    assert "2 devices" in text and "device-to-device spread" in text and f"{100 * spread.relative:.1f}" in text


def test_an_unreachable_server_is_skipped_with_its_reason(two, bench_models, tmp_path, tiny):
    a1 = two.phone(two.a)
    dead = f"127.0.0.1:{free_port()}"
    listener = socket.socket()  # accepts connections but does not speak adb
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    alien = f"127.0.0.1:{listener.getsockname()[1]}"

    def answer_nonsense():
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                conn.recv(64)
                conn.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n")

    threading.Thread(target=answer_nonsense, daemon=True).start()
    try:
        result = CliRunner().invoke(
            main,
            ["devices", "--adb-server", two.servers[0], "--adb-server", dead, "--adb-server", alien],
            env={"COLUMNS": "250"},
        )
    finally:
        listener.close()
    assert result.exit_code == 0, result.output
    assert a1.serial in result.output
    assert f"adb server {dead} does not answer" in result.output and "ssh -N -L" in result.output
    assert f"{alien} is not an adb server" in result.output
    doctor = CliRunner().invoke(main, ["doctor", "--adb-server", dead], env={"COLUMNS": "250"})
    assert doctor.exit_code == 1 and "does not answer" in doctor.output and "Traceback" not in doctor.output

    gone = f"{dead}/127.0.0.1:15555"
    settings = tiny(devices=(a1.serial, gone), adb_servers=(two.servers[0], dead), models=("shallow_cnn",))
    outcome = run_benchmark(settings, out=tmp_path / "results", model_dir=bench_models)
    assert outcome.status == "partial"
    info = outcome.store.info
    assert info.devices[gone].status == "failed" and f"adb server {dead} does not answer" in info.devices[gone].error
    recs = {(r.device, r.model): r for r in outcome.records}
    assert recs[(a1.serial, "shallow_cnn")].status == "ok"
    assert recs[(gone, "shallow_cnn")].status == "failed" and "does not answer" in recs[(gone, "shallow_cnn")].error
    assert f"adb server skipped: adb server {dead} does not answer" in (outcome.store.path / "log.txt").read_text()


@pytest.mark.parametrize("shard", [False, True], ids=["own-work", "shard"])
def test_a_server_killed_mid_session_loses_its_devices_and_the_rest_go_on(two, bench_models, tmp_path, tiny, shard):
    a1, b1 = two.phone(two.a), two.phone(two.b)
    b_key = two.key(two.b, b1)
    killed = []

    def on_step(serial, model, phase):
        if serial == b_key and phase.startswith("latency") and not killed:
            killed.append(two.b.stop())  # the farm host's adb server goes away

    settings = tiny(
        devices=(a1.serial, f"{two.servers[1]}/{b1.serial}"),
        adb_servers=two.servers,
        models=("shallow_cnn",),
        repeats=2,
        reconnect_budget_seconds=2.0,
        shard=shard,
    )
    outcome = run_benchmark(settings, out=tmp_path / "results", model_dir=bench_models, progress=Hook(on_step))
    assert killed, "server B was never killed"
    assert outcome.status == "partial"
    lost = outcome.store.info.devices[b_key]
    assert lost.status == "failed" and "did not come back within 2 s" in lost.error
    recs = {r.device: r for r in outcome.records}
    assert recs[a1.serial].status == "ok"
    if not shard:
        assert recs[b_key].status == "failed" and "did not come back within 2 s" in recs[b_key].error
    else:  # the unit B was running went back to the pool and A ran it: every unit ran once, and ok
        seen = units_of(load_sessions([outcome.store.path]).sessions[0].records)
        assert len(seen) == 2 + 3 and set(seen.values()) == {1}
        assert "latency #" not in " ".join(
            line
            for line in (outcome.store.path / "log.txt").read_text().splitlines()
            if f"[{b_key}]" in line and line.endswith(": ok")
        )


def test_shard_runs_each_unit_of_work_once_across_the_pool(two, bench_models, tmp_path, tiny):
    a1, a2, b1 = two.phone(two.a), two.phone(two.a), two.phone(two.b)
    keys = {a1.serial, a2.serial, two.key(two.b, b1)}
    settings = tiny(
        devices=("all",), adb_servers=two.servers, models=("shallow_cnn", "deep_cnn"), repeats=3, shard=True
    )
    outcome = run_benchmark(settings, out=tmp_path / "results", model_dir=bench_models)
    assert outcome.status == "complete"
    session = load_sessions([outcome.store.path]).sessions[0]
    seen = units_of(session.records)
    assert len(seen) == 2 * 3 + 2 * 3 and set(seen.values()) == {1}  # 6 latency repeats + 6 other phases, once each
    assert {r.status for r in session.records} == {"ok"} and {r.device for r in session.records} <= keys
    assert len({r.device for r in session.records}) >= 2, "one device ran the whole pool's work"
    samples = list((outcome.store.path / "samples").glob("*/*.csv"))
    assert len(samples) == 6
    taken = Counter(v for order in session.info.order.values() for repeat in order.values() for v in repeat)
    assert set(taken.values()) == {3}  # each variant once per repeat, over all devices

    # --shard over devices that are not identical: one line naming them, and nothing is written
    other = two.phone(two.b, SimIdentity(model="Galaxy S24"))
    before = set((tmp_path / "results").iterdir())
    result = CliRunner().invoke(
        main,
        [
            "run",
            "--adb-server",
            two.servers[0],
            "--adb-server",
            two.servers[1],
            "--device",
            a1.serial,
            "--device",
            other.serial,
            "--shard",
            "--models",
            "shallow_cnn",
            "--untrained",
            "--quiet",
            "--out",
            str(tmp_path / "results"),
        ],
        env={"FERMBENCH_MODELS": str(bench_models)},
    )
    one_line_error(result, "--shard needs identical devices", a1.serial, other.serial, "Galaxy S24")
    assert set((tmp_path / "results").iterdir()) == before


def test_bad_servers_and_ambiguous_serials_are_one_line_errors(two, bench_models):
    phone = two.phone(two.a)
    two.b.connect(phone.serial)  # the same phone on both servers
    two.phones.append((two.b, phone))
    run = ["run", "--models", "shallow_cnn", "--untrained", "--quiet"]
    env = {"FERMBENCH_MODELS": str(bench_models)}
    for bad in ("localhost", "127.0.0.1:0", "127.0.0.1:70000", "a/b:5037"):
        one_line_error(
            CliRunner().invoke(main, [*run, "--device", "host", "--adb-server", bad], env=env), repr(bad), "HOST:PORT"
        )
    one_line_error(CliRunner().invoke(main, ["devices", "--adb-server", "nonsense"]), "'nonsense'", "HOST:PORT")
    ambiguous = CliRunner().invoke(
        main, [*run, "--device", phone.serial, "--adb-server", two.servers[0], "--adb-server", two.servers[1]], env=env
    )
    one_line_error(ambiguous, phone.serial, two.servers[0], two.servers[1], "HOST:PORT/SERIAL")


def listening_addresses(pid: int) -> set[str]:
    """Local addresses of the TCP sockets a process listens on (Linux /proc), as hex from /proc/net/tcp*."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:  # closed meanwhile
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    found = set()
    for table in ("tcp", "tcp6"):
        for line in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
                found.add(fields[1].rsplit(":", 1)[0])
    return found


@pytest.mark.skipif(not Path("/proc/self/net/tcp").is_file(), reason="needs Linux /proc to read sockets")
def test_nothing_fermbench_starts_listens_beyond_loopback(two):
    phone = two.phone(two.b)
    two.b.adb("-s", phone.serial, "forward", "tcp:0", "tcp:7000")
    pids = [os.getpid(), *two.a.server_pids(), *two.b.server_pids()]
    addresses = set().union(*(listening_addresses(pid) for pid in pids))
    assert addresses, "found no listening socket at all"
    loopback = {"0100007F", "00000000000000000000000001000000"}  # 127.0.0.1, ::1
    assert addresses <= loopback, addresses


def test_resume_after_kill_9_completes_a_shared_session_across_both_servers(two, bench_models, tmp_path):
    a1, b1 = two.phone(two.a), two.phone(two.b)
    out = tmp_path / "results"
    env = {
        **os.environ,
        "FERMBENCH_MODELS": str(bench_models),
        "FERMBENCH_CACHE": str(tmp_path / "cache"),
        "ANDROID_ADB_SERVER_PORT": str(two.a.port),
    }
    cmd = [
        sys.executable,
        "-m",
        "fermbench.cli",
        "run",
        "--adb-server",
        two.servers[0],
        "--adb-server",
        two.servers[1],
        "--device",
        a1.serial,
        "--device",
        b1.serial,
        "--shard",
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
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        samples: list[Path] = []
        while time.monotonic() < deadline and len(samples) < 2 and proc.poll() is None:
            samples = sorted(out.glob("*/samples/*/*.csv"))
            time.sleep(0.05)
        assert len(samples) >= 2, proc.stderr.read() if proc.poll() is not None else "the session never got going"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait(10)
        proc.stderr.close()
    (session_dir,) = out.iterdir()
    assert json.loads((session_dir / "session.json").read_text())["status"] == "running"
    done_before = {p: p.stat().st_mtime_ns for p in session_dir.glob("samples/*/*.csv")}
    outcome = run_benchmark(None, resume=session_dir.name, out=out, model_dir=bench_models)
    assert outcome.status == "complete"
    for path, mtime in done_before.items():  # finished units were not run again, on either device
        assert path.stat().st_mtime_ns == mtime
    session = load_sessions([session_dir]).sessions[0]
    seen = units_of(session.records)
    assert len(seen) == 12 and set(seen.values()) == {1}
    assert {r.status for r in session.records} <= {"ok", "skipped"}
    assert len(list(session_dir.glob("samples/*/*.csv"))) == 6
    after = (session_dir / "log.txt").read_text().split("session resumed")[1]
    assert after.count("latency #") == 6 - len(done_before)
