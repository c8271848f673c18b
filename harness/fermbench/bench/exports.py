"""Exported models for a session, re-exported only when the checkpoint or the settings changed.

A cached export is used when models/<name>.ptl and models/<name>.json exist, the .ptl still
has the sha256 the .json names, and the .json was made from the same checkpoint (sha256, or
"untrained" on both sides), for the same bytecode target, by the same torch version.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ..errors import FermbenchError
from ..fileio import sha256_file
from ..paths import models_dir


@dataclass
class ModelFile:
    name: str
    path: Path
    meta: dict[str, Any]
    cached: bool  # True when an earlier export was reused
    seconds: float = 0.0  # time spent exporting or checking the cache


def checkpoint_path(name: str, checkpoints: str | Path | None) -> Path:
    return Path(checkpoints or models_dir()) / f"{name}.ckpt"


def cached_export(name: str, out_dir: Path, checkpoint: Path, bytecode: int | None) -> ModelFile | None:
    ptl, meta_path = out_dir / f"{name}.ptl", out_dir / f"{name}.json"
    if not (ptl.is_file() and meta_path.is_file()):
        return None
    try:
        meta = json.loads(meta_path.read_text())
    except (OSError, ValueError):
        return None
    want_ckpt = sha256_file(checkpoint) if checkpoint.is_file() else None
    have_ckpt = (meta.get("checkpoint") or {}).get("sha256")
    if want_ckpt != have_ckpt or bool(meta.get("trained")) != (want_ckpt is not None):
        return None
    if want_ckpt is not None and not {"curve", "missing"} & set(meta.get("training") or {}):
        return None  # exported before checkpoints carried their training history
    if bytecode is not None and meta.get("bytecode_version") != bytecode:
        return None
    if bytecode is None and meta.get("bytecode_version") != meta.get("bytecode_native"):
        return None
    if meta.get("torch_version") != torch.__version__:
        return None
    if meta.get("sha256") != sha256_file(ptl):
        return None
    return ModelFile(name, ptl, normalise_meta(meta), cached=True)


def normalise_meta(meta: dict[str, Any]) -> dict[str, Any]:
    """The exporter's meta plus the flat keys results/README.md promises (checkpoint_sha256)."""
    return {**meta, "checkpoint_sha256": (meta.get("checkpoint") or {}).get("sha256")}


def ensure_export(name: str, *, checkpoints: str | Path | None = None, out_dir: str | Path | None = None,
                  bytecode: int | None = None) -> ModelFile:
    """The model's .ptl, exported now unless an up-to-date export exists (ExportError etc. on failure)."""
    import time

    from ..export import export_model

    start = time.perf_counter()
    out = Path(out_dir) if out_dir is not None else models_dir()
    ckpt = checkpoint_path(name, checkpoints)
    hit = cached_export(name, out, ckpt, bytecode)
    if hit is not None:
        hit.seconds = time.perf_counter() - start
        return hit
    # No checkpoint in the folder we were given: untrained weights, said so explicitly (the
    # exporter would otherwise look in its own default folder and disagree with the cache check).
    if ckpt.is_file():
        result = export_model(name, checkpoint=ckpt, out_dir=out, bytecode=bytecode)
    else:
        result = export_model(name, out_dir=out, bytecode=bytecode, untrained=True)
    return ModelFile(name, Path(result.path), normalise_meta(result.meta), cached=False,
                     seconds=time.perf_counter() - start)


def export_error(name: str, exc: Exception) -> str:
    """One line for the record of a model whose export failed."""
    kind = "export failed" if isinstance(exc, FermbenchError) else f"export crashed ({type(exc).__name__})"
    return f"{kind}: {exc}"
