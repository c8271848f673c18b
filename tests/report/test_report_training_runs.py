"""Training curves for the report: metrics.csv parsing, and attribution by identity only."""

from __future__ import annotations

import json
import os

import pytest

from fermbench.errors import ResultsError
from fermbench.report.training import METRIC_COLUMNS, load_training_run, summary_from_meta, training_for

HEADER = ",".join(METRIC_COLUMNS)


def write_run(root, run_id, model, rows, mtime=None, header=HEADER, data_hash="d1"):
    folder = root / "training" / run_id
    folder.mkdir(parents=True)
    (folder / "run.json").write_text(
        json.dumps(
            {
                "run_id": run_id,
                "model": model,
                "config": {"epochs": 20},
                "device": "cpu",
                "started": "2024-05-01T10:00:00",
                "data_hash": data_hash,
            }
        )
    )
    (folder / "metrics.csv").write_text("\n".join([header, *rows]) + "\n")
    if mtime is not None:
        os.utime(folder / "metrics.csv", (mtime, mtime))
    return folder


def row(epoch, loss):
    return f"{epoch},{loss},{loss + 0.1},{0.5 + epoch / 100},0.001,900,12.5"


def test_load_run_reads_curve_and_final_epoch(tmp_path):
    folder = write_run(tmp_path, "a", "shallow_cnn", [row(1, 1.5), row(2, 1.2), row(3, 1.0)])
    run = load_training_run(folder)
    assert run.model == "shallow_cnn" and run.epochs == (1, 2, 3) and run.planned_epochs == 20
    assert run.train_loss == (1.5, 1.2, 1.0) and run.val_loss == pytest.approx((1.6, 1.3, 1.1))
    final = run.final()
    assert (final.epochs, final.train_loss, final.val_acc) == (3, 1.0, pytest.approx(0.53))


def test_rewritten_epoch_keeps_the_last_row(tmp_path):
    run = load_training_run(write_run(tmp_path, "a", "m", [row(1, 2.0), row(2, 1.5), row(2, 1.4)]))
    assert run.epochs == (1, 2) and run.train_loss == (2.0, 1.4)


@pytest.mark.parametrize(
    "header, rows, message",
    [
        ("epoch,loss", [], "are not"),
        (HEADER, ["1,2,3"], "3 cells"),
        (HEADER, ["1,x,1,1,1,1,1"], "not a number"),
    ],
)
def test_bad_metrics_are_clear_errors(tmp_path, header, rows, message):
    write_run(tmp_path, "bad", "m", rows, header=header)
    with pytest.raises(ResultsError, match=message):
        load_training_run(tmp_path / "training" / "bad")
    meta = {"trained": True, "training": {"run_id": "bad"}}
    run, why = training_for("m", meta, tmp_path)
    assert run is None and message in why


def ckpt_meta(run_id, epochs=2, loss=1.2, data_hash="d1"):
    """What an older checkpoint's meta says about its run: the final epoch's figures only."""
    return {
        "trained": True,
        "training": {
            "run_id": run_id,
            "epochs": epochs,
            "train_loss": loss,
            "val_loss": loss + 0.1,
            "val_acc": 0.5 + epochs / 100,
            "data_hash": data_hash,
        },
    }


def test_the_curve_in_the_session_is_used_whatever_the_results_folder_holds(tmp_path):
    write_run(tmp_path, "r1", "shallow_cnn", [row(1, 9.0)])  # must not be used: the session has its own
    curve = [
        {
            "epoch": e,
            "train_loss": 1.0 / e,
            "val_loss": 1.1 / e,
            "val_acc": 0.5 + e / 100,
            "lr": 0.001,
            "images_per_s": 1.0,
            "wall_s": 1.0,
        }
        for e in (2, 1)
    ]
    meta = {"trained": True, "training": {"run_id": "r1", "curve": curve, "settings": {"data": {"val_count": 70}}}}
    run, why = training_for("shallow_cnn", meta, tmp_path)
    assert why is None and run.source == "session" and run.epochs == (1, 2) and run.val_count == 70
    assert run.train_loss == (1.0, 0.5)


def test_an_older_checkpoint_uses_the_run_it_names_only_when_it_is_that_run(tmp_path):
    write_run(tmp_path, "r1", "shallow_cnn", [row(1, 1.5), row(2, 1.2)])
    run, why = training_for("shallow_cnn", ckpt_meta("r1"), tmp_path)
    assert why is None and run.run_id == "r1" and run.epochs == (1, 2)
    # same name, other figures (a re-run over the folder): not the checkpoint's run
    run, why = training_for("shallow_cnn", ckpt_meta("r1", loss=0.7), tmp_path)
    assert run is None and "not its checkpoint's run" in why and "train_loss" in why
    run, why = training_for("shallow_cnn", ckpt_meta("r1", data_hash="other"), tmp_path)
    assert run is None and "data hash" in why
    run, why = training_for("shallow_cnn", ckpt_meta("gone"), tmp_path)
    assert run is None and "names training run gone, not found" in why


def test_never_the_latest_run_of_the_same_model(tmp_path):
    write_run(tmp_path, "new", "shallow_cnn", [row(1, 0.9)], mtime=2_000_000)
    run, why = training_for("shallow_cnn", {"trained": True, "training": {"epochs": 1}}, tmp_path)
    assert run is None and "names no training run" in why
    assert training_for("shallow_cnn", {"trained": False}, tmp_path) == (None, None)
    run, why = training_for("shallow_cnn", {"trained": True, "training": {"missing": "no curve: X"}}, tmp_path)
    assert run is None and why == "shallow_cnn: no curve: X"


def test_summary_from_checkpoint_meta():
    meta = {"training": {"run_id": "r1", "epochs": 20, "train_loss": 0.7, "val_loss": 1.0, "val_acc": 0.62}}
    s = summary_from_meta(meta)
    assert (s.run_id, s.epochs, s.val_acc) == ("r1", 20, 0.62)
    assert summary_from_meta({"trained": False}) is None


def test_validation_curves_name_the_precision_they_were_measured_in():
    from pathlib import Path

    from fermbench.report import charts
    from fermbench.report.training import TrainingRun as Run

    def run(model: str, info: dict) -> Run:
        return Run(f"{model}-r", model, Path("."), (1, 2), (1.0, 0.8), (1.1, 0.9), (0.4, 0.5), info=info)

    old_bf16 = run("resnet9", {"config": {"precision": "bf16"}})  # validated in its training precision then
    new = run("shallow_cnn", {"config": {"precision": "bf16"}, "val_precision": "fp32"})
    assert (old_bf16.val_precision, new.val_precision) == ("bf16", "fp32")
    fig = charts.training_chart({"resnet9": old_bf16, "shallow_cnn": new}, "val_loss", "Chart 2", "loss")
    subtitle = " ".join(t.get_text() for t in fig.texts) + fig.axes[0].get_title(loc="left")
    assert "resnet9 bf16 (the model ships in fp32)" in subtitle and "shallow_cnn fp32" in subtitle
