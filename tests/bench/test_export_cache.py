"""Exports are reused only while the checkpoint, the target (runtime, quantisation, bytecode) and the
file itself match; a session measures its own link to the accepted file."""

from __future__ import annotations

import json

import pytest

from fermbench.bench.exports import ensure_export as _ensure
from fermbench.export.runtimes import DEFAULT_RUNTIME
from fermbench.store import Variant
from fermbench.zoo import build_model
from fermbench.zoo.checkpoint import save_checkpoint

pytestmark = pytest.mark.slow


LITE = Variant("shallow_cnn", DEFAULT_RUNTIME, "fp32")


def ensure_export(name, checkpoints, out_dir, bytecode=None):
    ckpt = checkpoints / f"{name}.ckpt"
    return _ensure(
        LITE,
        checkpoint=ckpt if ckpt.is_file() else None,
        private_dir=out_dir / "links",
        out_dir=out_dir,
        bytecode=bytecode,
    )


def test_cache_hits_and_misses(tmp_path):
    first = ensure_export("shallow_cnn", checkpoints=tmp_path, out_dir=tmp_path)
    assert not first.cached and first.meta["trained"] is False and first.meta["checkpoint_sha256"] is None
    again = ensure_export("shallow_cnn", checkpoints=tmp_path, out_dir=tmp_path)
    assert again.cached and again.meta["sha256"] == first.meta["sha256"]

    # a checkpoint appears: the untrained export no longer matches
    save_checkpoint(tmp_path / "shallow_cnn.ckpt", "shallow_cnn", build_model("shallow_cnn", seed=5))
    trained = ensure_export("shallow_cnn", checkpoints=tmp_path, out_dir=tmp_path)
    assert not trained.cached and trained.meta["trained"] is True
    assert (
        trained.meta["checkpoint_sha256"]
        == json.loads((tmp_path / "shallow_cnn.json").read_text())["checkpoint"]["sha256"]
    )
    assert ensure_export("shallow_cnn", checkpoints=tmp_path, out_dir=tmp_path).cached

    # another bytecode target, then a file changed behind our back
    older = ensure_export("shallow_cnn", checkpoints=tmp_path, out_dir=tmp_path, bytecode=7)
    assert not older.cached and older.meta["bytecode_version"] == 7
    with open(tmp_path / "shallow_cnn.ptl", "ab") as fh:
        fh.write(b"tampered")
    fixed = ensure_export("shallow_cnn", checkpoints=tmp_path, out_dir=tmp_path, bytecode=7)
    assert not fixed.cached


def test_the_session_link_keeps_its_file_when_the_cache_is_replaced(tmp_path):
    first = ensure_export("shallow_cnn", checkpoints=tmp_path, out_dir=tmp_path)
    assert (
        first.path.parent == tmp_path / "links"
        and first.path.read_bytes() == (tmp_path / "shallow_cnn.ptl").read_bytes()
    )
    replacement = tmp_path / "other.ptl"
    replacement.write_bytes(b"another export")
    replacement.replace(tmp_path / "shallow_cnn.ptl")  # what a re-export's rename does
    assert __import__("hashlib").sha256(first.path.read_bytes()).hexdigest() == first.sha256
