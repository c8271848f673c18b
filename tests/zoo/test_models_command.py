"""`fermbench models`: every architecture of the zoo with its origin, input, classes and size, the
entry points of an installed package among them; a factory that cannot be built is a line, not a crash.

The package is "installed" the way importlib.metadata finds one: a dist-info folder with
entry_points.txt on sys.path (pip writes the same files), its module beside it.
"""

from __future__ import annotations

import textwrap

import pytest
from click.testing import CliRunner

from fermbench.cli import main
from fermbench.labels import STUDY_MODELS
from fermbench.zoo import registry
from fermbench.zoo.commands import describe, models_cmd, zoo_entries

MODULE = textwrap.dedent(
    """
    import torch
    from torch import nn
    from fermbench.zoo import ModelSpec, Preprocess

    class Tiny(nn.Module):
        def __init__(self, classes=5):
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3, padding=1)
            self.fc = nn.Linear(4 * 8 * 8, classes)

        def forward(self, x):
            x = torch.relu(self.conv(x))
            return self.fc(torch.nn.functional.adaptive_avg_pool2d(x, 8).flatten(1))

    def tiny_rgb():
        return Tiny(), ModelSpec(input_shape=(1, 3, 64, 64), classes=("a", "b", "c", "d", "e"),
                                 preprocess=Preprocess(mean=(0.5,), std=(0.25,)))

    def raises():
        raise RuntimeError("weights file missing")

    def wrong_answer():
        return Tiny()

    def bad_forward():
        return nn.Linear(3, 5), {"input_shape": (1, 3, 64, 64), "classes": ["a", "b", "c", "d", "e"]}
    """
)
ENTRY_POINTS = """\
[fermbench.models]
tiny_rgb = tinyzoo.models:tiny_rgb
zz_raises = tinyzoo.models:raises
zz_wrong = tinyzoo.models:wrong_answer
zz_forward = tinyzoo.models:bad_forward
zz_missing = tinyzoo.absent:factory
"""


@pytest.fixture
def installed(tmp_path, monkeypatch):
    site = tmp_path / "site"
    (site / "tinyzoo").mkdir(parents=True)
    (site / "tinyzoo" / "__init__.py").write_text("")
    (site / "tinyzoo" / "models.py").write_text(MODULE)
    info = site / "tinyzoo-1.2.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: tinyzoo\nVersion: 1.2\n")
    (info / "entry_points.txt").write_text(ENTRY_POINTS)
    monkeypatch.syspath_prepend(str(site))
    registry.architectures.cache_clear()
    yield site
    registry.architectures.cache_clear()


def test_every_architecture_is_listed_with_origin_input_classes_and_size(installed):
    entries = {e.name: e for e in zoo_entries()}
    assert list(entries)[:3] == list(STUDY_MODELS)  # the study's first, as registered
    tiny = entries["tiny_rgb"]
    assert tiny.origin == "tinyzoo 1.2 (entry point)" and tiny.ref == "tinyzoo.models:tiny_rgb"
    assert (tiny.input_shape, tiny.classes, tiny.error) == ((1, 3, 64, 64), 5, None)
    assert tiny.params == 3 * 4 * 9 + 4 + 256 * 5 + 5
    assert tiny.macs == 64 * 64 * 4 * 27 + 5 * 256  # conv at 64x64, then the linear layer
    assert tiny.fp32_bytes == 4 * tiny.params
    assert entries["resnet9"].input_shape == (1, 1, 48, 48) and entries["resnet9"].classes == 7


def test_broken_entry_points_are_listed_with_one_line_errors(installed):
    result = CliRunner().invoke(models_cmd, [], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    for name in ("shallow_cnn", "deep_cnn", "resnet9", "tiny_rgb", "zz_raises", "zz_wrong", "zz_forward"):
        assert name in result.stdout
    assert "1x3x64x64" in result.stdout and "tinyzoo 1.2 (entry point)" in result.stdout
    problems = [line for line in result.stdout.splitlines() if "cannot be built" in line]
    assert len(problems) == 4, result.stdout
    by_name = {line.split(" ", 1)[0]: line for line in problems}
    assert "raised RuntimeError: weights file missing" in by_name["zz_raises"]
    assert "returned Tiny" in by_name["zz_wrong"]
    assert "a forward pass on its input 1x3x64x64 raised RuntimeError" in by_name["zz_forward"]
    assert "cannot import tinyzoo.absent" in by_name["zz_missing"]
    assert "Traceback" not in result.output


def test_one_factory_by_reference(installed):
    result = CliRunner().invoke(models_cmd, ["--model", "tinyzoo.models:tiny_rgb"], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    assert "tiny_rgb" in result.stdout and "--model tinyzoo.models:tiny_rgb" in result.stdout
    assert "resnet9" not in result.stdout


def test_a_factory_that_does_not_exist_is_a_one_line_error(installed):
    result = CliRunner().invoke(main, ["models", "--model", "tinyzoo.models:nothing"])
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        "Error: --model tinyzoo.models:nothing: tinyzoo.models has no 'nothing'; name a function defined there"
    ]


def test_describe_the_study_model_matches_model_info():
    entry = describe(registry.resolve("shallow_cnn"))
    info = registry.model_info("shallow_cnn")
    assert (entry.params, entry.macs, entry.fp32_bytes) == (info.params, info.macs, info.fp32_bytes)


def test_study_names_are_the_registered_entry_points():
    assert tuple(registry.STUDY_ENTRY_POINTS) == STUDY_MODELS
