"""A session over runtimes and quantisations end to end: Lite fp32, ExecuTorch fp32 and ExecuTorch
int8 of one trained model, each exported and gated, run on its own runner flavor of a simulated
phone through the real adb, stored under its variant key and reported side by side; a second
session reuses the exports, the int8 one only while its calibration images are the same (by pixels).
"""

from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner

from fermbench.bench.start import run_benchmark
from fermbench.data.synthetic import write_folder
from fermbench.export.fer_samples import AGREEMENT_IMAGES, CALIBRATION_IMAGES
from fermbench.export.runtimes import DEFAULT_RUNTIME
from fermbench.runner.protocol import RUNTIME_EXECUTORCH, RUNTIME_LITE

pytestmark = [pytest.mark.adb, pytest.mark.slow]

ET = "executorch-1.4.1"
KEYS = {f"shallow_cnn/{DEFAULT_RUNTIME}/fp32", f"shallow_cnn/{ET}/fp32", f"shallow_cnn/{ET}/int8"}


@pytest.fixture(scope="module")
def fer_copy(tmp_path_factory):
    """FER-shaped images: enough Training images to calibrate, 1,000 PublicTest ones to gate int8."""
    root = tmp_path_factory.mktemp("fer") / "fer2013"
    write_folder(root, {"Training": CALIBRATION_IMAGES + 44, "PublicTest": AGREEMENT_IMAGES})
    return root


@pytest.fixture
def variants_run(adb_env, trained_shallow_cnn, fer_copy, tiny, tmp_path):
    """run(fer_data) -> Outcome: shallow_cnn in all three variants on `--device sim`."""
    checkpoints = tmp_path / "weights"
    checkpoints.mkdir()
    shutil.copy(trained_shallow_cnn, checkpoints / "shallow_cnn.ckpt")

    def run(fer_data=fer_copy):
        settings = tiny(
            devices=("sim",),
            models=("shallow_cnn",),
            checkpoints=str(checkpoints),
            untrained=False,
            runtimes=(DEFAULT_RUNTIME, ET),
            quant=("fp32", "int8"),
            fer_data=str(fer_data),
            fer_limit=40,
            cooldown="none",
        )
        return run_benchmark(settings, out=tmp_path / "results", model_dir=tmp_path / "models")

    return run


def test_three_variants_run_on_their_own_runners_reported_side_by_side_and_cached(variants_run, fer_copy, tmp_path):
    outcome = variants_run()
    assert outcome.status == "complete", [(r.key, r.error) for r in outcome.records]
    records = {r.key: r for r in outcome.records}
    assert set(records) == KEYS
    info = outcome.store.info
    device = info.devices["sim"]
    assert set(device.runners) == {RUNTIME_LITE, RUNTIME_EXECUTORCH}
    assert device.runners[RUNTIME_EXECUTORCH].pte_identifiers == ["ET12"]
    for key, r in records.items():
        assert r.status == "ok", (key, r.error)
        runtime = RUNTIME_LITE if DEFAULT_RUNTIME in key else RUNTIME_EXECUTORCH
        assert r.latency and r.latency[0].runtime is not None and r.latency[0].runtime.name == runtime, key
        assert r.latency[0].summary is not None and r.latency[0].summary.n >= 5, key
        assert r.accuracy is not None and r.accuracy.n == 40, key
        assert info.models[key]["file"].endswith(".ptl" if runtime == RUNTIME_LITE else ".pte"), key
    shas = {key: info.models[key]["sha256"] for key in KEYS}
    assert len(set(shas.values())) == 3  # three different files
    assert info.models[f"shallow_cnn/{ET}/int8"]["quant"] == "int8"

    from fermbench.report.commands import report_cmd

    result = CliRunner().invoke(report_cmd, ["--results", str(tmp_path / "results"), "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = {(row["model"], row["export_runtime"], row["quant"]): row for row in json.loads(result.stdout)["results"]}
    assert set(rows) == {
        ("shallow_cnn", DEFAULT_RUNTIME, "fp32"),
        ("shallow_cnn", ET, "fp32"),
        ("shallow_cnn", ET, "int8"),
    }
    lite = rows[("shallow_cnn", DEFAULT_RUNTIME, "fp32")]
    assert lite["fer_change_vs_lite_fp32"] is None
    for quant in ("fp32", "int8"):
        row = rows[("shallow_cnn", ET, quant)]
        change = row["fer_change_vs_lite_fp32"]
        assert change == pytest.approx(row["fer_acc_device"] - lite["fer_acc_device"])
        assert row["fer_change_ci_low"] <= change <= row["fer_change_ci_high"]

    # Again: every export reused. Same folder name with other images: only int8 is made again.
    files = {key: tmp_path / "models" / info.models[key]["file"] for key in KEYS}
    written = {key: f.stat().st_mtime_ns for key, f in files.items()}
    again = variants_run()
    assert again.status == "complete" and {r.key for r in again.records} == KEYS
    assert {key: f.stat().st_mtime_ns for key, f in files.items()} == written
    other = tmp_path / "other" / fer_copy.name
    write_folder(other, {"Training": CALIBRATION_IMAGES + 44, "PublicTest": AGREEMENT_IMAGES}, seed=99)
    third = variants_run(other)
    assert third.status == "complete"
    int8 = f"shallow_cnn/{ET}/int8"
    assert files[int8].stat().st_mtime_ns != written[int8]
    assert third.store.info.models[int8]["calibration"]["sha256"] != info.models[int8]["calibration"]["sha256"]
    assert all(files[key].stat().st_mtime_ns == written[key] for key in KEYS - {int8})
