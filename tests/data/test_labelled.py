"""Any labelled image folder or path,label CSV, prepared by the model's own spec (data/labelled.py):
RGB and grayscale, stretch and centre crop, labels the model does not know, pictures that are not."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from fermbench.data import preprocess
from fermbench.data.labelled import load_labelled
from fermbench.errors import DataError
from fermbench.zoo.spec import CENTER_CROP, FACE_CROP, STRETCH, ModelSpec, spec_from

cv2 = pytest.importorskip("cv2")

COLOURS = {"red": (255, 0, 0), "green": (0, 255, 0), "blue": (0, 0, 255)}  # RGB


def rgb_spec(resize: str = STRETCH, size: tuple[int, int] = (16, 16), channels: int = 3, **kw) -> ModelSpec:
    return spec_from(
        {
            "input_shape": (1, channels, *size),
            "classes": ("blue", "green", "red"),  # not the folders' order: labels are looked up by name
            "mean": (0.5,) * channels,
            "std": (0.25,) * channels,
            "resize": resize,
            "name": "colours",
            **kw,
        },
        "test",
    )


def write_rgb(path: Path, image_rgb: np.ndarray) -> None:
    assert cv2.imwrite(str(path), np.ascontiguousarray(image_rgb[..., ::-1]))  # OpenCV writes BGR


def square(colour: tuple[int, int, int], h: int, w: int) -> np.ndarray:
    """A picture of one colour with a 2-pixel white frame (a stretch keeps it at the edges)."""
    image = np.full((h, w, 3), 255, np.uint8)
    image[2:-2, 2:-2] = colour
    return image


@pytest.fixture()
def colour_folder(tmp_path) -> Path:
    root = tmp_path / "colours"
    for name, colour in COLOURS.items():
        (root / name).mkdir(parents=True)
        write_rgb(root / name / "wide.png", square(colour, 30, 60))
        write_rgb(root / name / "tall.png", square(colour, 50, 20))
    (root / "blue" / "broken.png").write_bytes(b"\x89PNG not really")
    (root / "red" / ".DS_Store").write_bytes(b"hidden: not data")
    return root


def test_rgb_folder_with_its_own_classes_stretched_to_the_models_size(colour_folder):
    data = load_labelled(colour_folder, rgb_spec())
    assert data.images.shape == (6, 3, 16, 16) and data.images.dtype == np.uint8
    assert data.names == [f"{c}/{n}" for c in ("blue", "green", "red") for n in ("tall.png", "wide.png")]
    assert data.labels.tolist() == [0, 0, 1, 1, 2, 2] and data.classes == ("blue", "green", "red")
    for image, name in zip(data.images, data.names):
        colour = COLOURS[name.split("/")[0]]
        assert tuple(image[:, 8, 8]) == colour, name  # channels in RGB order, the colour survives
        assert tuple(image[:, 0, 0]) != colour  # a stretch keeps the white frame in the corner
    assert data.counts == {"listed": 7, "loaded": 6, "undecodable": 1, "no_face": 0}
    assert data.problems == {"blue/broken.png": "not a decodable image"}
    assert data.resize == STRETCH and data.source == str(colour_folder)
    assert len(data.sha256) == 64 and data.sha256 == load_labelled(colour_folder, rgb_spec()).sha256


def test_center_crop_cuts_the_frame_away_and_keeps_non_square_sizes(colour_folder):
    data = load_labelled(colour_folder, rgb_spec(CENTER_CROP, size=(12, 20), crop_fraction=0.5))
    assert data.images.shape == (6, 3, 12, 20)
    for image, name in zip(data.images, data.names):
        colour = np.array(COLOURS[name.split("/")[0]], np.uint8).reshape(3, 1, 1)
        assert (image == colour).all(), name  # only the centre: every pixel of the crop is the colour


def test_center_crop_geometry():
    image = np.arange(40 * 80, dtype=np.int64).reshape(40, 80).astype(np.uint8)
    assert preprocess.center_crop(image, 16, 16, 1.0).shape == (16, 16)
    tall = np.zeros((300, 100, 3), np.uint8)
    tall[140:160] = 255  # a band across the middle
    out = preprocess.center_crop(tall, 8, 8, 0.5)  # shorter side to 16: 48 x 16, then the centre 8 x 8
    assert out.shape == (8, 8, 3) and out[4, 4].tolist() == [255, 255, 255] and out[0, 0].tolist() == [0, 0, 0]


def test_grayscale_model_reads_rgb_pictures_as_gray(colour_folder):
    data = load_labelled(colour_folder, rgb_spec(channels=1))
    assert data.images.shape == (6, 1, 16, 16)
    red = data.images[data.names.index("red/wide.png"), 0, 8, 8]
    assert abs(int(red) - round(0.299 * 255)) <= 1  # OpenCV's luma of pure red


def test_csv_of_paths_and_labels_with_a_header_and_any_case(colour_folder, tmp_path):
    listing = tmp_path / "labels.csv"
    listing.write_text(
        "path,label\ncolours/red/wide.png,Red\ncolours/green/tall.png,green\ncolours/blue/broken.png,blue\n"
    )
    data = load_labelled(listing, rgb_spec())
    assert data.names == ["colours/red/wide.png", "colours/green/tall.png"]
    assert data.labels.tolist() == [2, 1]
    assert tuple(data.images[0, :, 8, 8]) == COLOURS["red"]
    assert data.counts["undecodable"] == 1 and "colours/blue/broken.png" in data.problems


def test_labels_the_model_does_not_know_are_one_error_naming_them(tmp_path):
    root = tmp_path / "pets"
    for name in ("cat", "dog", "red"):
        (root / name).mkdir(parents=True)
        write_rgb(root / name / "a.png", square((9, 9, 9), 20, 20))
    with pytest.raises(DataError) as err:
        load_labelled(root, rgb_spec())
    assert str(err.value) == (
        "labels cat, dog are not classes of colours (blue, green, red): rename the folders or pick the model "
        "trained on them"
    )
    listing = tmp_path / "one.csv"
    listing.write_text("pets/cat/a.png,cat\n")
    with pytest.raises(DataError, match="^label cat is not a class of colours .*rename the labels"):
        load_labelled(listing, rgb_spec())


def test_a_model_without_classes_cannot_be_scored(colour_folder):
    spec = spec_from({"input_shape": (1, 3, 16, 16)}, "test")
    with pytest.raises(DataError, match="^timed names no classes, so it cannot be scored"):
        load_labelled(colour_folder, spec, model="timed")


def test_nothing_readable_is_an_error_and_so_are_bad_sources(tmp_path):
    root = tmp_path / "junk"
    (root / "red").mkdir(parents=True)
    (root / "red" / "a.png").write_bytes(b"nope")
    with pytest.raises(DataError, match="none of the 1 images .* red/a.png: not a decodable image"):
        load_labelled(root, rgb_spec())
    with pytest.raises(DataError, match="does not exist"):
        load_labelled(tmp_path / "absent", rgb_spec())
    (tmp_path / "flat").mkdir()
    with pytest.raises(DataError, match="no class subfolders"):
        load_labelled(tmp_path / "flat", rgb_spec())


def test_exif_orientation_is_applied(tmp_path):
    """A JPEG whose EXIF says 'rotate 90': decoded upright, as faces.py decodes photos."""
    pil = pytest.importorskip("PIL.Image")
    image = np.zeros((20, 40, 3), np.uint8)
    image[:, :20] = (255, 0, 0)  # left half red, right half black: 20 rows x 40 columns
    exif = pil.Exif()
    exif[0x0112] = 6  # orientation: the stored picture must be turned 90 degrees clockwise
    (tmp_path / "red").mkdir()
    pil.fromarray(image).save(tmp_path / "red" / "turned.jpg", exif=exif.tobytes(), quality=95)
    decoded, _ = preprocess.decode(tmp_path / "red" / "turned.jpg", 3)
    assert decoded is not None and decoded.shape == (40, 20, 3)  # upright: taller than wide
    assert decoded[5, 10, 0] > 200 and decoded[35, 10, 0] < 50  # the red half is now on top


def test_face_crop_is_the_photo_pipeline_of_the_fer_models(tmp_path):
    """A FACE_CROP spec goes through data/faces.py's Haar pipeline: a picture without a face is
    counted as no_face, not scored."""
    from fermbench.zoo.study import FER_SPEC

    root = tmp_path / "faces"
    (root / "happy").mkdir(parents=True)
    cv2.imwrite(str(root / "happy" / "blank.png"), np.full((120, 120), 200, np.uint8))
    assert FER_SPEC.preprocess.resize == FACE_CROP
    with pytest.raises(DataError, match="none of the 1 images .*blank.png: no face found"):
        load_labelled(root, FER_SPEC)


def test_face_crop_gives_the_same_crops_as_the_photos_phase(tmp_path):
    from fermbench.data.faces import crop_photos
    from fermbench.zoo.study import FER_SPEC

    face = Path(__file__).resolve().parents[2] / ".." / "shared" / "fer2013" / "test/happy/PublicTest_10130075.jpg"
    if not face.is_file():
        pytest.skip(f"needs FER-2013 at {face.parent} (absent)")
    gray = cv2.resize(cv2.imread(str(face), cv2.IMREAD_GRAYSCALE), (192, 192), interpolation=cv2.INTER_CUBIC)
    root = tmp_path / "faces"
    (root / "happy").mkdir(parents=True)
    cv2.imwrite(
        str(root / "happy" / "one.png"), cv2.copyMakeBorder(gray, 64, 64, 64, 64, cv2.BORDER_CONSTANT, value=128)
    )
    data = load_labelled(root, FER_SPEC)
    crops = crop_photos(root)
    assert data.images.shape == (1, 1, 48, 48) and data.labels.tolist() == [3]  # happy
    np.testing.assert_array_equal(data.images[:, 0], crops.images)
