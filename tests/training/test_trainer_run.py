"""A short real training run: its files, its checkpoint, and an in-process interrupt + resume."""

from __future__ import annotations

import csv
import json

import pytest
import torch

from fermbench.data.fer2013 import SplitData
from fermbench.data.synthetic import make_images
from fermbench.errors import ConfigError
from fermbench.training.config import TrainConfig
from fermbench.training.evaluate import evaluate
from fermbench.training.run_folder import METRIC_COLUMNS, RunFolder
from fermbench.training.trainer import SilentReporter, train
from fermbench.zoo.checkpoint import model_from_checkpoint

CURVE = ("epoch", "train_loss", "val_loss", "val_acc", "lr")  # what must replay exactly on resume


def split(name: str, n: int, seed: int) -> SplitData:
    images, labels = make_images(n, seed)
    return SplitData(
        name,
        torch.from_numpy(images),
        torch.from_numpy(labels),
        [f"row{i}" for i in range(n)],
        digest=f"{name}-{n}-{seed}",
    )


@pytest.fixture(autouse=True)
def private_dirs(tmp_path, monkeypatch):
    monkeypatch.setenv("FERMBENCH_RESULTS", str(tmp_path / "results"))
    monkeypatch.setenv("FERMBENCH_MODELS", str(tmp_path / "models"))


TRAIN, VAL = split("Training", 70, 0), split("PublicTest", 28, 1)
# bf16 + channels_last where a test is about bf16 (trained in bf16, validated in fp32). Elsewhere fp32:
# on a CPU without AVX512-BF16 (the 2-core sandbox) bf16 trains about 3x slower (2 epochs: 28 s, fp32 10 s).
CONFIG = TrainConfig("shallow_cnn", epochs=3, batch_size=16, precision="bf16", channels_last=True)
FP32 = TrainConfig("shallow_cnn", epochs=3, batch_size=16, precision="fp32")


def read_rows(run: RunFolder) -> list[dict[str, str]]:
    with open(run.metrics_csv, newline="") as fh:
        reader = csv.DictReader(fh)
        assert tuple(reader.fieldnames) == METRIC_COLUMNS
        return list(reader)


@pytest.mark.slow
def test_run_writes_curve_info_and_checkpoint(tmp_path):
    run = RunFolder.for_id("t-full")
    result = train(CONFIG, TRAIN, VAL, run, device="cpu", data_path="synthetic")
    rows = read_rows(run)
    assert [int(r["epoch"]) for r in rows] == [1, 2, 3]
    assert float(rows[-1]["val_acc"]) > 0.5  # chance is 1/7: it learned the planted bands
    assert float(rows[-1]["train_loss"]) < float(rows[0]["train_loss"])
    assert float(rows[-1]["lr"]) < float(rows[1]["lr"])  # one-cycle ends near zero
    info = json.loads(run.run_json.read_text())
    assert info["status"] == "finished" and info["epochs_done"] == 3
    assert not run.state_file.exists()  # resume state is dropped once the run is complete
    assert info["config"]["max_lr"] == 0.008 and info["torch"] == torch.__version__
    assert info["data"]["train_digest"] == TRAIN.digest and info["device"].startswith("cpu")

    model, ckpt = model_from_checkpoint(result.checkpoint)
    assert result.checkpoint == tmp_path / "models" / "shallow_cnn.ckpt"
    assert ckpt.meta["run_id"] == "t-full" and ckpt.meta["epochs"] == 3
    assert ckpt.meta["data_hash"] == info["data_hash"]
    # trained in bf16, validated in fp32 as the exported model runs, and run.json says so
    assert info["val_precision"] == "fp32"
    again = evaluate(model, VAL.images, VAL.labels, "PublicTest", torch.device("cpu"))
    assert again.accuracy == pytest.approx(float(rows[-1]["val_acc"]), abs=1e-6)
    assert again.mean_loss == pytest.approx(float(rows[-1]["val_loss"]), rel=1e-6)
    assert sum(map(sum, again.confusion)) == len(VAL)

    with pytest.raises(ConfigError, match="already exists"):
        train(CONFIG, TRAIN, VAL, run, device="cpu")


class StopAt(SilentReporter):
    """Presses Ctrl-C in the middle of an epoch."""

    def __init__(self, epoch: int):
        self.epoch_to_stop = epoch

    def batch(self, epoch, batch, running_loss):
        if epoch == self.epoch_to_stop and batch == 2:
            raise KeyboardInterrupt


@pytest.mark.slow
def test_interrupt_then_resume_gives_the_continuous_curve():
    straight = RunFolder.for_id("t-straight")
    train(FP32, TRAIN, VAL, straight, device="cpu")

    broken = RunFolder.for_id("t-broken")
    with pytest.raises(KeyboardInterrupt):
        train(FP32, TRAIN, VAL, broken, device="cpu", reporter=StopAt(2))
    assert json.loads(broken.run_json.read_text())["status"] == "interrupted"
    assert len(read_rows(broken)) == 1

    with pytest.raises(ConfigError, match="other settings"):
        train(
            TrainConfig("shallow_cnn", epochs=4, batch_size=16, precision="fp32"),
            TRAIN,
            VAL,
            broken,
            resume=True,
            device="cpu",
        )
    train(FP32, TRAIN, VAL, broken, resume=True, device="cpu")
    want = [{k: r[k] for k in CURVE} for r in read_rows(straight)]
    got = [{k: r[k] for k in CURVE} for r in read_rows(broken)]
    assert got == want
    info = json.loads(broken.run_json.read_text())
    assert info["status"] == "finished" and info["resumed"][0]["from_epoch"] == 2
