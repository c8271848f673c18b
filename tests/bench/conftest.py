"""Fixtures for session tests: exported models shared by the whole test run, tiny settings,
and a labelled photo folder made from FER-2013 faces (skips where the dataset is absent)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

FER = Path(__file__).resolve().parents[2] / ".." / "shared" / "fer2013"
FACE_FILES = {"happy": "test/happy/PublicTest_10130075.jpg", "sad": "test/happy/PublicTest_10181609.jpg"}


@pytest.fixture(scope="session")
def bench_models(tmp_path_factory) -> Path:
    """A models folder with every zoo model exported once (untrained weights, Lite) for all tests."""
    from fermbench.bench.exports import ensure_export
    from fermbench.export.runtimes import DEFAULT_RUNTIME
    from fermbench.store import Variant
    from fermbench.zoo import MODEL_NAMES

    folder = tmp_path_factory.mktemp("bench-models")
    for name in MODEL_NAMES:
        ensure_export(
            Variant(name, DEFAULT_RUNTIME, "fp32"), checkpoint=None, private_dir=folder / ".links", out_dir=folder
        )
    return folder


@pytest.fixture
def models_copy(bench_models, tmp_path) -> Path:
    """A private copy of the exported models (a test may break one)."""
    dst = tmp_path / "models"
    shutil.copytree(bench_models, dst)
    return dst


@pytest.fixture(scope="session", autouse=True)
def private_cache(tmp_path_factory):
    """One cache for the bench tests (decoded FER-2013, host predictions), never the user's."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("FERMBENCH_CACHE", str(tmp_path_factory.mktemp("bench-cache")))
        yield


@pytest.fixture
def tiny():
    """tiny(**settings): settings small enough for a test (few iterations, no cool-down)."""
    return make_tiny


def make_tiny(**over):
    from fermbench.bench.settings import build_settings

    base = dict(
        warmup=1,
        warmup_seconds=0.0,
        iterations=5,
        min_seconds=0.0,
        cooldown_seconds=0.0,
        timeout_seconds=60.0,
        reconnect_budget_seconds=5.0,
        seed=1,
        untrained=True,
    )
    base.update(over)
    return build_settings(**base)


@pytest.fixture
def fer_path() -> Path:
    if not (FER / "test").is_dir():
        pytest.skip(f"needs FER-2013 at {FER} (absent)")
    return FER.resolve()


@pytest.fixture
def photo_dir(tmp_path, fer_path) -> Path:
    """happy/face.png (one face), sad/blank.png (no face), sad/broken.jpg (undecodable)."""
    cv2 = pytest.importorskip("cv2")
    root = tmp_path / "photos"
    (root / "happy").mkdir(parents=True)
    (root / "sad").mkdir()
    gray = cv2.imread(str(fer_path / FACE_FILES["happy"]), cv2.IMREAD_GRAYSCALE)
    big = cv2.resize(gray, (192, 192), interpolation=cv2.INTER_CUBIC)
    cv2.imwrite(
        str(root / "happy" / "face.png"), cv2.copyMakeBorder(big, 64, 64, 64, 64, cv2.BORDER_CONSTANT, value=128)
    )
    cv2.imwrite(str(root / "sad" / "blank.png"), np.full((240, 240), 200, np.uint8))
    (root / "sad" / "broken.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    return root


@pytest.fixture
def adb_env(adb_server, monkeypatch):
    """The private adb server, as ANDROID_ADB_SERVER_PORT names it to fermbench."""
    monkeypatch.setenv("ANDROID_ADB_SERVER_PORT", str(adb_server.port))
    return adb_server
