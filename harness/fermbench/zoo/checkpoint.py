"""Checkpoints: architecture name, state dict, class names and training metadata in one file.

Loading checks the architecture and every tensor shape, and says exactly what differs. The meta
of a checkpoint written by `fermbench train` also holds the run's curve and settings (see
training/history.py); it is an open dict, so older and newer checkpoints share format version 1.
"""

from __future__ import annotations

import io
import pickle
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..errors import ModelError
from ..fileio import atomic_write_bytes, sha256_file
from ..labels import CLASS_NAMES
from .registry import architectures, build_model, check_name

FORMAT = "fermbench-checkpoint"
FORMAT_VERSION = 1
# The largest zoo model's weights (deep_cnn, fp32; a test keeps it at least the real figure). A
# checkpoint whose entries would unpack to more than BOMB_FACTOR times that is refused before
# torch.load reads it: a 2 MB file may hold a 2 GB compressed entry.
LARGEST_MODEL_BYTES = 45_000_000
BOMB_FACTOR = 8
MAX_CHECKPOINT_BYTES = BOMB_FACTOR * LARGEST_MODEL_BYTES


@dataclass
class Checkpoint:
    arch: str
    state_dict: dict[str, torch.Tensor]
    class_names: tuple[str, ...] = CLASS_NAMES
    meta: dict[str, Any] = field(default_factory=dict)
    sha256: str = ""  # of the file it was loaded from


def save_checkpoint(
    path: str | Path,
    arch: str,
    model: nn.Module,
    class_names: tuple[str, ...] | list[str] = CLASS_NAMES,
    meta: dict[str, Any] | None = None,
) -> Path:
    check_name(arch)
    payload = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "arch": arch,
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "class_names": list(class_names),
        "meta": dict(meta or {}),
    }
    buf = io.BytesIO()
    torch.save(payload, buf)
    return atomic_write_bytes(path, buf.getvalue())


def load_checkpoint(path: str | Path) -> Checkpoint:
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"checkpoint {path} not found: train one with `fermbench train` or pass an existing file")
    check_unpacked_size(path)
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, zipfile.BadZipFile, RuntimeError, EOFError, ValueError, OSError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelError(
            f"checkpoint {path} is truncated or not a fermbench checkpoint ({first[:120]}): re-save it with `fermbench train`"
        ) from exc
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ModelError(
            f"{path} is not a fermbench checkpoint (no '{FORMAT}' header): pass a file written by `fermbench train`"
        )
    if payload.get("format_version") != FORMAT_VERSION:
        raise ModelError(
            f"checkpoint {path} has format version {payload.get('format_version')}, this fermbench reads {FORMAT_VERSION}: upgrade fermbench"
        )
    arch = payload.get("arch")
    if not isinstance(arch, str) or arch not in architectures():
        raise ModelError(
            f"checkpoint {path} is for unknown architecture {arch!r}: known are {', '.join(sorted(architectures()))}"
        )
    state, names, meta = (
        payload.get("state_dict"),
        payload.get("class_names", list(CLASS_NAMES)),
        payload.get("meta", {}),
    )
    if not isinstance(state, dict) or not all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()
    ):
        raise ModelError(f"checkpoint {path} has no state_dict of named tensors: re-save it with `fermbench train`")
    if not isinstance(names, (list, tuple)) or not all(isinstance(n, str) for n in names) or not isinstance(meta, dict):
        raise ModelError(f"checkpoint {path} has malformed class_names or meta: re-save it with `fermbench train`")
    return Checkpoint(arch, state, tuple(names), meta, sha256_file(path))


def check_unpacked_size(path: Path) -> None:
    """Refuse a checkpoint that would unpack beyond MAX_CHECKPOINT_BYTES, from its zip directory
    alone (nothing is decompressed); a file that is not a zip is as large as it is."""
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                total = sum(info.file_size for info in archive.infolist())
        else:
            total = path.stat().st_size
    except (OSError, zipfile.BadZipFile, ValueError):
        return  # unreadable as a zip: torch.load says why, as for any damaged file
    if total > MAX_CHECKPOINT_BYTES:
        raise ModelError(
            f"checkpoint {path} would unpack to {total / 1e6:.0f} MB, over the {MAX_CHECKPOINT_BYTES / 1e6:.0f} MB "
            f"limit ({BOMB_FACTOR}x the largest model's weights): it is not a checkpoint of this zoo; "
            "pass one written by `fermbench train`"
        )


def shape_differences(model: nn.Module, state_dict: dict[str, torch.Tensor]) -> list[str]:
    """Every way the state dict fails to fit the model, one short phrase each."""
    expected = model.state_dict()
    diffs = []
    for key in expected.keys() - state_dict.keys():
        diffs.append(f"missing {key}")
    for key in state_dict.keys() - expected.keys():
        diffs.append(f"unexpected {key}")
    for key in expected.keys() & state_dict.keys():
        if tuple(expected[key].shape) != tuple(state_dict[key].shape):
            diffs.append(f"{key} is {tuple(state_dict[key].shape)}, model needs {tuple(expected[key].shape)}")
    return sorted(diffs)


def model_from_checkpoint(path: str | Path, expect_arch: str | None = None) -> tuple[nn.Module, Checkpoint]:
    """Build the checkpoint's architecture and load its weights, in eval mode on the CPU."""
    ckpt = load_checkpoint(path)
    if expect_arch is not None and ckpt.arch != expect_arch:
        raise ModelError(
            f"checkpoint {path} holds a {ckpt.arch}, not a {expect_arch}: pass a {expect_arch} checkpoint, or name {ckpt.arch} as the model"
        )
    model = build_model(ckpt.arch)
    diffs = shape_differences(model, ckpt.state_dict)
    if diffs:
        shown = "; ".join(diffs[:4]) + (f"; and {len(diffs) - 4} more" if len(diffs) > 4 else "")
        raise ModelError(f"checkpoint {path} does not fit {ckpt.arch}: {shown}")
    model.load_state_dict(ckpt.state_dict)
    return model.eval(), ckpt


def served_line(model: str, path: str | Path, sha256: str, meta: Mapping[str, Any]) -> str:
    """Which file serves a model, for logs: "shallow_cnn: w/shallow_cnn.ckpt sha256 1a2b3c4d5e6f (trained
    20 epochs, run shallow-cpu-bf16)"."""
    epochs = meta.get("epochs")
    trained = f"trained {epochs} epochs" if isinstance(epochs, int) else "trained, epochs not recorded"
    return f"{model}: {path} sha256 {sha256[:12]} ({trained}, run {meta.get('run_id') or 'not recorded'})"
