"""`fermbench data check`: planted duplicates, leaks and blanks are all counted."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from fermbench.cli import main
from fermbench.data.check import check_dataset


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("FERMBENCH_CACHE", str(tmp_path / "cache"))


@pytest.fixture
def planted(tmp_path):
    """A CSV with: one train duplicate pair (same label), one conflicting train pair, one test image
    copied from training with another label, one with the same label, and two blank images."""
    rng = np.random.default_rng(1)
    faces = [rng.integers(0, 256, 2304) for _ in range(8)]
    blank = np.full(2304, 128)
    rows = [
        (0, faces[0], "Training"),
        (0, faces[0], "Training"),  # duplicate, same label
        (1, faces[1], "Training"),
        (2, faces[1], "Training"),  # duplicate, conflicting labels
        (3, faces[2], "Training"),
        (4, faces[3], "Training"),
        (6, blank, "Training"),
        (3, faces[2], "PublicTest"),  # leak, same label
        (5, faces[3], "PublicTest"),  # leak, other label
        (6, faces[4], "PublicTest"),
        (6, blank + 1, "PrivateTest"),
        (2, faces[5], "PrivateTest"),
    ]
    path = tmp_path / "fer2013.csv"
    path.write_text("emotion,pixels,Usage\n" + "".join(f"{y},{' '.join(map(str, px))},{u}\n" for y, px, u in rows))
    return path


def test_report_counts_what_was_planted(planted):
    r = check_dataset(planted)
    assert r.counts["Training"] == [2, 1, 1, 1, 1, 0, 1]
    assert sum(r.counts["PublicTest"]) == 3 and sum(r.counts["PrivateTest"]) == 2
    assert r.duplicate_groups == 4  # faces 0, 1, 2, 3
    assert r.duplicate_images == 8
    assert r.conflicting_groups == 2  # faces 1 (train) and 3 (train vs test)
    assert r.overlap == {"PublicTest": 2, "PrivateTest": 0}
    assert r.overlap_conflicting == {"PublicTest": 1, "PrivateTest": 0}
    assert r.near_blank == {"Training": 1, "PublicTest": 0, "PrivateTest": 1}
    assert r.examples["near_blank/PrivateTest"] == ["row10"]


def test_cli_table_and_json(planted):
    runner = CliRunner()
    out = runner.invoke(main, ["data", "check", str(planted)])
    assert out.exit_code == 0, out.output
    assert "4 groups, 8 images; 2 groups with conflicting labels" in out.output
    assert "PublicTest: 2 images (66.7%) byte-identical" in out.output
    js = runner.invoke(main, ["data", "check", str(planted), "--json"])
    assert json.loads(js.output)["overlap"]["PublicTest"] == 2


def test_cli_bad_data_is_one_line_error(tmp_path):
    bad = tmp_path / "fer2013.csv"
    bad.write_text("emotion,pixels,Usage\n0,1 2 3,Training\n")
    out = CliRunner().invoke(main, ["data", "check", str(bad)])
    assert out.exit_code == 1
    assert out.output.startswith("Error: ") and "line 2: 3 pixels" in out.output
    assert "Traceback" not in out.output
