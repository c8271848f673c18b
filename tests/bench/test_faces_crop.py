"""Haar-cascade crop pipeline for real-world photos: faces found, none, several, undecodable."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from fermbench.data.faces import CLASSIFIED, MULTI_SKIPPED, NO_FACE, UNDECODABLE, crop_photos, detect_faces, list_photos
from fermbench.errors import DataError

cv2 = pytest.importorskip("cv2")
FER = Path(__file__).resolve().parents[2] / ".." / "shared" / "fer2013"
# Faces that the cascade finds once upscaled (checked by hand: 1 face each).
FACE_FILES = ["test/happy/PublicTest_10130075.jpg", "test/happy/PublicTest_10181609.jpg"]


def face_photo(rel: str, size: int = 192, pad: int = 64) -> np.ndarray:
    """A FER-2013 face upscaled and framed on a grey background: a photo-like input."""
    path = FER / rel
    if not path.is_file():
        pytest.skip(f"needs FER-2013 at {FER} (absent)")
    gray = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    big = cv2.resize(gray, (size, size), interpolation=cv2.INTER_CUBIC)
    return cv2.copyMakeBorder(big, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=128)


def two_faces() -> np.ndarray:
    small = face_photo(FACE_FILES[0], size=120, pad=40)  # 200 x 200
    large = face_photo(FACE_FILES[1], size=200, pad=40)  # 280 x 280
    canvas = np.full((280, 480), 128, np.uint8)
    canvas[:200, :200] = small
    canvas[:, 200:] = large
    return canvas


@pytest.fixture()
def photo_tree(tmp_path):
    root = tmp_path / "photos"
    (root / "happy").mkdir(parents=True)
    (root / "sad").mkdir()
    cv2.imwrite(str(root / "happy" / "one.png"), face_photo(FACE_FILES[0]))
    cv2.imwrite(str(root / "happy" / "two.png"), two_faces())
    cv2.imwrite(str(root / "sad" / "blank.png"), np.full((240, 240), 200, np.uint8))
    (root / "sad" / "broken.jpg").write_bytes(b"\xff\xd8 this is not a jpeg")
    return root


def test_largest_policy_counts_every_photo(photo_tree):
    crops = crop_photos(photo_tree)
    by_name = {c.photo.name: c for c in crops.crops}
    assert by_name["happy/one.png"].status == CLASSIFIED and by_name["happy/one.png"].faces == 1
    two = by_name["happy/two.png"]
    assert two.status == CLASSIFIED and two.faces == 2
    assert two.box[0] >= 200, "the largest face (right half) is the one kept"
    assert by_name["sad/blank.png"].status == NO_FACE
    assert by_name["sad/broken.jpg"].status == UNDECODABLE and "decodable" in by_name["sad/broken.jpg"].reason
    assert crops.counts == {"photos": 4, "classified": 2, "no_face": 1, "multi_face": 1, "undecodable": 1}
    assert crops.images.shape == (2, 48, 48) and crops.images.dtype == np.uint8
    assert crops.labels.tolist() == [3, 3]
    assert crops.names(UNDECODABLE) == ["sad/broken.jpg"]


def test_skip_policy_does_not_classify_group_photos(photo_tree):
    crops = crop_photos(photo_tree, policy="skip")
    statuses = {c.photo.name: c.status for c in crops.crops}
    assert statuses["happy/two.png"] == MULTI_SKIPPED
    assert crops.counts["classified"] == 1 and crops.counts["multi_face"] == 1


def test_crop_is_the_face_not_the_frame():
    photo = face_photo(FACE_FILES[0])
    ((x, y, w, h),) = detect_faces(photo)
    assert 40 <= x <= 110 and 40 <= y <= 110 and 120 <= w <= 230, (x, y, w, h)


def test_csv_source_with_header_names_and_indices(tmp_path, photo_tree):
    csv_path = tmp_path / "labels.csv"
    csv_path.write_text(f"path,label\nphotos/happy/one.png,happy\n{photo_tree / 'sad' / 'blank.png'},4\n")
    photos = list_photos(csv_path)
    assert [(p.name, p.label) for p in photos] == [
        ("photos/happy/one.png", 3),
        (str(photo_tree / "sad" / "blank.png"), 4),
    ]
    crops = crop_photos(csv_path)
    assert [c.status for c in crops.crops] == [CLASSIFIED, NO_FACE]


def test_missing_csv_photo_is_reported_by_name(tmp_path):
    csv_path = tmp_path / "labels.csv"
    csv_path.write_text("gone.jpg,sad\n")
    (crop,) = crop_photos(csv_path).crops
    assert crop.status == UNDECODABLE and crop.photo.name == "gone.jpg" and "cannot read" in crop.reason


def test_bad_layouts_are_clear_errors(tmp_path):
    (tmp_path / "cats").mkdir()
    (tmp_path / "cats" / "a.png").write_bytes(b"x")
    with pytest.raises(DataError, match="unknown label 'cats'"):
        list_photos(tmp_path)
    with pytest.raises(DataError, match="does not exist"):
        list_photos(tmp_path / "nope")
    bad = tmp_path / "bad.csv"
    bad.write_text("a.png,happy,extra\n")
    with pytest.raises(DataError, match="line 1"):
        list_photos(bad)
    with pytest.raises(DataError, match="unknown face policy"):
        crop_photos(tmp_path, policy="median")
