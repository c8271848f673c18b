"""Reading training runs for the report: metrics.csv parsing, which run is shown per model."""

from __future__ import annotations

import json
import os

import pytest

from fermbench.errors import ResultsError
from fermbench.report.training import (METRIC_COLUMNS, find_training_runs, load_training_run, pick_runs,
                                       summary_from_meta)

HEADER = ",".join(METRIC_COLUMNS)


def write_run(root, run_id, model, rows, mtime=None, header=HEADER):
    folder = root / "training" / run_id
    folder.mkdir(parents=True)
    (folder / "run.json").write_text(json.dumps({"run_id": run_id, "model": model, "config": {"epochs": 20},
                                                 "device": "cpu", "started": "2024-05-01T10:00:00"}))
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


@pytest.mark.parametrize("header, rows, message", [
    ("epoch,loss", [], "are not"),
    (HEADER, ["1,2,3"], "3 cells"),
    (HEADER, ["1,x,1,1,1,1,1"], "not a number"),
])
def test_bad_metrics_are_problems_not_crashes(tmp_path, header, rows, message):
    write_run(tmp_path, "bad", "m", rows, header=header)
    write_run(tmp_path, "good", "m", [row(1, 1.0)])
    runs, problems = find_training_runs(tmp_path)
    assert [r.run_id for r in runs] == ["good"]
    assert len(problems) == 1 and message in problems[0]
    with pytest.raises(ResultsError):
        load_training_run(tmp_path / "training" / "bad")


def test_latest_run_per_model_unless_the_checkpoint_names_one(tmp_path):
    write_run(tmp_path, "old", "shallow_cnn", [row(1, 1.0)], mtime=1_000_000)
    write_run(tmp_path, "new", "shallow_cnn", [row(1, 0.9)], mtime=2_000_000)
    write_run(tmp_path, "deep", "deep_cnn", [row(1, 0.8)], mtime=1_500_000)
    runs, _ = find_training_runs(tmp_path)
    assert {m: r.run_id for m, r in pick_runs(runs, {}).items()} == {"shallow_cnn": "new", "deep_cnn": "deep"}
    named = pick_runs(runs, {"shallow_cnn": {"training": {"run_id": "old"}}})
    assert named["shallow_cnn"].run_id == "old"
    # a named run that is absent (or of another model) falls back to the latest
    assert pick_runs(runs, {"shallow_cnn": {"training": {"run_id": "deep"}}})["shallow_cnn"].run_id == "new"


def test_summary_from_checkpoint_meta():
    meta = {"training": {"run_id": "r1", "epochs": 20, "train_loss": 0.7, "val_loss": 1.0, "val_acc": 0.62}}
    s = summary_from_meta(meta)
    assert (s.run_id, s.epochs, s.val_acc) == ("r1", 20, 0.62)
    assert summary_from_meta({"trained": False}) is None
