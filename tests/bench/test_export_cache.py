"""Exports are reused only while the checkpoint, the bytecode target and the file itself match."""

from __future__ import annotations

import json

import pytest

from fermbench.bench.exports import ensure_export
from fermbench.zoo import build_model
from fermbench.zoo.checkpoint import save_checkpoint

pytestmark = pytest.mark.slow


def test_cache_hits_and_misses(tmp_path):
    first = ensure_export("shallow_cnn", checkpoints=tmp_path, out_dir=tmp_path)
    assert not first.cached and first.meta["trained"] is False and first.meta["checkpoint_sha256"] is None
    again = ensure_export("shallow_cnn", checkpoints=tmp_path, out_dir=tmp_path)
    assert again.cached and again.meta["sha256"] == first.meta["sha256"]

    # a checkpoint appears: the untrained export no longer matches
    save_checkpoint(tmp_path / "shallow_cnn.ckpt", "shallow_cnn", build_model("shallow_cnn", seed=5))
    trained = ensure_export("shallow_cnn", checkpoints=tmp_path, out_dir=tmp_path)
    assert not trained.cached and trained.meta["trained"] is True
    assert trained.meta["checkpoint_sha256"] == json.loads(
        (tmp_path / "shallow_cnn.json").read_text())["checkpoint"]["sha256"]
    assert ensure_export("shallow_cnn", checkpoints=tmp_path, out_dir=tmp_path).cached

    # another bytecode target, then a file changed behind our back
    older = ensure_export("shallow_cnn", checkpoints=tmp_path, out_dir=tmp_path, bytecode=7)
    assert not older.cached and older.meta["bytecode_version"] == 7
    with open(tmp_path / "shallow_cnn.ptl", "ab") as fh:
        fh.write(b"tampered")
    fixed = ensure_export("shallow_cnn", checkpoints=tmp_path, out_dir=tmp_path, bytecode=7)
    assert not fixed.cached
