"""Shared fixtures: a private adb server and simulated phones connected to it, a fake clock,
and the `--cpu-hog` option.

    def test_x(sim_phone, adb_server):            # one phone, connected, state "device"
        adb_server.adb("-s", sim_phone.serial, "shell", "echo hi")

    def test_y(make_sim_phone):                   # several, or custom identity / faults
        a = make_sim_phone(SimIdentity(model="A"))
        b = make_sim_phone(faults=Faults(unauthorized=True), states=("unauthorized",))

Tests that need adb skip with a reason where no adb binary exists. At teardown phones are
disconnected before they stop (adb keeps a restarted device offline otherwise), the server is
killed with `kill-server`, and a test fails if any process it started is still alive.

    def test_z(fake_clock):                       # time.sleep/monotonic of a harness module, faked
        clock = fake_clock("fermbench.bench.session")

`python3 -m pytest --cpu-hog` runs the suite with one busy process per core beside it for the
whole run: no test may depend on how busy the machine is (speed is measured in benchmarks/).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fermbench.device.adb_server import AdbServer, find_adb
from fermbench.sim.phone import SimPhone
from fermbench.sim.state import Faults, SimIdentity

# -- --cpu-hog ---------------------------------------------------------------------------------

# A busy loop that also ends by itself once pytest is gone (its parent changes), so a killed run
# leaves nothing spinning.
HOG_SOURCE = """
import os, sys
parent = int(sys.argv[1])
while os.getppid() == parent:
    for _ in range(100_000):
        pass
"""


class CpuHog:
    """One busy process per core available to this process, for the whole test session."""

    def __init__(self) -> None:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
        self.t0 = time.monotonic()
        self.procs = [subprocess.Popen([sys.executable, "-c", HOG_SOURCE, str(os.getpid())]) for _ in range(cores)]

    def summary(self) -> str:
        alive = sum(p.poll() is None for p in self.procs)
        busy = sum(_cpu_seconds(p.pid) for p in self.procs if p.poll() is None)
        line = (
            f"cpu-hog: {len(self.procs)} busy processes beside the tests for {time.monotonic() - self.t0:.0f} s "
            f"({busy:.0f} CPU-seconds spent spinning)"
        )
        return line if alive == len(self.procs) else line + f"; WARNING: only {alive} still running at the end"

    def stop(self) -> None:
        for p in self.procs:
            p.terminate()
        for p in self.procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


HOG_KEY = pytest.StashKey[CpuHog]()


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def pytest_addoption(parser):
    parser.addoption(
        "--cpu-hog",
        action="store_true",
        default=False,
        help="keep every core busy with one spinning process each for the whole run "
        "(the tests must pass on a busy machine as on a quiet one)",
    )


def pytest_configure(config):
    if config.getoption("cpu_hog"):
        hog = CpuHog()
        config.stash[HOG_KEY] = hog
        config.add_cleanup(hog.stop)


def pytest_terminal_summary(terminalreporter, config):
    hog = config.stash.get(HOG_KEY, None)
    if hog is not None:
        terminalreporter.write_line(hog.summary())


# -- a fake clock ---------------------------------------------------------------------------------


class FakeClock:
    """Stands in for the `time` module inside a harness module: sleep() moves the clock on at
    once and is recorded, so a test of a wait or a timed loop asserts exact durations that no
    load on the machine can change (and waits for nothing)."""

    def __init__(self) -> None:
        self.now_ns = 0
        self.sleeps: list[float] = []

    def advance(self, seconds: float) -> None:
        self.now_ns += int(round(seconds * 1e9))

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.advance(seconds)

    def perf_counter_ns(self) -> int:
        return self.now_ns

    def perf_counter(self) -> float:
        return self.now_ns / 1e9

    monotonic = perf_counter


@pytest.fixture
def fake_clock(monkeypatch):
    """`fake_clock("fermbench.bench.session", ...)`: one FakeClock as those modules' `time`."""

    def install(*modules: str) -> FakeClock:
        clock = FakeClock()
        for module in modules:
            monkeypatch.setattr(f"{module}.time", clock)
        return clock

    return install


# -- adb and simulated phones --------------------------------------------------------------------


def _children(pid: int) -> set[int]:
    """Live direct children of pid (Linux /proc; an empty set elsewhere)."""
    out = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        # fields[0] is the state, fields[1] the parent pid; zombies are already gone in effect
        if len(fields) > 1 and int(fields[1]) == pid and fields[0] != "Z":
            out.add(int(stat.parent.name))
    return out


@pytest.fixture(scope="session")
def adb_path() -> str:
    """The adb binary the tests use (FERMBENCH_ADB, adbutils' choice, or PATH)."""
    path = find_adb()
    if path is None:
        pytest.skip("no adb binary: install adbutils (it ships adb) or set FERMBENCH_ADB")
    return path


@pytest.fixture
def adb_server(adb_path: str):
    """A private adb server (own port, own HOME, ADB_LIBUSB=0): `.port`, `.adb(*args)`,
    `.connect(serial)`, `.devices()`. Killed at teardown; leftover processes fail the test."""
    before = _children(os.getpid())
    server = AdbServer(adb_path=adb_path).start()
    try:
        yield server
    finally:
        forced = server.stop()
    assert not forced, f"adb server on port {server.port} outlived kill-server (pids {forced})"
    left = _children(os.getpid()) - before
    assert not left, f"processes left behind by the test: {sorted(left)}"


@pytest.fixture
def make_sim_phone(adb_server: AdbServer):
    """Factory: `make_sim_phone(identity=None, faults=None, connect=True, states=("device",))`
    starts a phone and (by default) connects it, waiting for one of `states`."""
    phones: list[SimPhone] = []

    def make(
        identity: SimIdentity | None = None,
        faults: Faults | None = None,
        *,
        connect: bool = True,
        states: tuple[str, ...] = ("device",),
        root=None,
    ) -> SimPhone:
        phone = SimPhone(identity=identity, faults=faults, root=root).start()
        phones.append(phone)
        if connect:
            adb_server.connect(phone.serial, states=states)
        return phone

    yield make
    for phone in phones:
        try:
            adb_server.disconnect(phone.serial)
        except Exception:  # already gone (a test disconnected it): stopping is what matters
            pass
        phone.stop()


@pytest.fixture
def sim_phone(make_sim_phone) -> SimPhone:
    """One started simulated phone, connected to `adb_server` and in state "device"."""
    return make_sim_phone()


# -- a trained model -----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def trained_shallow_cnn(tmp_path_factory) -> Path:
    """A shallow_cnn checkpoint trained for 12 steps on synthetic images (near 90% on them): its
    predictions are confident, so int8 agreement with fp32 means something."""
    import torch
    from torch.nn import functional as F

    from fermbench.data.synthetic import make_images
    from fermbench.training.augment import normalize
    from fermbench.zoo import build_model
    from fermbench.zoo.checkpoint import save_checkpoint

    images, labels = make_images(384, seed=7)
    x, y = normalize(torch.from_numpy(images)), torch.from_numpy(labels)
    model = build_model("shallow_cnn", seed=0).train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    with torch.random.fork_rng():
        torch.manual_seed(0)
        for step in range(12):
            batch = slice(step * 32, step * 32 + 32)
            loss = F.cross_entropy(model(x[batch]), y[batch])
            opt.zero_grad()
            loss.backward()
            opt.step()
    test_images, test_labels = make_images(500, seed=1)
    with torch.no_grad():
        acc = (
            (model.eval()(normalize(torch.from_numpy(test_images))).argmax(1) == torch.from_numpy(test_labels))
            .float()
            .mean()
        )
    assert acc > 0.6, f"the fixture model did not learn the synthetic classes ({acc:.0%})"
    return save_checkpoint(
        tmp_path_factory.mktemp("ckpt") / "shallow_cnn.ckpt", "shallow_cnn", model, meta={"steps": 12}
    )


@pytest.fixture(scope="session")
def shallow_trained_by_cli(tmp_path_factory) -> Path:
    """A real 2-epoch `fermbench train` of shallow_cnn (run id cli-shallow) on 140 synthetic
    images: its root, holding models/shallow_cnn.ckpt and results/training/cli-shallow/. Read only."""
    from click.testing import CliRunner

    from fermbench.cli import main
    from fermbench.data.synthetic import write_folder

    root = tmp_path_factory.mktemp("trained-by-cli")
    write_folder(root / "fer", {"Training": 140, "PublicTest": 70})
    with pytest.MonkeyPatch.context() as mp:
        for var, sub in (
            ("FERMBENCH_RESULTS", "results"),
            ("FERMBENCH_MODELS", "models"),
            ("FERMBENCH_CACHE", "cache"),
        ):
            mp.setenv(var, str(root / sub))
        out = CliRunner().invoke(
            main,
            [
                "train",
                "--model",
                "shallow_cnn",
                "--data",
                str(root / "fer"),
                "--epochs",
                "2",
                "--batch-size",
                "64",
                "--device",
                "cpu",
                "--run-id",
                "cli-shallow",
            ],
        )
    assert out.exit_code == 0, out.output
    return root
