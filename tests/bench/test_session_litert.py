"""A session with LiteRT beside Lite and ExecuTorch, on the host runner and on a simulated phone
through the real adb: each .tflite exported through the registry, run by the litert runner flavor
(the simulated phone installs its stand-in) or the host engine, and reported side by side with the
comparison against Lite fp32. Skipped where the litert extra is not installed."""

from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner

from fermbench import runtimes
from fermbench.bench.start import run_benchmark
from fermbench.data.synthetic import write_folder

pytestmark = [
    pytest.mark.adb,
    pytest.mark.slow,
    pytest.mark.skipif(
        bool(runtimes.missing_modules(runtimes.LITERT)),
        reason=f"the litert extra is not installed: {runtimes.LITERT.install_hint}",
    ),
]

LITE, ET, LITERT = (r.default_version for r in (runtimes.PYTORCH_LITE, runtimes.EXECUTORCH, runtimes.LITERT))


def test_litert_runs_on_the_host_and_the_simulated_phone_beside_the_others(
    adb_env, trained_shallow_cnn, tiny, tmp_path
):
    checkpoints = tmp_path / "weights"
    checkpoints.mkdir()
    shutil.copy(trained_shallow_cnn, checkpoints / "shallow_cnn.ckpt")
    fer = tmp_path / "fer2013"
    write_folder(fer, {"PublicTest": 40})
    settings = tiny(
        devices=("host", "sim"),
        models=("shallow_cnn",),
        checkpoints=str(checkpoints),
        untrained=False,
        runtimes=(LITE, ET, LITERT),
        quant=("fp32",),
        fer_data=str(fer),
        fer_limit=40,
        cooldown="none",
    )
    outcome = run_benchmark(settings, out=tmp_path / "results", model_dir=tmp_path / "models")
    assert outcome.status == "complete", [(r.key, r.error) for r in outcome.records]
    info = outcome.store.info
    key = f"shallow_cnn/{LITERT}/fp32"
    assert info.models[key]["file"] == "shallow_cnn.fp32.tflite"
    litert = [r for r in outcome.records if r.key == key]
    assert {r.device for r in litert} == {"host", "sim"}
    for r in litert:
        assert r.status == "ok", r.error
        assert r.latency and r.latency[0].runtime is not None and r.latency[0].runtime.name == "litert"
        assert r.latency[0].summary is not None and r.latency[0].summary.n >= 5
        assert r.accuracy is not None and r.accuracy.n == 40
    assert set(info.devices["sim"].runners) == {"pytorch_lite", "executorch", "litert"}

    from fermbench.report.commands import report_cmd

    result = CliRunner().invoke(report_cmd, ["--results", str(tmp_path / "results"), "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = {(row["device"], row["export_runtime"]): row for row in json.loads(result.stdout)["results"]}
    for device in ("host", "sim"):
        assert {(device, r) for r in (LITE, ET, LITERT)} <= set(rows)
        lite, row = rows[(device, LITE)], rows[(device, LITERT)]
        assert row["fer_change_vs_lite_fp32"] == pytest.approx(row["fer_acc_device"] - lite["fer_acc_device"])
