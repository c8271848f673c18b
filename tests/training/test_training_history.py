"""Checkpoints carry their training history: embedded by `fermbench train`, or, for checkpoints
written before that, read from their own run folder, accepted only when it is provably that run."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch

from fermbench.training.history import MissingHistory, TrainingHistory, training_history
from fermbench.training.run_folder import METRIC_COLUMNS, RunFolder
from fermbench.zoo.checkpoint import load_checkpoint

pytestmark = pytest.mark.slow
SHARED_WEIGHTS = Path(__file__).resolve().parents[2] / ".." / "shared" / "weights"
RUN_ID = "cli-shallow"  # the run id of tests/conftest.py's shallow_trained_by_cli


@pytest.fixture(scope="module")
def trained(shallow_trained_by_cli) -> Path:
    return shallow_trained_by_cli


@pytest.fixture(autouse=True)
def elsewhere(tmp_path, monkeypatch):
    """Lookups in results/training see an empty folder unless a test says otherwise."""
    monkeypatch.setenv("FERMBENCH_RESULTS", str(tmp_path / "no-results"))


def legacy_copy(trained: Path, dest: Path, *, with_run: bool = True) -> Path:
    """The trained checkpoint as fermbench wrote it before histories were embedded: meta with the
    run id and final figures only; its run folder beside it under runs/ (unless with_run=False)."""
    payload = torch.load(trained / "models" / "shallow_cnn.ckpt", weights_only=True)
    payload["meta"] = {k: v for k, v in payload["meta"].items() if k not in ("curve", "settings")}
    dest.mkdir(parents=True, exist_ok=True)
    torch.save(payload, dest / "shallow_cnn.ckpt")
    if with_run:
        shutil.copytree(trained / "results" / "training" / RUN_ID, dest / "runs" / RUN_ID)
    return dest / "shallow_cnn.ckpt"


def test_train_embeds_the_curve_and_the_run_settings(trained):
    path = trained / "models" / "shallow_cnn.ckpt"
    history = training_history(load_checkpoint(path), path)
    assert isinstance(history, TrainingHistory) and history.source == "checkpoint" and history.run_id == RUN_ID
    rows = RunFolder(trained / "results" / "training" / RUN_ID).read_metrics()
    assert [r.epoch for r in history.curve] == [1, 2]
    for got, want in zip(history.curve, rows):  # the csv keeps 6 digits, the checkpoint every bit
        assert got.to_dict() == pytest.approx(want, rel=1e-5)
    info = json.loads((trained / "results" / "training" / RUN_ID / "run.json").read_text())
    s = history.settings
    assert s["run_id"] == RUN_ID and s["config"] == info["config"] and s["config"]["batch_size"] == 64
    assert s["data"]["train_digest"] == info["data"]["train_digest"] and s["data_hash"] == info["data_hash"]
    assert s["device"].startswith("cpu") and s["torch"] == torch.__version__
    assert set(history.to_dict()["curve"][0]) == set(METRIC_COLUMNS)


def test_legacy_checkpoint_reads_its_curve_from_the_run_folder_beside_it(trained, tmp_path):
    path = legacy_copy(trained, tmp_path / "weights")
    ckpt = load_checkpoint(path)
    assert "curve" not in ckpt.meta  # really the old format
    history = training_history(ckpt, path)
    assert isinstance(history, TrainingHistory), history
    assert history.source == f"run folder {tmp_path / 'weights' / 'runs' / RUN_ID}"
    assert [r.epoch for r in history.curve] == [1, 2] and history.settings["run_id"] == RUN_ID
    assert history.curve[-1].val_acc == pytest.approx(ckpt.meta["val_acc"], rel=1e-5)


def test_legacy_checkpoint_finds_its_run_where_train_keeps_runs(trained, tmp_path, monkeypatch):
    path = legacy_copy(trained, tmp_path / "weights", with_run=False)
    monkeypatch.setenv("FERMBENCH_RESULTS", str(trained / "results"))
    history = training_history(load_checkpoint(path), path)
    assert isinstance(history, TrainingHistory)
    assert history.source == f"run folder {trained / 'results' / 'training' / RUN_ID}"


def test_legacy_checkpoint_without_its_run_folder_says_so_by_name(trained, tmp_path):
    path = legacy_copy(trained, tmp_path / "weights", with_run=False)
    history = training_history(load_checkpoint(path), path)
    assert isinstance(history, MissingHistory)
    assert history.reason.startswith(
        f"no training curve: checkpoint names run {RUN_ID}, not found beside it in {tmp_path / 'weights' / 'runs'}"
    )


@pytest.mark.parametrize(
    "change, why",
    [
        (lambda info: info["final"].update(val_acc=info["final"]["val_acc"] + 0.01), "final val_acc"),
        (lambda info: info.update(data_hash="0" * 64), "data hash differs"),
        (lambda info: info["final"].update(epoch=3), "final epoch 3, checkpoint's 2"),
    ],
)
def test_a_run_folder_with_other_figures_is_not_attributed(trained, tmp_path, change, why):
    path = legacy_copy(trained, tmp_path / "weights")
    run_json = tmp_path / "weights" / "runs" / RUN_ID / "run.json"
    info = json.loads(run_json.read_text())
    change(info)
    run_json.write_text(json.dumps(info))
    history = training_history(load_checkpoint(path), path)
    assert isinstance(history, MissingHistory)
    assert f"run folder {run_json.parent} is not the checkpoint's run" in history.reason and why in history.reason


def test_a_run_folder_whose_curve_stops_early_is_not_attributed(trained, tmp_path):
    path = legacy_copy(trained, tmp_path / "weights")
    metrics = tmp_path / "weights" / "runs" / RUN_ID / "metrics.csv"
    metrics.write_text("".join(metrics.read_text().splitlines(keepends=True)[:2]))  # header + epoch 1
    history = training_history(load_checkpoint(path), path)
    assert (
        isinstance(history, MissingHistory) and "metrics.csv does not end at the checkpoint's epoch" in history.reason
    )


@pytest.mark.parametrize("model, run_id", [("shallow_cnn", "shallow-cpu-bf16"), ("deep_cnn", "deep-cpu-bf16")])
def test_shared_checkpoints_resolve_with_their_curves(model, run_id):
    path = SHARED_WEIGHTS / f"{model}.ckpt"
    if not path.is_file():
        pytest.skip(f"needs the trained weights at {path} (absent)")
    ckpt = load_checkpoint(path)
    history = training_history(ckpt, path)
    assert isinstance(history, TrainingHistory), history
    assert history.run_id == run_id and history.source == f"run folder {SHARED_WEIGHTS / 'runs' / run_id}"
    assert [r.epoch for r in history.curve] == list(range(1, ckpt.meta["epochs"] + 1))
    assert history.curve[-1].val_acc == pytest.approx(ckpt.meta["val_acc"], rel=1e-5)
    assert history.settings["config"] == ckpt.meta["config"] and history.settings["data_hash"] == ckpt.meta["data_hash"]
