"""Issue 26 end to end: a model that is not the study's, given as `package.module:factory` or as a
ready file, benchmarked on the host runner and the simulated phone, scored on an RGB image folder
with its own labels and preprocessing, and reported; the user mistakes each get one line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from colour_models import write_colour_folder  # tests/ is on pytest's pythonpath
from fermbench.bench.start import run_benchmark
from fermbench.runtimes import LITERT, missing_modules
from fermbench.store import load_sessions

pytestmark = pytest.mark.slow
COLOUR = "colour_models:colour_net"
LITE = "pytorch_android_lite-2.1.0"
ET = "executorch-1.4.1"


def runtime_ids(with_litert: bool = True) -> tuple[str, ...]:
    ids = (LITE, ET)
    if with_litert and not missing_modules(LITERT):
        ids += ("litert-2.3.0",)
    return ids


@pytest.fixture(scope="module")
def colours(tmp_path_factory) -> Path:
    return write_colour_folder(tmp_path_factory.mktemp("colours") / "colours")


@pytest.fixture
def models_dir(tmp_path) -> Path:
    return tmp_path / "models"


def records(outcome):
    (session,) = load_sessions([outcome.store.path]).sessions
    return session, {(r.device, r.model, r.runtime, r.quant): r for r in session.records}


def test_factory_model_on_the_simulated_phone_scored_on_its_own_images(tiny, colours, models_dir, tmp_path):
    """Exported through every runtime's gates, run over adb on the simulated phone (protocol with
    three channels), scored 100% on its colour folder on device and host, photos not applied."""
    pytest.importorskip("adbutils")
    from fermbench.device import find_adb

    if find_adb() is None:
        pytest.skip("needs an adb binary (none found)")
    runtimes = runtime_ids()
    settings = tiny(devices=("sim",), models=(COLOUR,), runtimes=runtimes, images=str(colours))
    outcome = run_benchmark(settings, out=tmp_path / "results", model_dir=models_dir)
    assert outcome.status == "complete", [r.error for r in outcome.records]
    session, recs = records(outcome)
    assert {key[2] for key in recs} == set(runtimes)
    for rec in recs.values():
        assert rec.model == "colour_net" and rec.status == "ok", rec.error
        acc = rec.accuracy
        assert acc.dataset == "images" and acc.n == 12
        assert acc.device_accuracy == 1.0 and acc.host_accuracy == 1.0 and acc.agreement == 1.0
        assert rec.realworld.status == "skipped" and "face crops" in rec.realworld.reason
        (lat,) = rec.latency
        assert lat.ok and lat.summary.n >= 5
    meta = session.info.models[next(iter(recs.values())).key]
    assert meta["input_shape"] == [1, 3, 32, 32] and meta["class_names"] == ["red", "green", "blue"]
    assert meta["preprocess"]["resize"] == "center_crop"


def test_factory_model_report_has_its_classes_and_no_study_findings(tiny, colours, models_dir, tmp_path):
    from fermbench.cli import main

    settings = tiny(devices=("host",), models=(COLOUR,), runtimes=(LITE,), images=str(colours))
    outcome = run_benchmark(settings, out=tmp_path / "results", model_dir=models_dir)
    assert outcome.status == "complete"
    from rich.console import Console

    from fermbench.bench.commands import summary_table

    console = Console(width=200, record=True)
    console.print(summary_table(outcome))
    shown = console.export_text()
    assert "images dev/host" in shown and "FER" not in shown and "100.0%/100.0%" in shown
    result = CliRunner().invoke(main, ["report", str(outcome.store.path), "--format", "markdown"])
    assert result.exit_code == 0, result.output
    assert "colour_net" in result.output and "Traceback" not in result.output
    assert "Findings" not in result.output  # the study's findings need the study's models
    csv = CliRunner().invoke(main, ["report", str(outcome.store.path), "--format", "csv"])
    assert csv.exit_code == 0 and "colour_net" in csv.output


def export_file(runtime: str, out: Path) -> Path:
    from fermbench.export.models import export_model

    return Path(export_model(COLOUR, out_dir=out, runtime=runtime).path)


@pytest.mark.parametrize("runtime", [LITE, ET, "litert-2.3.0"])
def test_a_ready_file_is_timed_with_the_shape_it_records(runtime, tiny, tmp_path):
    """.ptl needs --input-shape; .pte and .tflite record theirs. Accuracy is skipped with the reason."""
    if runtime.startswith("litert") and missing_modules(LITERT):
        pytest.skip(f"needs the litert extra ({LITERT.install_hint})")
    made = export_file(runtime, tmp_path / "made")
    given = tmp_path / f"mine{made.suffix}"
    shutil.copy(made, given)  # a file alone, no metadata beside it
    shape = "1x3x32x32" if runtime == LITE else None
    settings = tiny(devices=("host",), model_files=(str(given),), input_shape=shape, runtimes=(LITE,))
    outcome = run_benchmark(settings, out=tmp_path / "results", model_dir=tmp_path / "models")
    assert outcome.status == "complete", [r.error for r in outcome.records]
    session, recs = records(outcome)
    ((key, rec),) = recs.items()
    assert rec.model == "mine" and rec.runtime == runtime, key
    (lat,) = rec.latency
    assert lat.ok and lat.summary.n >= 5
    assert rec.accuracy.status == "skipped" and "no class names" in rec.accuracy.reason
    assert session.info.models[rec.key]["input_shape"] == [1, 3, 32, 32]


def cli(*args: str) -> tuple[int, str]:
    from fermbench.cli import main

    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def one_line_error(code: int, output: str) -> str:
    lines = [line for line in output.splitlines() if line.strip()]
    assert code == 1 and len(lines) == 1 and lines[0].startswith("Error: "), output
    assert "Traceback" not in output
    return lines[0]


def test_user_mistakes_are_one_line_errors(tmp_path, colours):
    unknown = tmp_path / "model.onnx"
    unknown.write_bytes(b"\x08\x07" + b"\x00" * 64)
    line = one_line_error(*cli("run", "--device", "host", "--model-file", str(unknown)))
    assert "model.onnx" in line and ".ptl" in line and ".tflite" in line

    ptl = export_file(LITE, tmp_path / "made")
    line = one_line_error(*cli("run", "--device", "host", "--model-file", str(ptl)))
    assert "--input-shape" in line

    line = one_line_error(*cli("run", "--device", "host", "--model", "colour_models:nope"))
    assert "nope" in line
    line = one_line_error(*cli("run", "--device", "host", "--model", "no_such_module_here:f"))
    assert "no_such_module_here" in line
    line = one_line_error(*cli("run", "--device", "host", "--model", "colour_models:returns_a_module_only"))
    assert "ModelSpec" in line
    line = one_line_error(*cli("run", "--device", "host", "--model", "colour_models:raises"))
    assert "weights file missing" in line

    odd = tmp_path / "odd"
    shutil.copytree(colours, odd)
    (odd / "red").rename(odd / "purple")
    line = one_line_error(*cli("run", "--device", "host", "--model", COLOUR, "--images", str(odd)))
    assert "purple" in line and "red" in line  # the unknown label and the model's classes


def test_evaluate_any_model_on_its_images(colours):
    code, output = cli("evaluate", "--model", COLOUR, "--images", str(colours), "--json")
    assert code == 0, output
    result = json.loads(output)
    assert result["accuracy"] == 1.0 and result["class_names"] == ["red", "green", "blue"]
    assert result["count"] == 12
