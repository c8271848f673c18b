"""Where artifacts live. Relative to the working directory unless overridden by environment."""

from __future__ import annotations

import os
from pathlib import Path


def models_dir() -> Path:
    """Checkpoints and exported models (`FERMBENCH_MODELS`, default ./models)."""
    return Path(os.environ.get("FERMBENCH_MODELS", "models"))


def results_dir() -> Path:
    """Run outputs: training runs and benchmark sessions (`FERMBENCH_RESULTS`, default ./results)."""
    return Path(os.environ.get("FERMBENCH_RESULTS", "results"))


def cache_dir() -> Path:
    """Decoded-dataset cache and other rebuildable data (`FERMBENCH_CACHE`, default ./.cache)."""
    return Path(os.environ.get("FERMBENCH_CACHE", ".cache"))
