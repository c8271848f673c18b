"""The given files every test here reads, saved once per session: a .ptl, a .pte and (with the
litert extra) an fp32 and an int8 .tflite of the same tiny 3x32x32 model."""

from __future__ import annotations

from pathlib import Path

import pytest

from given_models import TinyRgb, save_pte, save_ptl, save_tflite
from litert_tiny import require_litert


@pytest.fixture(scope="session")
def given_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("given")


@pytest.fixture(scope="session")
def ptl_file(given_dir: Path) -> Path:
    return save_ptl(TinyRgb(), given_dir / "tiny rgb.ptl")


@pytest.fixture(scope="session")
def pte_file(given_dir: Path) -> Path:
    pytest.importorskip("executorch", reason="the ExecuTorch Python package is not installed")
    return save_pte(TinyRgb(), given_dir / "tiny.pte")


@pytest.fixture(scope="session")
def tflite_file(given_dir: Path) -> Path:
    require_litert()
    return save_tflite(TinyRgb(), given_dir / "tiny.tflite")


@pytest.fixture(scope="session")
def int8_tflite_file(given_dir: Path) -> Path:
    require_litert()
    return save_tflite(TinyRgb(), given_dir / "tiny_int8.tflite", int8=True)
