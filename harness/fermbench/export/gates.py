"""The checks a TorchScript Lite file must pass before it is accepted (.pte files: pte_gates.py).

Each gate returns what it measured and raises ExportError when the file must not reach a phone.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..errors import ExportError
from ..labels import INPUT_SHAPE
from .common import output_difference, parity_limit
from .runtimes import LiteRuntime

PARITY_TOLERANCE = 1e-4


def load_lite(path: Path) -> Any:  # torch.jit.mobile.LiteScriptModule, which torch leaves untyped
    from torch.jit.mobile import _load_for_lite_interpreter

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            return _load_for_lite_interpreter(str(path))  # type: ignore[no-untyped-call]
        except RuntimeError as exc:
            first = str(exc).strip().splitlines()[0][:160]
            raise ExportError(f"{path.name} does not load in the lite interpreter ({first}): re-export it") from exc


def parity_gate(
    eager: nn.Module,
    path: Path,
    name: str,
    trials: int = 4,
    seed: int = 0,
    input_shape: tuple[int, ...] = INPUT_SHAPE,
) -> float:
    """Max |lite - eager| over seeded random batches of `input_shape`'s images; fails above
    PARITY_TOLERANCE (scaled by the logits' size: common.parity_limit)."""
    lite = load_lite(path)
    gen = torch.Generator().manual_seed(seed)
    worst, limit = 0.0, PARITY_TOLERANCE
    with torch.no_grad():
        for batch in (1, 3)[: max(1, min(2, trials))] + (1,) * max(0, trials - 2):
            x = torch.randn((batch, *input_shape[1:]), generator=gen)
            want = eager(x)
            diff = output_difference(lite(x), want, name, "the lite model")
            if diff > worst:
                worst, limit = diff, parity_limit(PARITY_TOLERANCE, want)
    if not worst <= limit:  # also catches NaN
        raise ExportError(
            f"{name}: the lite model's output differs from eager PyTorch by {worst:.3g} (limit {limit:.3g}): "
            "the scripted model does not compute what the eager one does; check for code that branches on torch.jit.is_scripting()"
        )
    return worst


def bytecode_version(path: Path) -> int:
    from torch.jit.mobile import _get_model_bytecode_version

    return int(_get_model_bytecode_version(str(path)))


def bytecode_gate(path: Path, runtime: LiteRuntime, name: str) -> int:
    version = bytecode_version(path)
    if not runtime.min_bytecode <= version <= runtime.max_bytecode:
        hint = (
            f"export with --bytecode {runtime.max_bytecode}"
            if version > runtime.max_bytecode
            else f"choose a runtime that reads version {version}"
        )
        raise ExportError(
            f"{name}: bytecode version {version} is outside what {runtime.name} reads "
            f"({runtime.min_bytecode}-{runtime.max_bytecode}): {hint}"
        )
    return version


def operator_list(path: Path) -> list[str]:
    from torch.jit.mobile import _export_operator_list

    return sorted(_export_operator_list(load_lite(path)))
