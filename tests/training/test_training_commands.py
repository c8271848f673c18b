"""`fermbench train` / `fermbench evaluate`: user mistakes are one-line errors; evaluate's numbers are right."""

from __future__ import annotations

import json

import pytest
import torch
from click.testing import CliRunner

from fermbench.cli import main
from fermbench.data.synthetic import write_csv
from fermbench.labels import NORM_MEAN, NORM_STD
from fermbench.zoo import build_model
from fermbench.zoo.checkpoint import save_checkpoint


@pytest.fixture(autouse=True)
def private_dirs(tmp_path, monkeypatch):
    for var, sub in (("FERMBENCH_RESULTS", "results"), ("FERMBENCH_MODELS", "models"), ("FERMBENCH_CACHE", "cache")):
        monkeypatch.setenv(var, str(tmp_path / sub))


def run(*args: str):
    return CliRunner().invoke(main, list(args))


@pytest.mark.parametrize(
    "args, message",
    [
        (["train", "--data", "x"], "--model is required"),
        (["train", "--model", "resnet18", "--data", "x"], "unknown model 'resnet18'"),
        (["train", "--model", "resnet9", "--data", "nowhere"], "dataset path nowhere does not exist"),
        (["train", "--model", "resnet9", "--data", "x", "--epochs", "0"], "--epochs must be at least 1"),
        (["train", "--resume"], "--resume needs --run-id"),
        (["train", "--resume", "--run-id", "nope"], "run nope does not exist"),
        (["train", "--resume", "--run-id", "../etc"], "not a plain name"),
        (["train", "--resume", "--run-id", "nope", "--epochs", "3"], "drop --epochs"),
        (["train", "--resume", "--model", "deep_cnn"], "no unfinished run of deep_cnn"),
        (["evaluate", "--data", "x"], "pass --checkpoint FILE or --model NAME"),
        (["evaluate", "--model", "resnet9", "--data", "x"], "resnet9.ckpt not found"),
    ],
)
def test_mistakes_are_one_line_errors(args, message):
    out = run(*args)
    assert out.exit_code == 1, out.output
    assert out.output.startswith("Error: ") and message in out.output
    assert "Traceback" not in out.output and out.output.count("\n") == 1


def test_evaluate_reports_the_models_own_predictions(tmp_path):
    data = write_csv(tmp_path / "fer2013.csv", {"PublicTest": 21})
    images, labels = data["PublicTest"]
    model = build_model("shallow_cnn", seed=3)
    ckpt = save_checkpoint(tmp_path / "m.ckpt", "shallow_cnn", model, meta={"config": {"precision": "fp32"}})
    out = run(
        "evaluate", "--checkpoint", str(ckpt), "--data", str(tmp_path / "fer2013.csv"), "--json", "--device", "cpu"
    )
    assert out.exit_code == 0, out.output
    got = json.loads(out.output)
    with torch.no_grad():
        x = (torch.from_numpy(images).float().unsqueeze(1) / 255 - NORM_MEAN) / NORM_STD
        logits = model(x)
    y = torch.from_numpy(labels)
    assert got["count"] == 21
    assert got["accuracy"] == pytest.approx((logits.argmax(1) == y).float().mean().item())
    assert got["mean_loss"] == pytest.approx(torch.nn.functional.cross_entropy(logits, y).item(), rel=1e-5)
    for true, row in enumerate(got["confusion"]):
        assert row == [int(((y == true) & (logits.argmax(1) == p)).sum()) for p in range(7)]

    table = run("evaluate", "--checkpoint", str(ckpt), "--data", str(tmp_path), "--device", "cpu")
    assert table.exit_code == 0 and f"accuracy {got['accuracy']:.4f}" in table.output


def test_evaluate_runs_in_fp32_by_default_whatever_the_training_precision(tmp_path):
    data = write_csv(tmp_path / "fer2013.csv", {"PublicTest": 21})
    images, labels = data["PublicTest"]
    model = build_model("shallow_cnn", seed=4)
    ckpt = save_checkpoint(tmp_path / "m.ckpt", "shallow_cnn", model, meta={"config": {"precision": "bf16"}})
    args = ("evaluate", "--checkpoint", str(ckpt), "--data", str(tmp_path / "fer2013.csv"), "--json", "--device", "cpu")
    got = json.loads(run(*args).output)
    with torch.no_grad():
        x = (torch.from_numpy(images).float().unsqueeze(1) / 255 - NORM_MEAN) / NORM_STD
        fp32_loss = torch.nn.functional.cross_entropy(model(x), torch.from_numpy(labels)).item()
    assert (got["precision"], got["trained_precision"]) == ("fp32", "bf16")
    assert got["mean_loss"] == pytest.approx(fp32_loss, rel=1e-6)
    bf16 = json.loads(run(*args, "--precision", "bf16").output)
    assert bf16["precision"] == "bf16" and abs(bf16["mean_loss"] - fp32_loss) > 2e-6 * fp32_loss
    table = run(*args[:-3], "--device", "cpu")
    assert "inference in fp32 (as exported models run), trained in bf16" in " ".join(table.output.split())
