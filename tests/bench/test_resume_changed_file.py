"""--resume never mixes two model files in one record (issue 22, item 1): every phase names the
sha256 of the file it measured; a resume after the checkpoint changed is refused naming both
hashes, or re-measures that model from scratch with --remeasure-changed; a report leaves out
phases of another file."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from fermbench.bench.start import run_benchmark
from fermbench.errors import ConfigError
from fermbench.export.runtimes import DEFAULT_RUNTIME
from fermbench.store import Variant, load_session
from fermbench.zoo import build_model
from fermbench.zoo.checkpoint import save_checkpoint

pytestmark = pytest.mark.slow
V = Variant("shallow_cnn", DEFAULT_RUNTIME, "fp32")


def write_ckpt(folder: Path, seed: int) -> Path:
    torch.manual_seed(seed)
    return save_checkpoint(folder / "shallow_cnn.ckpt", "shallow_cnn", build_model("shallow_cnn"))


def interrupted_after_latency(tiny, tmp_path: Path):
    """A finished host session made to look killed after shallow_cnn's latency phase."""
    weights = tmp_path / "weights"
    write_ckpt(weights, seed=1)
    settings = tiny(devices=("host",), models=("shallow_cnn",), checkpoints=str(weights), untrained=False)
    first = run_benchmark(settings, out=tmp_path / "results", model_dir=tmp_path / "models")
    store = first.store
    rec = store.record("host", V)
    rec.appsize, rec.status = None, "running"
    store.save_record(rec)
    store.set_status("running")
    return store, weights, rec.latency[0].model_sha256


def test_resume_refuses_a_changed_checkpoint_naming_both_hashes(tiny, tmp_path):
    store, weights, old_sha = interrupted_after_latency(tiny, tmp_path)
    assert old_sha == store.info.models[V.key]["sha256"]  # the phase names the file it measured
    write_ckpt(weights, seed=2)  # what `fermbench train` does to models/<model>.ckpt
    with pytest.raises(ConfigError) as err:
        run_benchmark(None, resume=store.session_id, out=tmp_path / "results", model_dir=tmp_path / "models")
    message = str(err.value)
    assert old_sha in message and "--remeasure-changed" in message
    new_sha = [w for w in message.replace(";", " ").split() if len(w) == 64 and w != old_sha]
    assert new_sha, message  # the new file's hash is named too


def test_remeasure_changed_measures_the_model_again_from_scratch(tiny, tmp_path):
    store, weights, old_sha = interrupted_after_latency(tiny, tmp_path)
    write_ckpt(weights, seed=2)
    again = run_benchmark(
        None, resume=store.session_id, out=tmp_path / "results", model_dir=tmp_path / "models", remeasure_changed=True
    )
    assert again.status == "complete"
    rec = again.store.record("host", V)
    new_sha = again.store.info.models[V.key]["sha256"]
    assert new_sha != old_sha
    assert [lat.model_sha256 for lat in rec.latency] == [new_sha] and rec.appsize.model_sha256 == new_sha
    assert "every phase is measured again" in (store.path / "log.txt").read_text()


def test_untrained_resume_after_the_checkpoint_moved_away_is_refused(tiny, tmp_path):
    weights = tmp_path / "weights"
    write_ckpt(weights, seed=1)
    settings = tiny(devices=("host",), models=("shallow_cnn",), checkpoints=str(weights), untrained=True)
    store = run_benchmark(settings, out=tmp_path / "results", model_dir=tmp_path / "models").store
    rec = store.record("host", V)
    rec.appsize, rec.status = None, "running"
    store.save_record(rec)
    (weights / "shallow_cnn.ckpt").rename(tmp_path / "moved.ckpt")
    (weights / "keep.txt").write_text("")
    with pytest.raises(ConfigError, match="untrained"):
        run_benchmark(None, resume=store.session_id, out=tmp_path / "results", model_dir=tmp_path / "models")


def test_report_never_shows_two_files_in_one_row(tiny, bench_models, tmp_path):
    settings = tiny(devices=("host",), models=("shallow_cnn",))
    store = run_benchmark(settings, out=tmp_path / "results", model_dir=bench_models).store
    rec = store.record("host", V)
    rec.latency[0].model_sha256 = "0" * 64  # as if measured on another file
    store.save_record(rec)
    (loaded,) = load_session(store.path).records
    assert loaded.latency == [] and loaded.appsize is not None
    assert loaded.status == "failed" and "latency[0] measured another model file" in loaded.error
