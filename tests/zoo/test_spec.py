"""zoo/spec.py: a model's input spec, checked with one-line errors, and what exports record of it."""

from __future__ import annotations

import math
import sys

import pytest
import torch
from torch import nn

from fermbench.errors import ModelError
from fermbench.zoo.spec import (
    CENTER_CROP,
    FACE_CROP,
    STRETCH,
    ModelSpec,
    Preprocess,
    check_spec,
    source_sha256,
    spec_from,
    spec_from_meta,
    weights_sha256,
)

RGB = dict(input_shape=(1, 3, 224, 224), classes=("cat", "dog"))


def refused(value, *expected: str) -> str:
    with pytest.raises(ModelError) as exc:
        spec_from(value, "model factory m:f")
    message = str(exc.value)
    assert "\n" not in message and message.startswith("model factory m:f: ")
    assert all(part in message for part in expected), message
    return message


def test_a_spec_is_checked_and_given_per_channel_values():
    spec = spec_from(ModelSpec(input_shape=(1, 3, 224, 224), preprocess=Preprocess(mean=(0.5,), std=(2,))), "m")
    assert spec.preprocess.mean == (0.5, 0.5, 0.5)
    assert spec.preprocess.std == (2.0, 2.0, 2.0) and all(type(v) is float for v in spec.preprocess.std)
    assert (spec.channels, spec.size) == (3, (224, 224))


def test_a_dict_with_the_preprocessing_at_the_top_or_nested():
    top = spec_from({**RGB, "mean": [0.4, 0.5, 0.6], "std": 0.2, "resize": CENTER_CROP}, "m")
    nested = spec_from({**RGB, "preprocess": {"mean": (0.4, 0.5, 0.6), "std": [0.2], "resize": CENTER_CROP}}, "m")
    assert top == nested
    assert top.preprocess == Preprocess(mean=(0.4, 0.5, 0.6), std=(0.2, 0.2, 0.2), resize=CENTER_CROP)
    assert top.classes == ("cat", "dog") and top.input_shape == (1, 3, 224, 224)
    over = spec_from({**RGB, "preprocess": Preprocess(resize=FACE_CROP), "resize": STRETCH}, "m")
    assert over.preprocess.resize == STRETCH  # a top-level key overrides the nested one


@pytest.mark.parametrize(
    "shape, expected",
    [
        ((3, 224, 224), "must be 4 positive sizes"),
        ((1, 3, 0, 224), "must be 4 positive sizes"),
        ((1, 3, 22.5, 224), "must be 4 positive sizes"),
        ((2, 3, 224, 224), "has batch 2"),
        ((1, 4, 224, 224), "has 4 channels"),
        ((1, 3, 8192, 8192), "2^26"),
    ],
)
def test_bad_input_shapes(shape, expected):
    refused({"input_shape": shape}, expected)


def test_bad_classes():
    refused({**RGB, "classes": ("cat", "dog", "cat")}, "class 'cat' is named twice")
    refused({**RGB, "classes": ("cat", "")}, "non-empty names")
    refused({**RGB, "classes": ("cat", "dog, wolf")}, "without commas")
    refused({**RGB, "classes": (" cat",)}, "outer spaces")
    refused({**RGB, "classes": "cat"}, "classes", "not one string")
    assert spec_from({"input_shape": (1, 1, 8, 8)}, "m").classes == ()  # timed, never scored


def test_bad_preprocessing():
    refused({**RGB, "mean": (0.5, 0.5)}, "mean [0.5, 0.5] needs 1 or 3 finite numbers")
    refused({**RGB, "std": (1.0, math.nan, 1.0)}, "std", "finite")
    refused({**RGB, "std": (0.2, 0.0, 0.2)}, "must be positive")
    refused({**RGB, "resize": "squash"}, "resize 'squash': choose one of stretch, center_crop, face_crop")
    refused({**RGB, "crop_fraction": 0}, "crop_fraction 0 must be in (0, 1]")
    refused({**RGB, "input_dtype": "int8"}, "input_dtype 'int8': the runners feed float32")


def test_bad_spec_values_and_keys():
    refused([1, 3, 224, 224], "the input spec is a list")
    refused({"classes": ("a",)}, "no input_shape")
    refused({**RGB, "size": 224}, "unknown spec key(s) size")
    refused({**RGB, "preprocess": {"size": 224}}, "unknown preprocess key(s) size")
    refused({**RGB, "preprocess": "center_crop"}, "preprocess is a str")
    refused({**RGB, "name": "two words"}, "model name 'two words'")


def test_what_an_export_records_reads_back():
    spec = spec_from({**RGB, "mean": 0.5, "std": 0.25, "resize": CENTER_CROP, "crop_fraction": 0.9}, "m")
    assert spec_from_meta(spec.to_dict()) == spec
    assert spec_from_meta({}) is None


def test_exports_written_before_specs_read_as_the_fer_models():
    old = {"input_shape": [1, 1, 48, 48], "class_names": ["angry"], "normalisation": {"mean": 0.5, "std": 0.25}}
    spec = spec_from_meta(old)
    assert spec is not None
    assert spec.preprocess == Preprocess(mean=(0.5,), std=(0.25,), resize=FACE_CROP)
    assert spec.input_shape == (1, 1, 48, 48) and spec.classes == ("angry",)


def test_weights_hash_follows_the_weights():
    torch.manual_seed(0)
    a = nn.Linear(3, 2)
    b = nn.Linear(3, 2)
    b.load_state_dict(a.state_dict())
    assert weights_sha256(a) == weights_sha256(b)
    with torch.no_grad():
        b.bias[0] += 1e-6
    assert weights_sha256(a) != weights_sha256(b)
    assert weights_sha256(nn.Linear(3, 2, bias=False)) != weights_sha256(nn.Linear(3, 2))


def test_source_hash_follows_the_defining_file(tmp_path):
    import importlib.util

    def load(source: str):
        path = tmp_path / "user_model.py"
        path.write_text(source)
        module_spec = importlib.util.spec_from_file_location("user_model", path)
        module = importlib.util.module_from_spec(module_spec)
        module_spec.loader.exec_module(module)
        return module

    before = load("def f():\n    return 1\n")
    sys.modules["user_model"] = before
    try:
        first = source_sha256(before.f)
        assert source_sha256(before.f) == first != source_sha256(before.f, nn.Linear)
        (tmp_path / "user_model.py").write_text("def f():\n    return 2\n")  # edited forward, same name
        assert source_sha256(before.f) != first
    finally:
        del sys.modules["user_model"]
    assert source_sha256(spec_from) != source_sha256(check_spec)  # one file, two names
