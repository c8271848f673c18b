"""Kaggle CSV: every split, header variants, and malformed rows named by line."""

from __future__ import annotations

import numpy as np
import pytest

from fermbench.data.fer2013 import EmptySplitError, load_split
from fermbench.data.synthetic import write_csv
from fermbench.errors import DataError


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("FERMBENCH_CACHE", str(tmp_path / "cache"))


@pytest.fixture
def csv_file(tmp_path):
    path = tmp_path / "fer2013.csv"
    written = write_csv(path, {"Training": 30, "PublicTest": 10, "PrivateTest": 9})
    return path, written


def test_every_split_reads_back_exactly(csv_file):
    path, written = csv_file
    offset = 0
    for split in ("Training", "PublicTest", "PrivateTest"):
        data = load_split(path, split)
        images, labels = written[split]
        assert np.array_equal(data.images.numpy(), images)
        assert data.labels.tolist() == labels.tolist()
        assert data.names == [f"row{offset + i}" for i in range(len(labels))]
        offset += len(labels)


def test_folder_holding_the_csv_is_accepted(csv_file):
    path, written = csv_file
    assert len(load_split(path.parent, "PublicTest")) == 10


def test_one_parse_fills_the_cache_for_all_splits(csv_file):
    path, _ = csv_file
    assert not load_split(path, "Training").from_cache
    assert load_split(path, "PrivateTest").from_cache
    assert load_split(path, "Training").from_cache


def test_header_with_spaces_in_another_order(tmp_path):
    path = tmp_path / "icml_face_data.csv"
    pixels = " ".join(["17"] * 2304)
    path.write_text(f"emotion, Usage, pixels\n5,PublicTest,{pixels}\n")
    data = load_split(path, "PublicTest")
    assert data.labels.tolist() == [5] and int(data.images.max()) == 17


def test_malformed_rows_are_named_with_line_numbers(tmp_path):
    good = " ".join(["1"] * 2304)
    lines = [
        "emotion,pixels,Usage",
        f"0,{good},Training",  # line 2: fine
        f"9,{good},Training",  # line 3: no class 9
        f"1,{' '.join(['1'] * 2000)},Training",  # line 4: wrong size
        f"2,{good},Validation",  # line 5: unknown usage
        f"3,{good.replace('1', 'x', 1)},Training",  # line 6: not a number
        f"4,{good.replace('1', '300', 1)},Training",  # line 7: out of range
        "5,1 2 3",  # line 8: missing field
    ]
    path = tmp_path / "bad.csv"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError) as err:
        load_split(path, "Training")
    msg = str(err.value)
    assert "6 problems" in msg and "(and 1 more)" in msg
    for expected in (
        "line 3: emotion '9'",
        "line 4: 2000 pixels, expected 2304",
        "line 5: Usage 'Validation'",
        "line 6: pixels are not space-separated integers",
        "line 7: pixel values outside 0-255",
    ):
        assert expected in msg


def test_missing_column(tmp_path):
    path = tmp_path / "fer2013.csv"
    path.write_text("emotion,pixels\n0,1 2\n")
    with pytest.raises(DataError, match="missing column\\(s\\) Usage"):
        load_split(path, "Training")


def test_empty_split(tmp_path):
    path = tmp_path / "fer2013.csv"
    write_csv(path, {"Training": 7})
    for _ in range(2):  # parsed, then answered from the cache: the same error
        with pytest.raises(EmptySplitError, match="PrivateTest is empty.*Training 7"):
            load_split(path, "PrivateTest")
    assert load_split(path, "Training").from_cache
