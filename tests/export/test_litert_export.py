"""LiteRT export end to end: a file is accepted only after its gates pass, written atomically
beside its metadata; one study model (the smallest) exports to int8 on the recorded FER-2013 images."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fermbench.errors import ExportError
from litert_tiny import CumsumHead, TinyCnn, require_litert

require_litert()

from fermbench.export.fer_samples import fer_samples  # noqa: E402
from fermbench.export.litert.exporter import export_litert_module  # noqa: E402
from fermbench.export.models import model_and_identity  # noqa: E402

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared"
IDENTITY = {"arch": "tiny", "trained": False}


def test_fp32_export_writes_the_gated_file_and_its_metadata(tmp_path):
    result = export_litert_module(TinyCnn(), "tiny", tmp_path, IDENTITY)
    assert result.path == tmp_path / "tiny.fp32.tflite" and result.runtime == "litert-2.3.0"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny.fp32.tflite", "tiny.fp32.tflite.json"]
    meta = json.loads(result.json_path.read_text())
    assert meta["format"] == "tflite" and meta["quant"] == "fp32" and meta["litert-torch"] == "0.10.0"
    assert meta["max_abs_diff"] < meta["parity_tolerance"] and meta["delegation"]["reference"] == 0
    assert meta["bytes"] == result.path.stat().st_size
    assert meta["interface"]["input"] == {"shape": [1, 1, 48, 48], "dtype": "float32", "scale": 0.0, "zero_point": 0}


def test_a_failed_gate_leaves_no_file_behind(tmp_path):
    with pytest.raises(ExportError, match="CUMSUM runs on LiteRT's reference kernels"):
        export_litert_module(CumsumHead(), "cumsum", tmp_path, IDENTITY)
    assert list(tmp_path.iterdir()) == []  # neither the model nor the staging folder


def test_int8_without_images_and_an_unknown_quantisation_are_refused(tmp_path):
    with pytest.raises(ExportError, match="int8 export needs FER-2013 images"):
        export_litert_module(TinyCnn(), "tiny", tmp_path, IDENTITY, quant="int8")
    with pytest.raises(ExportError, match="unknown quantisation 'int4' for litert-2.3.0: choose one of fp32, int8"):
        export_litert_module(TinyCnn(), "tiny", tmp_path, IDENTITY, quant="int4")


@pytest.mark.slow
@pytest.mark.data
def test_shallow_cnn_int8_passes_agreement_on_the_recorded_fer_images(tmp_path):
    checkpoint, fer = SHARED / "weights" / "shallow_cnn.ckpt", SHARED / "fer2013"
    if not checkpoint.is_file() or not fer.is_dir():
        pytest.skip(f"needs {checkpoint} and {fer}")
    model, identity, _ = model_and_identity("shallow_cnn", checkpoint, False, 0)
    samples = fer_samples(fer)
    result = export_litert_module(model, "shallow_cnn", tmp_path, identity, quant="int8", samples=samples)
    meta = result.meta
    assert meta["agreement"]["top1_agreement"] >= 0.98 and meta["agreement"]["images"] == 1000
    assert meta["agreement"]["sample"]["sha256"] == samples.agreement.sha256  # the images the .pte gate reads
    assert meta["calibration"]["sha256"] == samples.calibration.sha256
    assert meta["delegation"]["reference"] == 0 and meta["interface"]["input"]["dtype"] == "int8"
    assert result.path.stat().st_size < 12_000_000  # int8 weights: about a quarter of the 41 MB fp32 file
