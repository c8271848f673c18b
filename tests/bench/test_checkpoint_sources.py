"""Weights from a folder, verified: which checkpoint serves which model, and every way a
--checkpoints folder or a checkpoint can be wrong (one line, exit 1, never random weights)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from fermbench.bench.checkpoints import resolve_checkpoints
from fermbench.cli import main
from fermbench.errors import ConfigError
from fermbench.fileio import sha256_file
from fermbench.training.history import TrainingHistory

pytestmark = pytest.mark.slow
RUN_ID = "cli-shallow"  # the run id of tests/conftest.py's shallow_trained_by_cli
SHARED_WEIGHTS = Path(__file__).resolve().parents[2] / ".." / "shared" / "weights"
TINY = [
    "--warmup",
    "1",
    "--warmup-seconds",
    "0",
    "--iterations",
    "5",
    "--min-seconds",
    "0",
    "--cooldown-seconds",
    "0",
    "--seed",
    "1",
    "--quiet",
]


@pytest.fixture(scope="module")
def trained(shallow_trained_by_cli) -> Path:
    return shallow_trained_by_cli


@pytest.fixture(autouse=True)
def private_dirs(tmp_path, monkeypatch):
    for var, sub in (("FERMBENCH_RESULTS", "results"), ("FERMBENCH_MODELS", "models"), ("FERMBENCH_CACHE", "cache")):
        monkeypatch.setenv(var, str(tmp_path / sub))


def folder_with(tmp_path: Path, trained: Path, **files: str) -> Path:
    """A checkpoints folder: name=<what> puts <name>.ckpt there, where <what> is "shallow" (the
    trained shallow_cnn, whatever the name says), "truncated" (its first half) or "legacy" (its old
    format: no embedded history, the run folder beside it under runs/)."""
    folder = tmp_path / "weights"
    folder.mkdir(exist_ok=True)
    good = trained / "models" / "shallow_cnn.ckpt"
    for name, what in files.items():
        dest = folder / f"{name}.ckpt"
        if what == "shallow":
            shutil.copy(good, dest)
        elif what == "truncated":
            dest.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
        elif what == "legacy":
            payload = torch.load(good, weights_only=True)
            payload["meta"] = {k: v for k, v in payload["meta"].items() if k not in ("curve", "settings")}
            torch.save(payload, dest)
            shutil.copytree(trained / "results" / "training" / RUN_ID, folder / "runs" / RUN_ID)
    return folder


def one_line_error(args: list[str], message: str) -> None:
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1, result.output
    lines = [
        line for line in result.output.splitlines() if line.strip()
    ]  # `run`'s progress display ends with a blank line
    assert len(lines) == 1 and lines[0].startswith("Error: ") and message in lines[0], result.output


def test_each_model_gets_its_checked_file_or_random_weights_when_allowed(trained, tmp_path):
    folder = folder_with(tmp_path, trained, shallow_cnn="shallow", deep_cnn="shallow", resnet9="truncated")
    sources = resolve_checkpoints(["shallow_cnn", "deep_cnn", "resnet9"], folder, False, tmp_path / "unused")
    good = sources["shallow_cnn"]
    assert good.trained and good.arch == "shallow_cnn" and good.sha256 == sha256_file(folder / "shallow_cnn.ckpt")
    assert good.lines() == [
        f"shallow_cnn: {folder / 'shallow_cnn.ckpt'} sha256 {good.sha256[:12]} (trained 2 epochs, run {RUN_ID})"
    ]
    assert isinstance(good.history, TrainingHistory) and len(good.history.curve) == 2
    wrong = sources["deep_cnn"]
    assert not wrong.trained and wrong.lines() == [
        f"deep_cnn: checkpoint {folder / 'deep_cnn.ckpt'} holds a shallow_cnn, not a deep_cnn: replace it with a "
        "deep_cnn checkpoint (`fermbench train --model deep_cnn`)"
    ]
    assert "truncated or not a fermbench checkpoint" in (sources["resnet9"].error or "")

    (folder / "resnet9.ckpt").unlink()
    untrained = resolve_checkpoints(["shallow_cnn", "resnet9"], folder, True, tmp_path / "unused")["resnet9"]
    assert not untrained.trained and untrained.error is None and "random weights" in untrained.lines()[0]


def test_default_folder_is_used_when_no_folder_is_named(trained, tmp_path):
    folder = folder_with(tmp_path, trained, shallow_cnn="shallow")
    sources = resolve_checkpoints(["shallow_cnn"], None, False, folder)
    assert sources["shallow_cnn"].trained
    with pytest.raises(ConfigError, match=r"no checkpoint for deep_cnn in .*weights: train it"):
        resolve_checkpoints(["shallow_cnn", "deep_cnn"], None, False, folder)


def test_mistyped_checkpoints_folder_is_an_error(tmp_path):
    one_line_error(
        [
            "run",
            "--device",
            "host",
            "--models",
            "shallow_cnn",
            "--untrained",
            "--checkpoints",
            str(tmp_path / "wieghts"),
        ],
        f"--checkpoints {tmp_path / 'wieghts'}: no such folder; pass the folder that holds",
    )


def test_checkpoints_folder_without_any_requested_model_is_an_error(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "other.ckpt").write_bytes(b"x")
    one_line_error(
        [
            "run",
            "--device",
            "host",
            "--models",
            "shallow_cnn,deep_cnn",
            "--untrained",
            "--checkpoints",
            str(tmp_path / "empty"),
        ],
        f"--checkpoints {tmp_path / 'empty'} holds none of shallow_cnn.ckpt, deep_cnn.ckpt; point it at",
    )


def test_a_model_without_checkpoint_stops_the_run_with_three_fixes(trained, tmp_path):
    folder = folder_with(tmp_path, trained, shallow_cnn="shallow")
    one_line_error(
        ["run", "--device", "host", "--models", "shallow_cnn,resnet9", "--checkpoints", str(folder)],
        f"no checkpoint for resnet9 in {folder}: train it (`fermbench train --model resnet9`), point "
        "--checkpoints at a folder that has resnet9.ckpt, or pass --untrained",
    )
    one_line_error(["run", "--device", "host", "--models", "deep_cnn"], "no checkpoint for deep_cnn in")


def test_export_of_another_architecture_is_an_error(trained, tmp_path):
    folder = folder_with(tmp_path, trained, deep_cnn="shallow")
    one_line_error(
        ["export", "deep_cnn", "--checkpoint", str(folder / "deep_cnn.ckpt"), "--out", str(tmp_path / "o")],
        f"checkpoint {folder / 'deep_cnn.ckpt'} holds a shallow_cnn, not a deep_cnn: pass a deep_cnn",
    )


def test_export_of_a_truncated_checkpoint_is_an_error(trained, tmp_path):
    folder = folder_with(tmp_path, trained, shallow_cnn="truncated")
    one_line_error(
        ["export", "shallow_cnn", "--checkpoint", str(folder / "shallow_cnn.ckpt"), "--out", str(tmp_path / "o")],
        f"checkpoint {folder / 'shallow_cnn.ckpt'} is truncated or not a fermbench checkpoint",
    )


def test_export_names_its_checkpoint_and_carries_the_history(trained, tmp_path):
    ckpt = trained / "models" / "shallow_cnn.ckpt"
    result = CliRunner().invoke(
        main, ["export", "shallow_cnn", "--checkpoint", str(ckpt), "--out", str(tmp_path / "o"), "--json"]
    )
    assert result.exit_code == 0, result.output
    assert f"shallow_cnn: {ckpt} sha256 {sha256_file(ckpt)[:12]} (trained 2 epochs, run {RUN_ID})\n" in result.stderr
    (meta,) = json.loads(result.stdout)
    training = meta["training"]
    assert training["source"] == "checkpoint" and training["run_id"] == RUN_ID
    assert [row["epoch"] for row in training["curve"]] == [1, 2] and training["settings"]["config"]["epochs"] == 2
    assert training["val_acc"] == training["curve"][-1]["val_acc"]  # the scalars stay beside the curve
    assert json.loads((tmp_path / "o" / "shallow_cnn.json").read_text())["training"] == training


def test_session_records_which_file_served_and_one_bad_checkpoint_fails_its_model_only(trained, tmp_path):
    folder = folder_with(tmp_path, trained, shallow_cnn="legacy", deep_cnn="shallow")
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main,
        [
            "run",
            "--device",
            "host",
            "--models",
            "shallow_cnn,deep_cnn",
            "--checkpoints",
            str(folder),
            "--out",
            str(out),
            *TINY,
        ],
    )
    assert result.exit_code == 0, result.output
    (session,) = [p for p in out.iterdir() if (p / "session.json").is_file()]
    info = json.loads((session / "session.json").read_text())
    assert info["status"] == "partial" and info["settings"]["untrained"] is False
    lite = "pytorch_android_lite-2.1.0/fp32"
    training = info["models"][f"shallow_cnn/{lite}"]["training"]
    assert training["source"] == f"run folder {folder / 'runs' / RUN_ID}" and len(training["curve"]) == 2
    assert info["models"][f"shallow_cnn/{lite}"]["checkpoint_sha256"] == sha256_file(folder / "shallow_cnn.ckpt")
    assert f"deep_cnn/{lite}" not in info["models"]
    wrong = f"checkpoint {folder / 'deep_cnn.ckpt'} holds a shallow_cnn, not a deep_cnn"
    deep = json.loads((session / "records" / "host" / "deep_cnn.pytorch_android_lite-2.1.0.fp32.json").read_text())
    assert deep["status"] == "failed" and wrong in deep["error"]
    shallow = json.loads(
        (session / "records" / "host" / "shallow_cnn.pytorch_android_lite-2.1.0.fp32.json").read_text()
    )
    assert shallow["status"] == "ok"
    log = (session / "log.txt").read_text()
    sha = sha256_file(folder / "shallow_cnn.ckpt")[:12]
    assert (
        f"[shallow_cnn] shallow_cnn: {folder / 'shallow_cnn.ckpt'} sha256 {sha} (trained 2 epochs, run {RUN_ID})" in log
    )
    assert f"[deep_cnn] deep_cnn: {wrong}" in log


def test_session_whose_only_checkpoint_is_truncated_fails(trained, tmp_path):
    folder = folder_with(tmp_path, trained, shallow_cnn="truncated")
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main,
        ["run", "--device", "host", "--models", "shallow_cnn", "--checkpoints", str(folder), "--out", str(out), *TINY],
    )
    assert result.exit_code == 1, result.output
    (session,) = [p for p in out.iterdir() if (p / "session.json").is_file()]
    record = json.loads((session / "records" / "host" / "shallow_cnn.pytorch_android_lite-2.1.0.fp32.json").read_text())
    assert record["status"] == "failed"
    assert f"checkpoint {folder / 'shallow_cnn.ckpt'} is truncated or not a fermbench checkpoint" in record["error"]


def test_shared_weights_serve_with_their_curves():
    if not (SHARED_WEIGHTS / "shallow_cnn.ckpt").is_file():
        pytest.skip(f"needs the trained weights in {SHARED_WEIGHTS} (absent)")
    sources = resolve_checkpoints(["shallow_cnn", "deep_cnn", "resnet9"], SHARED_WEIGHTS, True, Path("unused"))
    for model, run_id in (("shallow_cnn", "shallow-cpu-bf16"), ("deep_cnn", "deep-cpu-bf16")):
        src = sources[model]
        assert src.trained and src.sha256 == sha256_file(SHARED_WEIGHTS / f"{model}.ckpt")
        assert src.lines() == [
            f"{model}: {SHARED_WEIGHTS / f'{model}.ckpt'} sha256 {src.sha256[:12]} (trained 20 epochs, run {run_id})"
        ]
        assert isinstance(src.history, TrainingHistory) and len(src.history.curve) == 20
    # resnet9 has no weights there yet: random ones, as --untrained allows
    assert sources["resnet9"].trained == (SHARED_WEIGHTS / "resnet9.ckpt").is_file()
