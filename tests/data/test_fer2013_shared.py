"""The real dataset at ../shared/fer2013: counts and label mapping (skips where it is absent)."""

from __future__ import annotations

from pathlib import Path

import pytest

from fermbench.data.fer2013 import load_split
from fermbench.labels import CLASS_NAMES

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "fer2013"
pytestmark = [
    pytest.mark.data,
    pytest.mark.slow,
    pytest.mark.skipif(not (SHARED / "train").is_dir(), reason=f"FER-2013 not present at {SHARED}"),
]

# per-class counts of the canonical fer2013.csv, dataset order
EXPECTED = {
    "Training": [3995, 436, 4097, 7215, 4830, 3171, 4965],
    "PublicTest": [467, 56, 496, 895, 653, 415, 607],
}


@pytest.mark.parametrize("split", sorted(EXPECTED))
def test_counts_and_labels(split, tmp_path, monkeypatch):
    monkeypatch.setenv("FERMBENCH_CACHE", str(tmp_path))
    data = load_split(SHARED, split)
    assert data.class_counts() == EXPECTED[split]
    assert data.images.shape == (sum(EXPECTED[split]), 48, 48)
    for name, label in zip(data.names, data.labels.tolist()):
        assert name.split("/")[1] == CLASS_NAMES[label]
        assert name.split("/")[2].startswith(f"{split}_")
    cached = load_split(SHARED, split)
    assert cached.from_cache and cached.digest == data.digest
