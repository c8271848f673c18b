"""Exports are reused only while the checkpoint (a factory model's weights, code and spec), the
target (runtime, quantisation, bytecode), the int8 images and the file itself match; a session
measures its own link to the accepted file."""

from __future__ import annotations

import json
import sys

import pytest
import torch

from factory_models import write_factory
from fermbench.bench.exports import _same_calibration
from fermbench.bench.exports import ensure_export as _ensure
from fermbench.errors import ConfigError
from fermbench.export import own_samples
from fermbench.export.runtimes import DEFAULT_RUNTIME
from fermbench.store import Variant
from fermbench.zoo import build_model, resolve
from fermbench.zoo.checkpoint import save_checkpoint
from fermbench.zoo.spec import Preprocess

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


def test_a_factory_model_is_cached_by_its_weights_code_and_spec(tmp_path, monkeypatch):
    ref = write_factory(tmp_path, monkeypatch, module="cached_net")
    variant = Variant("rgb_net", DEFAULT_RUNTIME, "fp32")

    def ensure():
        return _ensure(
            variant, checkpoint=None, private_dir=tmp_path / "links", out_dir=tmp_path / "models", arch=resolve(ref)
        )

    first = ensure()
    assert not first.cached and first.meta["trained"] is None and first.meta["ref"] == ref
    assert ensure().cached

    sys.modules["cached_net"].SCALE = 2.0  # other weights from the same code
    heavier = ensure()
    assert not heavier.cached and heavier.meta["weights"]["sha256"] != first.meta["weights"]["sha256"]
    assert heavier.meta["code_sha256"] == first.meta["code_sha256"]
    assert ensure().cached

    write_factory(tmp_path, monkeypatch, module="cached_net", extra="# an edited comment\n")  # other code
    edited = ensure()
    assert not edited.cached and edited.meta["code_sha256"] != first.meta["code_sha256"]
    assert edited.meta["weights"] == first.meta["weights"]  # SCALE is 1.0 again in the file
    assert ensure().cached

    sys.modules["cached_net"].MEAN = (0.1, 0.2, 0.3)  # another spec: the runners normalise otherwise
    respec = ensure()
    assert not respec.cached and respec.meta["preprocess"]["mean"] == [0.1, 0.2, 0.3]
    assert respec.meta["weights"] == first.meta["weights"] and respec.meta["code_sha256"] == edited.meta["code_sha256"]
    assert ensure().cached


def test_int8_calibration_matches_by_the_sha256_of_the_pixels():
    images = torch.randint(0, 256, (60, 3, 8, 8), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    samples = own_samples(images, Preprocess(), "set")
    meta = {
        "calibration": {"sha256": samples.calibration.sha256},
        "agreement": {"sample": {"sha256": samples.agreement.sha256}},
    }
    assert _same_calibration(meta, samples)
    assert _same_calibration(meta, own_samples(images.clone(), Preprocess(), "another name, same pixels"))
    assert not _same_calibration(meta, own_samples(images, Preprocess(), "set", seed=1))  # another split
    assert not _same_calibration(meta, own_samples(255 - images, Preprocess(), "set"))
    assert not _same_calibration(meta, None)


def test_int8_of_a_factory_model_without_its_own_images_is_one_error(tmp_path, monkeypatch):
    ref = write_factory(tmp_path, monkeypatch)
    with pytest.raises(ConfigError, match="--quant int8 for rgb_net calibrates on images of its own kind"):
        _ensure(
            Variant("rgb_net", "executorch-1.4.1", "int8"),
            checkpoint=None,
            private_dir=tmp_path / "links",
            out_dir=tmp_path,
            fer_data="../shared/fer2013",
            arch=resolve(ref),
        )
