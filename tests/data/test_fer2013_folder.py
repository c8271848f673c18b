"""Image-folder layout: labels from folder names, splits from prefixes, validation, content cache."""

from __future__ import annotations

import os

import cv2
import numpy as np
import pytest
import torch

from fermbench.data.fer2013 import EmptySplitError, load_split
from fermbench.data.synthetic import make_images, write_folder
from fermbench.errors import DataError
from fermbench.labels import CLASS_NAMES


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("FERMBENCH_CACHE", str(tmp_path / "cache"))


@pytest.fixture
def folder(tmp_path):
    root = tmp_path / "fer"
    write_folder(root, {"Training": 35, "PublicTest": 14, "PrivateTest": 7})
    return root


def test_images_and_labels_match_what_was_written(folder):
    data = load_split(folder, "Training")
    images, labels = make_images(35, seed=0)
    assert data.images.dtype == torch.uint8 and data.images.shape == (35, 48, 48)
    assert data.labels.dtype == torch.int64
    # names are "train/<class>/Training_<i>.png": recover i and check pixels and label
    for k, name in enumerate(data.names):
        folder_name, file_name = name.split("/")[1:]
        i = int(file_name.split("_")[1].split(".")[0])
        assert CLASS_NAMES[data.labels[k]] == folder_name
        assert data.labels[k] == labels[i]
        assert np.array_equal(data.images[k].numpy(), images[i])
    assert data.class_counts() == [5] * 7


def test_label_order_is_the_datasets_not_alphabetical(folder):
    # alphabetical order would make neutral 4 and sad 5; FER-2013 has sad 4 and neutral 6
    data = load_split(folder, "PublicTest")
    by_folder = {n.split("/")[1]: y for n, y in zip(data.names, data.labels.tolist())}
    assert by_folder["neutral"] == 6 and by_folder["sad"] == 4 and by_folder["angry"] == 0


def test_prefix_decides_split_inside_test_folder(folder):
    public = load_split(folder, "PublicTest")
    private = load_split(folder, "PrivateTest")
    assert len(public) == 14 and len(private) == 7
    assert all("/PrivateTest_" in n for n in private.names)
    assert all(n.startswith("test/") for n in private.names)


def test_files_without_prefix_take_their_folders_split(tmp_path):
    root = tmp_path / "fer"
    (root / "test" / "sad").mkdir(parents=True)
    (root / "train" / "fear").mkdir(parents=True)
    cv2.imwrite(str(root / "test" / "sad" / "img1.png"), np.full((48, 48), 7, np.uint8))
    cv2.imwrite(str(root / "train" / "fear" / "img2.png"), np.full((48, 48), 9, np.uint8))
    assert load_split(root, "PublicTest").labels.tolist() == [4]
    assert load_split(root, "Training").labels.tolist() == [2]
    with pytest.raises(EmptySplitError, match="PrivateTest is empty.*Training 1, PublicTest 1"):
        load_split(root, "PrivateTest")


def test_second_load_comes_from_cache_and_is_identical(folder):
    first = load_split(folder, "Training")
    second = load_split(folder, "Training")
    assert not first.from_cache and second.from_cache
    assert torch.equal(first.images, second.images) and torch.equal(first.labels, second.labels)
    assert first.names == second.names and first.digest == second.digest


def test_changed_content_is_not_served_from_cache(folder):
    first = load_split(folder, "Training")
    target = folder / first.names[0]
    cv2.imwrite(str(target), np.full((48, 48), 200, np.uint8))
    again = load_split(folder, "Training")
    assert not again.from_cache
    assert again.digest != first.digest
    assert int(again.images[0].float().mean()) == 200


def test_wrong_size_names_offenders_and_count(folder):
    for i in range(7):
        cv2.imwrite(str(folder / "train" / "angry" / f"Training_big{i}.png"), np.zeros((64, 64), np.uint8))
    with pytest.raises(DataError) as err:
        load_split(folder, "Training")
    msg = str(err.value)
    assert "7 problems" in msg and "(and 2 more)" in msg
    assert "train/angry/Training_big0.png: image is 64x64, expected 48x48" in msg
    assert "\n" not in msg


def test_unreadable_image_is_an_error(folder):
    (folder / "train" / "sad" / "Training_broken.jpg").write_bytes(b"not a jpeg at all")
    with pytest.raises(DataError, match=r"1 problem: train/sad/Training_broken.jpg: unreadable image"):
        load_split(folder, "Training")


def test_unknown_class_folder_is_an_error(folder):
    (folder / "test" / "contempt").mkdir()
    with pytest.raises(DataError, match=r"test/contempt/: unknown class folder"):
        load_split(folder, "Training")  # any split: the layout itself is wrong


def test_stray_files_are_errors_not_skipped(folder):
    (folder / "train" / "notes.txt").write_text("x")
    (folder / "train" / "happy" / "labels.csv").write_text("x")
    (folder / "train" / "happy" / ".DS_Store").write_text("x")  # OS cruft is not data: skipped
    with pytest.raises(DataError) as err:
        load_split(folder, "Training")
    msg = str(err.value)
    assert "2 problems" in msg and "train/notes.txt: file outside a class folder" in msg
    assert "train/happy/labels.csv: not an image file" in msg


def test_not_a_dataset(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        load_split(tmp_path / "nope", "Training")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="neither"):
        load_split(tmp_path / "empty", "Training")
    with pytest.raises(DataError, match="unknown split 'Validation'"):
        load_split(tmp_path / "empty", "Validation")


def test_dangling_link_is_reported(folder):
    os.symlink(folder / "missing.png", folder / "train" / "fear" / "Training_link.png")
    with pytest.raises(DataError, match="train/fear/Training_link.png: not a file"):
        load_split(folder, "Training")
