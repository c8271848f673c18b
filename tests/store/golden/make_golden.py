"""Writes tests/store/golden/: a small schema-2 session and what `fermbench report` printed for it.

Run once at the commit whose report is the reference (aa6f998), from the repository root:
    PYTHONPATH=harness python tests/store/golden/make_golden.py
It runs shallow_cnn (untrained, Lite fp32 and ExecuTorch fp32) on the host runner, 2 repeats of
5 timed iterations, 21 FER-2013 images and three photos; model files are not kept.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np
from click.testing import CliRunner

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
FER = REPO / ".." / "shared" / "fer2013"
FORMATS = ("markdown", "csv", "json", "table")


def photos(root: Path) -> Path:
    """One face, one blank photo, one undecodable file (as tests/bench/conftest.py's photo_dir)."""
    (root / "happy").mkdir(parents=True)
    (root / "sad").mkdir()
    gray = cv2.imread(str(FER / "test/happy/PublicTest_10130075.jpg"), cv2.IMREAD_GRAYSCALE)
    big = cv2.resize(gray, (192, 192), interpolation=cv2.INTER_CUBIC)
    framed = cv2.copyMakeBorder(big, 64, 64, 64, 64, cv2.BORDER_CONSTANT, value=128)
    cv2.imwrite(str(root / "happy" / "face.png"), framed)
    cv2.imwrite(str(root / "sad" / "blank.png"), np.full((240, 240), 200, np.uint8))
    (root / "sad" / "broken.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    return root


def main() -> None:
    from fermbench.bench.settings import build_settings
    from fermbench.bench.start import run_benchmark
    from fermbench.report.commands import report_cmd

    work = Path(tempfile.mkdtemp(prefix="golden-"))
    settings = build_settings(
        devices=("host",),
        models=("shallow_cnn",),
        runtimes=("pytorch_android_lite-2.1.0", "executorch-1.4.1"),
        repeats=2,
        warmup=1,
        warmup_seconds=0.0,
        iterations=5,
        min_seconds=0.0,
        cooldown_seconds=0.0,
        timeout_seconds=120.0,
        seed=1,
        untrained=True,
        fer_data=str(FER.resolve()),
        fer_limit=21,
        photos=str(photos(work / "photos")),
    )
    outcome = run_benchmark(settings, out=work / "results", model_dir=work / "models")
    target = HERE / "v2-session"
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(outcome.store.path, target / "session", ignore=shutil.ignore_patterns(".lock"))
    for fmt in FORMATS:
        env = {"COLUMNS": "200"} if fmt == "table" else {}
        result = CliRunner().invoke(report_cmd, ["--results", str(target), "session", "--format", fmt], env=env)
        if result.exit_code != 0:
            sys.exit(result.output)
        (target / f"report.{fmt}").write_text(result.stdout, encoding="utf-8")
    charts = work / "charts"
    result = CliRunner().invoke(report_cmd, ["--results", str(target), "session", "--charts", str(charts)])
    drawn = [
        line.replace(str(charts) + "/", "")
        for line in result.stderr.splitlines()
        if line.startswith(("chart:", "not drawn:"))
    ]
    (target / "charts.txt").write_text("\n".join(drawn) + "\n", encoding="utf-8")
    shutil.rmtree(work)
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
