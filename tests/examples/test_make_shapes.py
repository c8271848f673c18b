"""examples/make_shapes.py: a labelled RGB folder, the same bytes for the same seed."""

from __future__ import annotations

import pytest
from PIL import Image

from examples.make_shapes import CLASSES, main


def _files(root):
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_seed_same_bytes_and_the_counts(tmp_path):
    main([str(tmp_path / "a"), "--per-class", "5", "--seed", "3"])
    main([str(tmp_path / "b"), "--per-class", "5", "--seed", "3"])
    a, b = _files(tmp_path / "a"), _files(tmp_path / "b")
    assert a == b
    assert sorted({name.split("/")[0] for name in a}) == list(CLASSES)
    assert all(sum(name.startswith(c + "/") for name in a) == 5 for c in CLASSES)
    main([str(tmp_path / "c"), "--per-class", "5", "--seed", "4"])
    assert _files(tmp_path / "c") != a


def test_pictures_are_rgb_pngs_of_varied_sizes(tmp_path):
    main([str(tmp_path / "s"), "--per-class", "6"])
    sizes = set()
    for path in (tmp_path / "s").rglob("*.png"):
        with Image.open(path) as image:
            assert (image.format, image.mode) == ("PNG", "RGB")
            sizes.add(image.size)
    assert len(sizes) > 1 and any(w != h for w, h in sizes)  # not all square: the center crop matters


def test_a_folder_in_use_is_refused(tmp_path, capsys):
    (tmp_path / "old.txt").write_text("x")
    with pytest.raises(SystemExit) as exc:
        main([str(tmp_path)])
    assert "not empty" in str(exc.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.txt"]
