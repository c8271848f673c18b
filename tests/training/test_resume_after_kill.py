"""Kill -9 and Ctrl-C a real `fermbench train` process, resume it, and get the uninterrupted curve."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from child_signals import sigint_default
from fermbench.data.synthetic import write_folder

pytestmark = pytest.mark.slow
CURVE = ("epoch", "train_loss", "val_loss", "val_acc", "lr")
SETTINGS = [
    "--model",
    "shallow_cnn",
    "--epochs",
    "3",
    "--batch-size",
    "16",
    # fp32: bf16 trains about 3x slower on CPUs without AVX512-BF16, and resuming is the same code
    "--precision",
    "fp32",
    "--device",
    "cpu",
]


@pytest.fixture
def env(tmp_path):
    data = tmp_path / "fer"
    write_folder(data, {"Training": 70, "PublicTest": 21})
    e = dict(
        os.environ,
        FERMBENCH_RESULTS=str(tmp_path / "results"),
        FERMBENCH_MODELS=str(tmp_path / "models"),
        FERMBENCH_CACHE=str(tmp_path / "cache"),
        COLUMNS="100",
    )
    return e, data, tmp_path / "results" / "training"


def fermbench(*args: str) -> list[str]:
    return [sys.executable, "-m", "fermbench.cli", *args]


def curve(run_dir: Path) -> list[dict[str, str]]:
    with open(run_dir / "metrics.csv", newline="") as fh:
        return [{k: row[k] for k in CURVE} for row in csv.DictReader(fh)]


def wait_for_rows(run_dir: Path, n: int, proc: subprocess.Popen, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        path = run_dir / "metrics.csv"
        if path.is_file() and len(path.read_text().splitlines()) > n:
            return
        assert proc.poll() is None, f"training ended early: {proc.communicate()}"
        time.sleep(0.01)
    proc.kill()
    pytest.fail(f"no {n} metric rows within {timeout} s")


def test_kill_then_ctrl_c_then_resume(env):
    e, data, runs = env
    subprocess.run(
        fermbench(
            "train", *SETTINGS, "--data", str(data), "--run-id", "straight", "--checkpoint", str(runs / "straight.ckpt")
        ),
        env=e,
        check=True,
        capture_output=True,
    )
    want = curve(runs / "straight")
    assert len(want) == 3

    # kill -9 right after epoch 1 has been recorded
    proc = subprocess.Popen(
        fermbench("train", *SETTINGS, "--data", str(data), "--run-id", "hurt"),
        env=e,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_for_rows(runs / "hurt", 1, proc)
    proc.send_signal(signal.SIGKILL)
    assert proc.wait() == -signal.SIGKILL
    assert json.loads((runs / "hurt" / "run.json").read_text())["status"] == "running"  # it never knew

    # resume (settings come from run.json), then Ctrl-C after the next epoch
    proc = subprocess.Popen(
        fermbench("train", "--resume", "--run-id", "hurt"),
        env=e,
        preexec_fn=sigint_default,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    wait_for_rows(runs / "hurt", 2, proc)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 130, err
    assert "fermbench train --resume --run-id hurt" in err and "Traceback" not in err
    info = json.loads((runs / "hurt" / "run.json").read_text())
    assert info["status"] == "interrupted"

    # a bare --resume --model finds the latest unfinished run of that model
    done = subprocess.run(
        fermbench("train", "--resume", "--model", "shallow_cnn"), env=e, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert "run hurt" in done.stdout
    assert curve(runs / "hurt") == want
    info = json.loads((runs / "hurt" / "run.json").read_text())
    assert info["status"] == "finished" and len(info["resumed"]) == 2
    assert not [p for p in (runs / "hurt").iterdir() if p.name.endswith(".tmp")]
