"""Any model exports through the same gates as the study's: a tiny RGB net (1x3x32x32, five
classes) given as `module:factory` (tests/factory_models.py), to every runtime, fp32 and int8
calibrated on images of its own kind."""

from __future__ import annotations

import json

import pytest
import torch
from click.testing import CliRunner

from cli_checks import one_line_error
from factory_models import CLASSES, write_factory
from fermbench.cli import main
from fermbench.errors import ConfigError, ExportError
from fermbench.export import export_model, own_samples
from fermbench.export.fer_samples import FerSamples
from fermbench.export.samples import MIN_OWN_IMAGES, ImageSample, Samples, check_fits
from fermbench.training.augment import normalize
from fermbench.zoo import resolve
from fermbench.zoo.registry import count_macs
from fermbench.zoo.spec import Preprocess, spec_from_meta, weights_sha256

ET = "executorch-1.4.1"
LITE = "pytorch_android_lite-2.1.0"
PRE = Preprocess(mean=(0.5, 0.45, 0.4), std=(0.25, 0.25, 0.25))


def rgb_images(count: int, seed: int = 0) -> torch.Tensor:
    return torch.randint(0, 256, (count, 3, 32, 32), dtype=torch.uint8, generator=torch.Generator().manual_seed(seed))


@pytest.fixture
def ref(tmp_path, monkeypatch) -> str:
    return write_factory(tmp_path, monkeypatch)


# -- the samples ---------------------------------------------------------------------------------


def test_own_images_split_into_disjoint_calibration_and_agreement_halves():
    images = rgb_images(60)
    images[59] = images[0]  # a duplicate: never in both halves
    samples = own_samples(images.numpy(), PRE, "shapes", names=[f"img{i}.png" for i in range(60)])
    cal, agr = samples.calibration, samples.agreement
    assert (len(cal), cal.split, agr.split) == (30, "calibration", "agreement")
    assert set(cal.names).isdisjoint(agr.names) and len(cal) + len(agr) + agr.left_out == 60
    cal_digests = {bytes(i.numpy()) for i in cal.images}
    assert not any(bytes(i.numpy()) in cal_digests for i in agr.images)
    assert samples.image_shape == (3, 32, 32) and samples.min_agreement_images == MIN_OWN_IMAGES
    # recorded by the sha256 of the pixels; fed normalised per channel
    assert cal.sha256 == __import__("hashlib").sha256(cal.images.numpy().tobytes()).hexdigest()
    want = (cal.images.float() / 255 - torch.tensor(PRE.mean).view(1, 3, 1, 1)) / 0.25
    assert torch.allclose(cal.inputs(), want, atol=1e-6) and cal.inputs().shape == (30, 3, 32, 32)
    # the same images again: the same draw
    assert own_samples(images, PRE, "shapes").agreement.sha256 == agr.sha256


def test_too_few_own_images_and_images_of_another_size_are_refused():
    with pytest.raises(ConfigError, match=r"int8 needs at least 20 of each \(40 distinct images\)"):
        own_samples(rgb_images(2 * MIN_OWN_IMAGES - 1), PRE, "shapes")
    with pytest.raises(ConfigError, match=r"uint8 images \[N, C, H, W\]"):
        own_samples(rgb_images(40).float(), PRE, "shapes")
    fer = resolve("shallow_cnn").spec()
    with pytest.raises(ConfigError, match="shallow_cnn takes 1x48x48 images, its int8 calibration images are 3x32x32"):
        check_fits(own_samples(rgb_images(40), PRE, "shapes"), fer, "shallow_cnn")


def test_fer_images_are_normalised_bit_for_bit_as_before():
    """FER-2013's samples are the generic type now: their calibration inputs must not move."""
    faces = torch.randint(0, 256, (8, 48, 48), dtype=torch.uint8, generator=torch.Generator().manual_seed(1))
    sample = ImageSample("Training", faces, tuple(map(str, range(8))), "random", 0)
    assert torch.equal(sample.inputs(), normalize(faces)) and sample.image_shape == (1, 48, 48)
    assert FerSamples is Samples


# -- errors that need no export ------------------------------------------------------------------


def test_a_class_count_the_model_does_not_return_is_one_error(tmp_path, monkeypatch):
    four = write_factory(tmp_path, monkeypatch, outputs=4)
    for runtime in (LITE, ET):
        with pytest.raises(ExportError, match="rgb_net: the model returns 4 outputs, its spec names 5 classes"):
            export_model(four, out_dir=tmp_path / "out", runtime=runtime)
    assert not list((tmp_path / "out").glob("rgb_net*"))


def test_int8_of_a_model_that_is_not_fer_needs_its_own_images(ref, tmp_path):
    with pytest.raises(ConfigError) as err:
        export_model(ref, out_dir=tmp_path, runtime=ET, quant="int8", fer_data="../shared/fer2013")
    assert str(err.value) == "--quant int8 for rgb_net calibrates on images of its own kind: pass --images PATH"
    with pytest.raises(ExportError, match="--checkpoint holds weights of the study's models"):
        export_model(ref, checkpoint=tmp_path / "x.ckpt", out_dir=tmp_path)


def test_the_cli_names_unknown_models_in_one_line(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    run = CliRunner()
    one_line_error(run.invoke(main, ["export", "--model", "nosuch"], prog_name="fermbench"), "unknown model 'nosuch'")
    one_line_error(
        run.invoke(main, ["export", "--model", "shallow_cnn,no_such_module:f"], prog_name="fermbench"),
        "cannot import no_such_module",
    )
    ref = write_factory(tmp_path, monkeypatch)
    one_line_error(
        run.invoke(main, ["export", "--model", ref.replace("rgb_net", "absent")], prog_name="fermbench"),
        "has no 'absent'",
    )
    one_line_error(
        run.invoke(main, ["export", "rgb_net_x", "--model", f"{ref},{ref}"], prog_name="fermbench"),
        "unknown model 'rgb_net_x'",
    )
    one_line_error(run.invoke(main, ["export", "--model", f"{ref},{ref}"], prog_name="fermbench"), "named twice")


# -- exports -------------------------------------------------------------------------------------


@pytest.mark.slow
def test_lite_export_records_the_spec_and_the_factory_weights(ref, tmp_path, monkeypatch):
    arch = resolve(ref)
    module, spec = arch.build(seed=0)
    result = CliRunner().invoke(
        main, ["export", "--model", ref, "--out", str(tmp_path), "--json"], prog_name="fermbench"
    )
    assert result.exit_code == 0, result.output
    meta = json.loads(result.stdout)[0]
    assert meta == json.loads((tmp_path / "rgb_net.json").read_text())
    assert (meta["name"], meta["input_shape"], meta["class_names"]) == ("rgb_net", [1, 3, 32, 32], list(CLASSES))
    assert meta["preprocess"] == {
        "mean": [0.5, 0.45, 0.4],
        "std": [0.25] * 3,
        "resize": "center_crop",
        "crop_fraction": 0.875,
    }
    assert "normalisation" not in meta  # FER's scalars: one-channel models only
    assert spec_from_meta(meta) == spec
    assert meta["trained"] is None and meta["checkpoint"] is None and "warning" not in meta
    assert meta["weights"] == {"source": "factory", "sha256": weights_sha256(module)}
    assert meta["code_sha256"] == arch.code_sha256() and meta["ref"] == ref and meta["origin"] == f"--model {ref}"
    assert meta["macs"] == count_macs(module, (1, 3, 32, 32)) > 0
    assert meta["max_abs_diff"] <= meta["parity_tolerance"]
    assert "UNTRAINED" not in result.stderr


@pytest.mark.slow
def test_executorch_fp32_and_int8_on_its_own_images(ref, tmp_path):
    fp32 = export_model(ref, out_dir=tmp_path, runtime=ET)
    assert fp32.path.name == "rgb_net.fp32.pte" and fp32.notes == []
    assert fp32.meta["max_abs_diff"] <= 1e-4 and fp32.meta["delegation"]["portable"] == 0
    assert fp32.meta["input_shape"] == [1, 3, 32, 32]
    samples = own_samples(rgb_images(80), PRE, "random shapes")
    int8 = export_model(ref, out_dir=tmp_path, runtime=ET, quant="int8", samples=samples)
    agreement = int8.meta["agreement"]
    assert agreement["images"] == 40 and agreement["top1_agreement"] >= 0.98
    assert agreement["sample"]["sha256"] == samples.agreement.sha256
    assert int8.meta["calibration"]["sha256"] == samples.calibration.sha256
    assert int8.meta["calibration"]["count"] == 40 and int8.meta["calibration"]["split"] == "calibration"
    assert int8.meta["delegation"]["portable"] == 0


@pytest.mark.slow
def test_int8_that_disagrees_with_fp32_is_refused_on_own_images(ref, tmp_path):
    """Calibrated on black images, the ranges miss every real input: the same gate refuses it."""
    samples = own_samples(rgb_images(80), PRE, "random shapes")
    blank = ImageSample(
        "calibration", torch.zeros(40, 3, 32, 32, dtype=torch.uint8), ("b",) * 40, "zeros", None, 0, PRE
    )
    with pytest.raises(ExportError, match=r"agrees with fp32 on \d+\.\d% of 40 agreement images"):
        export_model(
            ref,
            out_dir=tmp_path / "out",
            runtime=ET,
            quant="int8",
            samples=Samples(blank, samples.agreement, MIN_OWN_IMAGES),
        )
    assert list((tmp_path / "out").iterdir()) == []  # no partial or unchecked .pte left behind


@pytest.mark.slow
def test_litert_fp32_takes_the_spec_input(ref, tmp_path):
    pytest.importorskip("litert_torch", reason="litert-torch is not installed (the litert extra of setup.cfg)")
    pytest.importorskip("ai_edge_litert", reason="ai-edge-litert is not installed (the litert extra of setup.cfg)")
    result = export_model(ref, out_dir=tmp_path, runtime="litert-2.3.0")
    interface = result.meta["interface"]
    assert interface["input"]["shape"] == [1, 3, 32, 32] and interface["output"]["shape"] == [1, 5]
    assert (
        result.meta["max_abs_diff"] <= result.meta["parity_tolerance"] and result.meta["delegation"]["reference"] == 0
    )
    assert result.meta["class_names"] == list(CLASSES) and result.meta["trained"] is None
