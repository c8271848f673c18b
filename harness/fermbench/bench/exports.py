"""Exported model files for a session, one per variant (model x runtime x quantisation),
re-exported only when the weights, the target or the tools changed.

The export cache is models/ (shared by every session on this machine). A cached file is used
when its metadata beside it names the same checkpoint (sha256, or untrained on both sides), the
same runtime target, quantisation and bytecode, the same torch (and ExecuTorch) version, and the
file still has the sha256 its metadata names. Checking and exporting happen under a lock on the
cache, so two sessions never read a half-replaced file; the session then works on its own hard
link of the accepted file (a later export that replaces models/<file> cannot change the file a
running session pushes), and every runner answer is checked against the sha256 it recorded.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import runtimes
from ..errors import FermbenchError
from ..fileio import sha256_file, storage_error
from ..locks import ProcessLock
from ..paths import models_dir
from ..store import Variant


@dataclass
class ModelFile:
    variant: Variant
    path: Path  # the session's own link to the accepted file
    meta: dict[str, Any]
    cached: bool  # True when an earlier export was reused
    seconds: float = 0.0  # time spent exporting or checking the cache

    @property
    def name(self) -> str:
        return self.variant.model

    @property
    def sha256(self) -> str:
        return str(self.meta.get("sha256", ""))


def export_paths(variant: Variant, out_dir: Path) -> tuple[Path, Path]:
    """Where the exporter writes a variant's file and its metadata (export/ decides the names)."""
    model_file, meta_file = runtimes.by_version(variant.runtime).files(variant.model, variant.quant)
    return out_dir / model_file, out_dir / meta_file


def _tool_versions_match(meta: dict[str, Any], runtime: str) -> bool:
    import torch

    if meta.get("torch_version") != torch.__version__:
        return False
    spec = runtimes.by_version(runtime)
    if not spec.tool_versions:
        return True
    versions: dict[str, str] = runtimes.resolve(spec.tool_versions)()
    return all(meta.get(key) == value for key, value in versions.items())


def cached_export(
    variant: Variant, out_dir: Path, checkpoint: Path | None, bytecode: int | None, calibration: str | None
) -> tuple[Path, dict[str, Any]] | None:
    path, meta_path = export_paths(variant, out_dir)
    if not (path.is_file() and meta_path.is_file()):
        return None
    try:
        meta = json.loads(meta_path.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(meta, dict):
        return None
    want_ckpt = sha256_file(checkpoint) if checkpoint is not None and checkpoint.is_file() else None
    have_ckpt = (meta.get("checkpoint") or {}).get("sha256")
    if want_ckpt != have_ckpt or bool(meta.get("trained")) != (want_ckpt is not None):
        return None
    if want_ckpt is not None and not {"curve", "missing"} & set(meta.get("training") or {}):
        return None  # exported before checkpoints carried their training history
    if meta.get("runtime_target") != variant.runtime or meta.get("quant", "fp32") != variant.quant:
        return None
    if bytecode is not None and meta.get("bytecode_version") != bytecode:
        return None
    if bytecode is None and meta.get("bytecode_version") != meta.get("bytecode_native"):
        return None
    if variant.quant == "int8" and not _same_calibration(meta, calibration):
        return None  # calibrated or gated on other images
    if not _tool_versions_match(meta, variant.runtime):
        return None
    if meta.get("sha256") != sha256_file(path):
        return None
    return path, normalise_meta(meta)


def _same_calibration(meta: dict[str, Any], fer_data: str | None) -> bool:
    """Were the file's calibration and agreement images these, by the sha256 of their pixels (a
    folder of the same name with other images is another calibration)?"""
    from ..export.fer_samples import fer_samples

    if fer_data is None:
        return False
    try:
        samples = fer_samples(fer_data)
    except FermbenchError:
        return False
    return (meta.get("calibration") or {}).get("sha256") == samples.calibration.sha256 and (
        (meta.get("agreement") or {}).get("sample") or {}
    ).get("sha256") == samples.agreement.sha256


def normalise_meta(meta: dict[str, Any]) -> dict[str, Any]:
    """The exporter's meta plus the flat keys results/README.md promises (checkpoint_sha256)."""
    return {**meta, "checkpoint_sha256": (meta.get("checkpoint") or {}).get("sha256")}


@contextlib.contextmanager
def cache_lock(out_dir: Path) -> Iterator[None]:
    """Only one process checks or replaces files in an export cache at a time."""
    lock = ProcessLock(out_dir / ".export.lock", "fermbench export")
    lock.acquire(lambda holder: None)
    try:
        yield
    finally:
        lock.release()


def private_link(path: Path, folder: Path, name: str | None = None) -> Path:
    """The session's own name for an accepted file (`name`, default the file's): a hard link (a
    copy across file systems)."""
    folder.mkdir(parents=True, exist_ok=True)
    dest = folder / (name or path.name)
    dest.unlink(missing_ok=True)
    try:
        os.link(path, dest)
    except OSError:
        try:
            shutil.copy2(path, dest)
        except OSError as exc:  # e.g. a TMPDIR smaller than the models: one line with the free space
            dest.unlink(missing_ok=True)
            raise storage_error(dest, exc) from None
    return dest


def ensure_export(
    variant: Variant,
    *,
    checkpoint: Path | None,
    private_dir: Path,
    out_dir: str | Path | None = None,
    bytecode: int | None = None,
    fer_data: str | None = None,
) -> ModelFile:
    """The variant's file, exported now unless an up-to-date export exists (ExportError etc. on
    failure). `checkpoint` None means untrained weights, chosen explicitly by the caller."""
    import time

    from ..export import export_model

    start = time.perf_counter()
    out = Path(out_dir) if out_dir is not None else models_dir()
    out.mkdir(parents=True, exist_ok=True)
    calibration = str(fer_data) if variant.quant == "int8" and fer_data else None
    with cache_lock(out):
        hit = cached_export(variant, out, checkpoint, bytecode, calibration)
        if hit is not None:
            path, meta = hit
            cached = True
        else:
            result = export_model(
                variant.model,
                checkpoint=checkpoint,
                out_dir=out,
                bytecode=bytecode,
                runtime=variant.runtime,
                quant=variant.quant,
                untrained=checkpoint is None,
                fer_data=fer_data,
            )
            path, meta, cached = Path(result.path), normalise_meta(result.meta), False
        mine = private_link(path, private_dir)
    return ModelFile(variant, mine, meta, cached=cached, seconds=time.perf_counter() - start)


def export_error(name: str, exc: Exception) -> str:
    """One line for the record of a model whose export failed."""
    kind = "export failed" if isinstance(exc, FermbenchError) else f"export crashed ({type(exc).__name__})"
    return f"{kind}: {exc}"
