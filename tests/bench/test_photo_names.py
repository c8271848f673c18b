"""A photo whose file name is not UTF-8 no longer fails the real-world phase (issue 22, item 9):
it is classified and named (with \\xNN for the odd bytes) in the record and the predictions."""

from __future__ import annotations

import os
import shutil

import pytest

from fermbench.bench.start import run_benchmark

pytestmark = pytest.mark.slow


def test_a_non_utf8_photo_name_is_classified_and_named(tiny, bench_models, photo_dir, tmp_path):
    face = photo_dir / "happy" / "face.png"
    odd = os.fsencode(str(photo_dir / "happy")) + b"/visage-\xe9.png"
    shutil.copyfile(face, odd)
    settings = tiny(devices=("host",), models=("shallow_cnn",), photos=str(photo_dir))
    outcome = run_benchmark(settings, out=tmp_path / "results", model_dir=bench_models)
    (rec,) = outcome.records
    assert rec.realworld.ok and rec.realworld.counts.classified == 2, rec.realworld.error
    predictions = (outcome.store.path / rec.realworld.predictions).read_text(encoding="utf-8")
    assert "happy/visage-\\xe9.png" in predictions
