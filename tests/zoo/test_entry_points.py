"""A model zoo others extend: a package installed with `fermbench.models` entry points is listed
with its name and version, builds like the study's models, and a broken entry point fails alone,
with a one-line ModelError.

The package is made here and installed with pip into a private folder (offline, no build
isolation: the setuptools already installed builds it); a fresh Python with that folder on
PYTHONPATH reads it, as a user's installed package would be read.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import fermbench
from fermbench.labels import CLASS_NAMES

pytestmark = pytest.mark.slow  # pip builds the package, then a fresh Python imports torch: 10-20 s here

HARNESS = Path(fermbench.__file__).resolve().parents[1]

MODELS = """
import torch
from torch import nn
from fermbench.zoo import CENTER_CROP, ModelSpec, Preprocess

def tiny_rgb():
    model = nn.Sequential(nn.Conv2d(3, 4, 3, stride=2), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 7 * 7, 3))
    return model, ModelSpec(
        input_shape=(1, 3, 16, 16),
        classes=("red", "green", "blue"),
        preprocess=Preprocess(mean=(0.5, 0.5, 0.5), std=(0.25, 0.25, 0.25), resize=CENTER_CROP),
    )

def raises():
    raise RuntimeError("weights file missing")

def wrong_type():
    return "a model"
"""

SETUP_CFG = """
[metadata]
name = tinypkg
version = 0.3.1

[options]
packages = tinypkg
# a module whose name sorts before fermbench's, to claim a study model's name first
py_modules = aardvark

[options.entry_points]
fermbench.models =
    tiny_rgb = tinypkg.models:tiny_rgb
    broken_raises = tinypkg.models:raises
    broken_type = tinypkg.models:wrong_type
    broken_import = tinypkg.nowhere:tiny_rgb
    resnet9 = aardvark:resnet9
"""

# Run in a fresh interpreter: what it finds, and what each model gives (or the error it raises).
PROBE = """
import json
from fermbench.errors import ModelError
from fermbench.zoo import architectures, resolve

found = architectures()
out = {"listed": {n: [a.ref, a.origin, a.study] for n, a in found.items()}, "built": {}}
for name in ("tiny_rgb", "broken_raises", "broken_type", "broken_import", "resnet9"):
    try:
        model, spec = resolve(name).build(seed=0)
        out["built"][name] = [type(model).__name__, list(spec.input_shape), list(spec.classes), spec.preprocess.resize]
    except ModelError as exc:
        out["built"][name] = str(exc)
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("tinypkg")
    (root / "tinypkg").mkdir()
    (root / "tinypkg" / "__init__.py").write_text("")
    (root / "tinypkg" / "models.py").write_text(MODELS)
    (root / "aardvark.py").write_text("from tinypkg.models import tiny_rgb as resnet9\n")
    (root / "setup.cfg").write_text(SETUP_CFG)
    (root / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools"]\nbuild-backend = "setuptools.build_meta"\n'
    )
    target = root / "site"
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--no-index", "--quiet"]
        + ["--disable-pip-version-check", "--target", str(target), str(root)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if install.returncode != 0:
        last = (install.stderr.strip().splitlines() or ["no output"])[-1]
        pytest.skip(f"pip cannot build a package offline here: {last}")
    return target


@pytest.fixture(scope="module")
def probe(site: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(HARNESS)])}
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(PROBE)], capture_output=True, text=True, env=env, timeout=300
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_installed_model_is_listed_with_its_package(probe):
    ref, origin, study = probe["listed"]["tiny_rgb"]
    assert ref == "tinypkg.models:tiny_rgb"
    assert origin == "tinypkg 0.3.1 (entry point)"
    assert study is False
    assert list(probe["listed"])[:3] == ["shallow_cnn", "deep_cnn", "resnet9"]  # the study first, then by name
    assert list(probe["listed"])[3:] == ["broken_import", "broken_raises", "broken_type", "tiny_rgb"]


def test_the_installed_model_builds_with_its_spec(probe):
    assert probe["built"]["tiny_rgb"] == ["Sequential", [1, 3, 16, 16], ["red", "green", "blue"], "center_crop"]


def test_a_broken_entry_point_fails_alone_in_one_line(probe):
    errors = {name: probe["built"][name] for name in ("broken_raises", "broken_type", "broken_import")}
    assert all(isinstance(e, str) and "\n" not in e for e in errors.values()), errors
    assert "tinypkg.models:raises raised RuntimeError: weights file missing" in errors["broken_raises"]
    assert "tinypkg.models:wrong_type returned str; return (torch.nn.Module" in errors["broken_type"]
    assert "model broken_import from tinypkg 0.3.1 (entry point): " in errors["broken_import"]
    assert "cannot import tinypkg.nowhere" in errors["broken_import"]
    assert isinstance(probe["built"]["tiny_rgb"], list)  # the others still build


def test_a_package_cannot_take_a_study_models_name(probe):
    ref, _origin, study = probe["listed"]["resnet9"]
    assert (ref, study) == ("fermbench.zoo.study:resnet9", True)
    assert probe["built"]["resnet9"][1:] == [[1, 1, 48, 48], list(CLASS_NAMES), "face_crop"]
