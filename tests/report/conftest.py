"""Result sessions for the report tests: real ones produced by the real commands (no hand-written
numbers), and synthetic ones (the `synthetic` fixture) for every statistical verdict.

Once per test session, in a private folder (FERMBENCH_RESULTS/MODELS/CACHE point there):
  1. a small synthetic FER-shaped dataset (fermbench.data.synthetic) and, where ../shared/fer2013
     exists, a few photos made from its faces plus a blank and an undecodable one;
  2. `fermbench train` of shallow_cnn for 2 short epochs (training metrics + checkpoint);
  3. a corrupt resnet9 checkpoint, so that model fails at export (a partial session);
  4. `fermbench run --device host` over shallow_cnn (trained), deep_cnn (untrained), resnet9 (fails);
  5. `fermbench run --device sim` (through the real adb) over shallow_cnn, when adb exists.

Tests that need the run skip with the reason only while `fermbench run` itself is missing.
The real sessions' latencies depend on how busy the machine is: tests on them assert structure
and invariants only. A test that checks a verdict (faster/slower, spread and tail warnings)
builds its sessions from seeded samples with `synthetic.write_session` (synthetic_sessions.py).
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

FER = Path(__file__).resolve().parents[2] / ".." / "shared" / "fer2013"
FACE_FILES = ["test/happy/PublicTest_10130075.jpg", "test/happy/PublicTest_10181609.jpg"]
RUN_TIMEOUT_S = 900  # only a hung command waits this out; a busy machine may take minutes
# Tiny settings: enough samples for a distribution, little CPU on a shared 2-core machine.
RUN_OPTIONS = [
    "--warmup",
    "1",
    "--iterations",
    "30",
    "--min-seconds",
    "0",
    "--cooldown-seconds",
    "0",
    "--quiet",
    "--untrained",
]


@dataclass
class BenchSessions:
    root: Path  # the temp folder
    results: Path  # FERMBENCH_RESULTS
    env: dict[str, str]
    host: str  # session id of the host run
    sim: str | None  # session id of the sim run (None without adb)
    sim_skip_reason: str | None
    train_run: str


def run_cli(
    args: list[str], env: dict[str, str], cwd: Path, timeout: float = RUN_TIMEOUT_S
) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        [sys.executable, "-m", "fermbench.cli", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return proc


def _require_run_command() -> None:
    # `fermbench run` is part of the product: if it cannot be imported the report tests must fail, not skip.
    module = importlib.import_module("fermbench.bench.commands")
    assert hasattr(module, "run_cmd"), "fermbench.bench.commands has no run_cmd"


def _photos(root: Path) -> Path:
    import cv2

    photos = root / "photos"
    (photos / "happy").mkdir(parents=True)
    (photos / "sad").mkdir()
    for i, rel in enumerate(FACE_FILES):
        src = FER / rel
        if src.is_file():  # a FER face upscaled and framed: the cascade finds it
            gray = cv2.imread(str(src), cv2.IMREAD_GRAYSCALE)
            big = cv2.resize(gray, (192, 192), interpolation=cv2.INTER_CUBIC)
            cv2.imwrite(
                str(photos / "happy" / f"face{i}.png"),
                cv2.copyMakeBorder(big, 64, 64, 64, 64, cv2.BORDER_CONSTANT, value=128),
            )
    cv2.imwrite(str(photos / "sad" / "blank.png"), np.full((240, 240), 200, np.uint8))
    (photos / "sad" / "broken.jpg").write_bytes(b"\xff\xd8 not a jpeg")
    return photos


def _new_session(results: Path, before: set[str]) -> str:
    after = {p.name for p in results.iterdir() if (p / "session.json").is_file()}
    new = sorted(after - before)
    assert len(new) == 1, f"expected one new session in {results}, found {new}"
    return new[0]


def _sessions(results: Path) -> set[str]:
    return {p.name for p in results.iterdir() if (p / "session.json").is_file()} if results.is_dir() else set()


@pytest.fixture(scope="session")
def bench_sessions(tmp_path_factory) -> BenchSessions:
    _require_run_command()
    from fermbench.data.synthetic import write_folder

    root = tmp_path_factory.mktemp("report-bench")
    results = root / "results"
    env = {
        **os.environ,
        "FERMBENCH_RESULTS": str(results),
        "FERMBENCH_MODELS": str(root / "models"),
        "FERMBENCH_CACHE": str(root / "cache"),
        "HOME": str(root / "home"),
        "TMPDIR": str(root / "tmp"),
        "ANDROID_USER_HOME": str(root / "home" / ".android"),
        "ADB_LIBUSB": "0",
    }
    for d in ("home", "tmp"):
        (root / d).mkdir()
    data = root / "fer"
    write_folder(data, {"Training": 140, "PublicTest": 70})
    photos = _photos(root)

    train = run_cli(
        [
            "train",
            "--model",
            "shallow_cnn",
            "--data",
            str(data),
            "--epochs",
            "2",
            "--batch-size",
            "64",
            "--run-id",
            "report-shallow",
        ],
        env,
        root,
    )
    assert train.returncode == 0, f"fermbench train failed:\n{train.stdout}\n{train.stderr}"
    (root / "models" / "resnet9.ckpt").write_bytes(b"not a checkpoint")  # resnet9 fails at export

    common = [*RUN_OPTIONS, "--fer-data", str(data), "--fer-limit", "35", "--photos", str(photos)]
    before = _sessions(results)
    host = run_cli(["run", "--device", "host", "--models", "shallow_cnn,deep_cnn,resnet9", *common], env, root)
    if host.returncode not in (0, 1):
        pytest.fail(f"fermbench run --device host crashed ({host.returncode}):\n{host.stdout}\n{host.stderr}")
    host_id = _new_session(results, before)

    sim_id, sim_reason = None, None
    from fermbench.device.adb_server import find_adb

    if find_adb() is None:
        sim_reason = "no adb binary: the simulated phone needs one"
    else:
        before = _sessions(results)
        sim = run_cli(["run", "--device", "sim", "--models", "shallow_cnn", *common], env, root)
        assert sim.returncode == 0, f"fermbench run --device sim failed:\n{sim.stdout}\n{sim.stderr}"
        sim_id = _new_session(results, before)
    return BenchSessions(root, results, env, host_id, sim_id, sim_reason, "report-shallow")


def derived_copy(
    bench: BenchSessions, source: str, name: str, *, model_hash: dict[str, str] | None = None, status: str | None = None
) -> str:
    """A copy of a real session with a KNOWN change: a model's sha256 and/or the session status
    replaced. The copy keeps everything else, so the expected outcome is exact. It lies outside
    the results folder (so "latest" stays the real run); returns its path."""
    src = bench.results / source
    dst = bench.root / "derived" / name
    if dst.exists():
        shutil.rmtree(dst)
    shutil.copytree(src, dst)
    info = json.loads((dst / "session.json").read_text())
    info["session_id"] = name
    if status is not None:
        info["status"] = status
    for model, sha in (model_hash or {}).items():  # every variant of that model
        for key in [k for k in info["models"] if k.split("/")[0] == model]:
            info["models"][key]["sha256"] = sha
    (dst / "session.json").write_text(json.dumps(info))
    return str(dst)


@pytest.fixture(scope="session")
def derive(bench_sessions):
    """`derive(source, name, model_hash=..., status=...)` -> path of a derived copy (see derived_copy)."""
    return lambda source, name, **kw: derived_copy(bench_sessions, source, name, **kw)


@pytest.fixture(scope="session")
def synthetic():
    """The synthetic_sessions module: `synthetic.write_session(root, {model: samples_ns})` and
    `synthetic.lognormal_ns(seed, n, median_ms, sigma)`. Loaded by path: tests/ is no package."""
    path = Path(__file__).with_name("synthetic_sessions.py")
    spec = importlib.util.spec_from_file_location("synthetic_sessions", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
