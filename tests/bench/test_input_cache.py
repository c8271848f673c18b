"""The cached runner input file is reused only when its bytes still hash to its name (issue 22,
item 7): a corrupted file of the same size used to be pushed and classified."""

from __future__ import annotations

import numpy as np

from fermbench.bench.inputs import _images_file
from fermbench.fileio import sha256_file


def test_a_corrupted_input_cache_of_the_same_size_is_rewritten(tmp_path, monkeypatch):
    monkeypatch.setenv("FERMBENCH_CACHE", str(tmp_path / "cache"))
    images = np.random.default_rng(0).integers(0, 256, (5, 48, 48), dtype=np.uint8)
    path, digest = _images_file(images)
    good = path.read_bytes()
    damaged = bytearray(good)
    damaged[-100:] = bytes(100)  # same size, other pixels
    path.write_bytes(bytes(damaged))
    again, same = _images_file(images)
    assert again == path and same == digest
    assert sha256_file(path) == digest and path.read_bytes() == good
