"""zoo/registry.py: `package.module:factory` references, registered names, and their one-line errors."""

from __future__ import annotations

import configparser
import importlib
import sys
import textwrap
from pathlib import Path

import pytest
import torch
from torch import nn

from fermbench.errors import ModelError
from fermbench.zoo import STUDY_MODELS, architectures, resolve
from fermbench.zoo.registry import STUDY_ENTRY_POINTS, count_macs, load_ref

ROOT = Path(__file__).resolve().parents[2]

TINY = """
import torch
from torch import nn
from fermbench.zoo import ModelSpec

def tiny():
    return nn.Sequential(nn.Flatten(), nn.Linear(3 * 8 * 8, 2)), ModelSpec(input_shape=(1, 3, 8, 8), classes=("a", "b"))
"""


@pytest.fixture
def user_folder(tmp_path, monkeypatch):
    """The current folder holds the user's modules (as when `fermbench run --model m:f` is typed
    there); sys.path and the imported modules are restored afterwards."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    before = set(sys.modules)

    def write(name: str, source: str) -> None:
        (tmp_path / f"{name}.py").write_text(textwrap.dedent(source))
        importlib.invalidate_caches()

    yield write
    for name in set(sys.modules) - before:
        del sys.modules[name]


def one_line_error(ref: str) -> str:
    with pytest.raises(ModelError) as exc:
        resolve(ref).build()
    message = str(exc.value)
    assert "\n" not in message and "Traceback" not in message
    return message


def test_a_factory_in_the_current_folder_resolves_and_builds(user_folder):
    user_folder("my_models", TINY)
    arch = resolve("my_models:tiny")
    assert (arch.name, arch.ref, arch.study) == ("tiny", "my_models:tiny", False)
    assert arch.origin == "--model my_models:tiny"
    model, spec = arch.build(seed=1)
    assert not model.training
    assert spec.input_shape == (1, 3, 8, 8) and spec.classes == ("a", "b")
    assert spec.preprocess.mean == (0.0, 0.0, 0.0)  # one value, given per channel
    again, _ = arch.build(seed=1)
    other, _ = arch.build(seed=2)
    assert torch.equal(model[1].weight, again[1].weight)
    assert not torch.equal(model[1].weight, other[1].weight)
    assert arch.spec() == spec


def test_the_name_is_the_specs_else_the_functions_last_part(user_folder):
    user_folder(
        "named",
        TINY
        + textwrap.dedent("""
            def with_name():
                return tiny()[0], ModelSpec(input_shape=(1, 3, 8, 8), name="my-net_v2")

            class Zoo:
                small = staticmethod(tiny)

            def bad_name():
                return tiny()[0], ModelSpec(input_shape=(1, 3, 8, 8), name="my net")
        """),
    )
    assert resolve("named:with_name").name == "my-net_v2"
    assert resolve("named:Zoo.small").name == "small"
    assert "model name 'my net'" in one_line_error("named:bad_name")


def test_a_module_that_does_not_import(user_folder):
    user_folder("broken", "import not_a_module_anywhere\n")
    message = one_line_error("broken:tiny")
    assert "cannot import broken" in message and "ModuleNotFoundError" in message
    assert "cannot import nowhere_at_all" in one_line_error("nowhere_at_all:tiny")
    user_folder("syntax", "def f(:\n")
    assert "cannot import syntax (SyntaxError" in one_line_error("syntax:f")


def test_a_missing_or_uncallable_attribute(user_folder):
    user_folder("my_models", TINY + "\nNOT_A_FUNCTION = 3\n")
    assert "my_models has no 'tinny'" in one_line_error("my_models:tinny")
    assert "NOT_A_FUNCTION is a int, not a function" in one_line_error("my_models:NOT_A_FUNCTION")
    for ref in ("my_models:", ":tiny"):
        assert "name a factory as package.module:function" in one_line_error(ref)


def test_a_factory_that_returns_something_else_or_raises(user_folder):
    user_folder(
        "odd",
        TINY
        + textwrap.dedent("""
            def module_only():
                return tiny()[0]

            def three():
                return (*tiny(), "extra")

            def spec_first():
                model, spec = tiny()
                return spec, model

            def spec_a_string():
                return tiny()[0], "1x3x8x8"

            def raises():
                raise ValueError("no weights here")
        """),
    )
    assert "odd:module_only returned Sequential; return (torch.nn.Module" in one_line_error("odd:module_only")
    assert "returned a tuple of 3" in one_line_error("odd:three")
    assert "returned a tuple of 2" in one_line_error("odd:spec_first")
    assert "the input spec is a str" in one_line_error("odd:spec_a_string")
    assert "odd:raises raised ValueError: no weights here" in one_line_error("odd:raises")


def test_an_unknown_registered_name_lists_the_known():
    message = one_line_error("resnet10")
    assert "unknown model 'resnet10'" in message and all(name in message for name in STUDY_MODELS)


def test_the_study_models_are_registered_first():
    found = architectures()
    assert tuple(found)[:3] == STUDY_MODELS
    for name in STUDY_MODELS:
        assert found[name].study and found[name].ref == STUDY_ENTRY_POINTS[name]
        assert resolve(name).spec().input_shape == (1, 1, 48, 48)


def test_setup_cfg_registers_the_study_entry_points():
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    lines = config["options.entry_points"]["fermbench.models"].strip().splitlines()
    registered = dict(tuple(part.strip() for part in line.split("=")) for line in lines)
    assert registered == STUDY_ENTRY_POINTS


def test_load_ref_prefers_installed_modules_over_the_current_folder(user_folder, monkeypatch):
    user_folder("json", "def loads():\n    return 'shadowed'\n")  # a user's file named like an installed module
    monkeypatch.delitem(sys.modules, "json")  # imported afresh, then the original restored
    assert load_ref("json:loads")("[1]") == [1]


def test_count_macs_of_convolutions_and_linear_layers():
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(), nn.Linear(8, 3))  # 4x4 -> 2x2x2 -> 3
    assert count_macs(model, (1, 1, 4, 4)) == 2 * 2 * 2 * 9 + 3 * 8
    grouped = nn.Conv2d(4, 4, 3, padding=1, groups=4)  # depthwise: 9 per output value
    assert count_macs(grouped, (1, 4, 5, 5)) == 4 * 5 * 5 * 9
