"""Accuracy on a labelled RGB folder with its own classes (not FER's): the set is prepared by the
model's spec, the runner gets the model's per-channel mean and std, and the accuracy phase stores
an "images" phase whose predictions' labels index the model's classes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from fermbench.bench import phases
from fermbench.bench.exports import ModelFile
from fermbench.bench.inputs import host_predictions, labelled_set
from fermbench.fileio import sha256_file
from fermbench.labels import NORM_MEAN, NORM_STD
from fermbench.store import SessionStore, Variant
from fermbench.targets.host import HostTarget
from fermbench.zoo.spec import spec_from

cv2 = pytest.importorskip("cv2")

CLASSES = ("blue", "green", "red")
COLOURS = {"red": (255, 0, 0), "green": (0, 255, 0), "blue": (0, 0, 255)}  # RGB
MEAN, STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


class ChannelMeans(torch.nn.Module):
    """Logit k = the mean of input channel 2 - k: with classes (blue, green, red), an RGB picture's
    brightest channel is its class, so a set of pure colours is all correct."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mean(dim=(2, 3)).flip(1)


@pytest.fixture()
def colour_model(tmp_path) -> tuple[ModelFile, object]:
    spec = spec_from(
        {"input_shape": (1, 3, 20, 20), "classes": CLASSES, "mean": MEAN, "std": STD, "resize": "center_crop"},
        "test",
    )
    path = tmp_path / "colours.ptl"
    torch.jit.script(ChannelMeans())._save_for_lite_interpreter(str(path))
    meta = {**spec.to_dict(), "sha256": sha256_file(path)}
    variant = Variant("colours", "pytorch_android_lite-2.1.0", "fp32")
    return ModelFile(variant, path, meta, cached=False), spec


@pytest.fixture()
def colour_folder(tmp_path) -> Path:
    root = tmp_path / "colours"
    for name, colour in COLOURS.items():
        (root / name).mkdir(parents=True)
        for i, (h, w) in enumerate([(30, 50), (64, 40)]):
            image = np.zeros((h, w, 3), np.uint8)
            image[...] = colour
            assert cv2.imwrite(str(root / name / f"{i}.png"), image[..., ::-1])
    (root / "red" / "not-an-image.png").write_bytes(b"text")
    return root


def test_an_rgb_folder_is_scored_with_the_models_classes_and_normalisation(colour_model, colour_folder, tiny, tmp_path):
    model, spec = colour_model
    images = labelled_set(colour_folder, spec, "colours")
    assert images.dataset == "images" and images.images.shape == (6, 3, 20, 20)
    assert images.labels.tolist() == [0, 0, 1, 1, 2, 2]
    assert images.info["counts"] == {"listed": 7, "loaded": 6, "undecodable": 1, "no_face": 0}
    assert images.file.read_bytes()[4:8] == (2).to_bytes(4, "little")  # three channels: format version 2
    assert phases.model_normalisation(model) == (MEAN, STD)

    settings = tiny(devices=("host",), models=("shallow_cnn",))
    target = HostTarget()
    try:
        result = phases.classify_on_target(target, model, images, settings, phases.Timing())
        assert result.channels == 3 and result.mean == list(MEAN) and result.std == list(STD)
        host_top = host_predictions(model.path, model.sha256, images, mean=MEAN, std=STD)
        assert host_top.tolist() == [0, 0, 1, 1, 2, 2]
        store = SessionStore.create(settings.to_dict(), root=tmp_path / "results")
        try:
            phase = phases.accuracy_phase(store, target, model, images, host_top, settings, phases.Timing())
            rows = (store.path / phase.predictions).read_text().splitlines()
        finally:
            store.close()
    finally:
        target.close()
    assert phase.dataset == "images" and phase.source == str(colour_folder) and phase.split is None
    assert (phase.n, phase.device_accuracy, phase.host_accuracy, phase.agreement) == (6, 1.0, 1.0, 1.0)
    assert phase.predictions.endswith(".images.csv")
    assert rows[0] == "index,name,label,device_pred,host_pred,latency_ns"
    assert rows[1].startswith("0,blue/0.png,0,0,0,") and rows[6].startswith("5,red/1.png,2,2,2,")


def test_a_model_file_without_a_spec_is_normalised_as_fer_2013(colour_model):
    model, _ = colour_model
    bare = ModelFile(model.variant, model.path, {"sha256": model.sha256}, cached=True)
    assert phases.model_normalisation(bare) == ((NORM_MEAN,), (NORM_STD,))
    fer_meta = {"input_shape": [1, 1, 48, 48], "normalisation": {"mean": NORM_MEAN, "std": NORM_STD}}
    assert phases.model_normalisation(ModelFile(model.variant, model.path, fer_meta, cached=True)) == (
        (NORM_MEAN,),
        (NORM_STD,),
    )


def test_models_that_prepare_images_alike_share_one_set(colour_model, colour_folder):
    from fermbench.bench.inputs import labelled_sets

    _, spec = colour_model
    other_norm = spec_from(
        {"input_shape": (1, 3, 20, 20), "classes": CLASSES, "mean": (0.5,), "std": (0.5,), "resize": "center_crop"},
        "other",
    )
    gray = spec_from(
        {"input_shape": (1, 1, 20, 20), "classes": CLASSES, "resize": "center_crop"},
        "gray",
    )
    sets = labelled_sets(colour_folder, {"a": spec, "b": other_norm, "gray": gray})
    assert sets["a"] is sets["b"]  # mean and std differ, the pixels do not
    assert sets["gray"].images.shape == (6, 1, 20, 20) and sets["gray"].sha256 != sets["a"].sha256
