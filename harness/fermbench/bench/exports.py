"""Exported model files for a session, one per variant (model x runtime x quantisation),
re-exported only when the weights, the target or the tools changed.

The export cache is models/ (shared by every session on this machine). A cached file is used
when its metadata beside it names the same weights (a study model's checkpoint sha256, or
untrained on both sides; any other model's weights sha256, factory code sha256 and spec), the
same runtime target, quantisation and bytecode, the same int8 images (by the sha256 of their
pixels), the same torch (and ExecuTorch, LiteRT) versions, and the file still has the sha256 its
metadata names. Checking and exporting happen under a lock on the cache, so two sessions never
read a half-replaced file; the session then works on its own hard link of the accepted file (a
later export that replaces models/<file> cannot change the file a running session pushes), and
every runner answer is checked against the sha256 it recorded.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import runtimes
from ..errors import FermbenchError
from ..fileio import sha256_file, storage_error
from ..locks import ProcessLock
from ..paths import models_dir
from ..store import Variant

if TYPE_CHECKING:
    from ..export.models import ModelToExport
    from ..export.samples import Samples
    from ..zoo.registry import Architecture


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
    variant: Variant,
    out_dir: Path,
    checkpoint: Path | None,
    bytecode: int | None,
    samples: Samples | None,
    built: ModelToExport | None = None,
) -> tuple[Path, dict[str, Any]] | None:
    """The cached file and its metadata, when they are what exporting now would give: `built` is
    a factory model (None: a study model, from `checkpoint` or untrained)."""
    path, meta_path = export_paths(variant, out_dir)
    if not (path.is_file() and meta_path.is_file()):
        return None
    try:
        meta = json.loads(meta_path.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(meta, dict):
        return None
    if built is not None:
        if not _same_factory_model(meta, built):
            return None
    elif not _same_checkpoint(meta, checkpoint):
        return None
    if meta.get("runtime_target") != variant.runtime or meta.get("quant", "fp32") != variant.quant:
        return None
    if bytecode is not None and meta.get("bytecode_version") != bytecode:
        return None
    if bytecode is None and meta.get("bytecode_version") != meta.get("bytecode_native"):
        return None
    if variant.quant == "int8" and not _same_calibration(meta, samples):
        return None  # calibrated or gated on other images
    if not _tool_versions_match(meta, variant.runtime):
        return None
    if meta.get("sha256") != sha256_file(path):
        return None
    return path, normalise_meta(meta)


def _same_checkpoint(meta: dict[str, Any], checkpoint: Path | None) -> bool:
    """A study model's export: from this checkpoint (by sha256), or untrained on both sides."""
    want_ckpt = sha256_file(checkpoint) if checkpoint is not None and checkpoint.is_file() else None
    have_ckpt = (meta.get("checkpoint") or {}).get("sha256")
    if want_ckpt != have_ckpt or bool(meta.get("trained")) != (want_ckpt is not None):
        return False
    if meta.get("weights") is not None:
        return False  # a factory model's export under a study model's name
    # exported before checkpoints carried their training history
    return want_ckpt is None or bool({"curve", "missing"} & set(meta.get("training") or {}))


def _same_factory_model(meta: dict[str, Any], built: ModelToExport) -> bool:
    """A factory model's export: the same weights, factory code and spec (input, classes, preprocessing)."""
    want = built.identity
    return (
        meta.get("trained", False) is None
        and (meta.get("weights") or {}).get("sha256") == want["weights"]["sha256"]
        and meta.get("code_sha256") == want["code_sha256"]
        and all(meta.get(key) == value for key, value in built.spec.to_dict().items())
    )


def _same_calibration(meta: dict[str, Any], samples: Samples | None) -> bool:
    """Were the file's calibration and agreement images these, by the sha256 of their pixels (a
    folder of the same name with other images is another calibration)?"""
    if samples is None:
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
    arch: Architecture | None = None,
    samples: Samples | None = None,
) -> ModelFile:
    """The variant's file, exported now unless an up-to-date export exists (ExportError etc. on
    failure). `checkpoint` None means untrained weights, chosen explicitly by the caller (study
    models only). `arch` is what `variant.model` resolves to (pass it for `package.module:factory`
    models, whose variant names them by the derived name). int8 reads `samples`, else for a
    FER-2013 model the FER-2013 copy at `fer_data`."""
    import time

    from ..export.models import export_built, export_model, int8_samples, model_to_export
    from ..zoo.registry import resolve

    start = time.perf_counter()
    arch = arch if arch is not None else resolve(variant.model)
    out = Path(out_dir) if out_dir is not None else models_dir()
    out.mkdir(parents=True, exist_ok=True)
    built = None if arch.study else model_to_export(arch, checkpoint)  # built once: its hashes are the cache key
    spec = built.spec if built is not None else arch.spec()
    images = int8_samples(arch.name, spec, samples, fer_data) if variant.quant == "int8" else None
    with cache_lock(out):
        hit = cached_export(variant, out, checkpoint, bytecode, images, built)
        if hit is not None:
            path, meta = hit
            cached = True
        else:
            if built is not None:
                result = export_built(
                    built, out, runtime=variant.runtime, quant=variant.quant, samples=images, bytecode=bytecode
                )
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
                    arch=arch,
                    samples=images,
                )
            path, meta, cached = Path(result.path), normalise_meta(result.meta), False
        mine = private_link(path, private_dir)
    return ModelFile(variant, mine, meta, cached=cached, seconds=time.perf_counter() - start)


def export_error(name: str, exc: Exception) -> str:
    """One line for the record of a model whose export failed."""
    kind = "export failed" if isinstance(exc, FermbenchError) else f"export crashed ({type(exc).__name__})"
    return f"{kind}: {exc}"
