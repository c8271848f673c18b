"""Hostile inputs cost little and end in one line (issue 22, items 8, 9 and 10): a checkpoint
that would unpack to gigabytes is refused from its zip directory before torch.load; a photo whose
header claims too many pixels is refused before decoding; non-UTF-8 photo names, malformed
checkpoints and photo CSVs are named, never a traceback."""

from __future__ import annotations

import json
import os
import struct
import zipfile
import zlib
from pathlib import Path

import pytest
import torch

from fermbench.data.faces import MAX_PHOTO_PIXELS, decode_gray, list_photos
from fermbench.errors import DataError, ModelError
from fermbench.zoo import MODEL_NAMES, build_model
from fermbench.zoo import checkpoint as ckpt


def small_checkpoint(path: Path, **payload) -> Path:
    body = {
        "format": ckpt.FORMAT,
        "format_version": ckpt.FORMAT_VERSION,
        "arch": "shallow_cnn",
        "state_dict": {},
        "class_names": [],
        "meta": {},
    }
    body.update(payload)
    torch.save(body, path)
    return path


def test_the_size_limit_covers_every_zoo_model():
    largest = max(sum(t.numel() * t.element_size() for t in build_model(n).state_dict().values()) for n in MODEL_NAMES)
    assert ckpt.LARGEST_MODEL_BYTES >= largest


def test_a_checkpoint_bomb_is_refused_before_torch_load(tmp_path, monkeypatch):
    path = small_checkpoint(tmp_path / "bomb.ckpt")
    with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        with archive.open("bomb/data/huge", "w", force_zip64=True) as entry:
            zeros = bytes(1 << 20)
            for _ in range(ckpt.MAX_CHECKPOINT_BYTES // len(zeros) + 1):
                entry.write(zeros)
    assert path.stat().st_size < ckpt.MAX_CHECKPOINT_BYTES // 100  # small on disk, huge unpacked

    def no_load(*args, **kwargs):
        raise AssertionError("torch.load must not be reached")

    monkeypatch.setattr(torch, "load", no_load)
    with pytest.raises(ModelError, match=r"would unpack to \d+ MB, over the 360 MB limit"):
        ckpt.load_checkpoint(path)


@pytest.mark.parametrize("state", [None, [1, 2], {"w": "not a tensor"}])
def test_a_checkpoint_without_a_state_dict_of_tensors_is_one_error(tmp_path, state):
    path = small_checkpoint(tmp_path / "odd.ckpt", state_dict=state)
    with pytest.raises(ModelError, match="no state_dict of named tensors"):
        ckpt.load_checkpoint(path)


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose IHDR claims width x height; its data is a token (only the header is read)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def test_a_photo_over_the_pixel_limit_is_refused_from_its_header(tmp_path, monkeypatch):
    import cv2

    path = tmp_path / "huge.png"
    path.write_bytes(png_header_only(10000, 10000))
    assert 10000 * 10000 > MAX_PHOTO_PIXELS

    def no_decode(*args, **kwargs):
        raise AssertionError("cv2.imdecode must not be reached")

    monkeypatch.setattr(cv2, "imdecode", no_decode)
    image, reason = decode_gray(path)
    assert image is None and "10000x10000 pixels, over the 40-megapixel limit" in reason


def test_a_non_utf8_photo_name_is_kept_distinct_and_writable(tmp_path):
    root = tmp_path / "photos"
    (root / "happy").mkdir(parents=True)
    raw = os.fsencode(str(root / "happy")) + b"/caf\xe9.png"
    with open(raw, "wb") as fh:
        fh.write(png_header_only(4, 4))
    (photo,) = list_photos(root)
    assert photo.name == "happy/caf\\xe9.png"
    json.dumps(photo.name).encode("utf-8")  # JSON, CSV and the terminal take it
    assert photo.path.is_file()  # and the file is still read by its real name


def test_photo_csvs_in_latin1_or_with_a_nul_and_a_single_photo_are_one_error(tmp_path):
    latin = tmp_path / "latin.csv"
    latin.write_bytes("caf\xe9.jpg,happy\n".encode("latin-1"))
    with pytest.raises(DataError, match="not UTF-8 text"):
        list_photos(latin)
    nul = tmp_path / "nul.csv"
    nul.write_bytes(b"a.jpg,happy\nb\0.jpg,sad\n")
    with pytest.raises(DataError, match="line 2: the path holds a NUL byte"):
        list_photos(nul)
    one = tmp_path / "some.jpg"
    one.write_bytes(png_header_only(4, 4))
    with pytest.raises(DataError, match="is one image; pass the folder"):
        list_photos(one)
