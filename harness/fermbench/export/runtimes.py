"""The Android runtime versions a file can be exported for, and what each one reads. Each id is a
version of one runtime of the registry (runtimes/: `runtimes.by_version`).

PyTorch Lite reads a range of lite-interpreter bytecode versions: outside it, loading fails on
the phone with "Lite Interpreter version number does not match". ExecuTorch reads .pte programs
whose flatbuffer file identifier (bytes 4..8, e.g. b"ET12") it knows: any other fails with
"Program identifier 'ET13' != expected 'ET12'". The exporter checks both on the host, before
a file ever reaches a phone (docs/platform-facts.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ..errors import ExportError
from .litert.runtime import LITERT, LitertRuntime

QUANTS: tuple[str, ...] = ("fp32", "int8")


@dataclass(frozen=True)
class LiteRuntime:
    """pytorch_android_lite: TorchScript Lite (.ptl), fp32."""

    name: str
    min_bytecode: int
    max_bytecode: int
    format: ClassVar[str] = "ptl"
    quants: ClassVar[tuple[str, ...]] = ("fp32",)


@dataclass(frozen=True)
class ExecutorchRuntime:
    """ExecuTorch with the XNNPACK delegate: .pte programs, fp32 and int8."""

    name: str
    version: str
    pte_formats: tuple[str, ...]  # flatbuffer file identifiers its program loader accepts
    format: ClassVar[str] = "pte"
    quants: ClassVar[tuple[str, ...]] = ("fp32", "int8")


Runtime = LiteRuntime | ExecutorchRuntime | LitertRuntime

RUNTIMES: dict[str, Runtime] = {
    r.name: r
    for r in (
        LiteRuntime("pytorch_android_lite-2.1.0", 4, 9),  # last release; reads torch 2.13's v8 directly
        LiteRuntime("pytorch_android_lite-1.11.0", 4, 7),
        LiteRuntime("pytorch_android_lite-1.10.0", 4, 7),
        # The pinned Python package (the host runtime and the exporter) and the runner APK's
        # executorch flavor; 1.4.1 writes and reads only "ET12" (schema/program.fbs, program.cpp).
        ExecutorchRuntime("executorch-1.4.1", "1.4.1", ("ET12",)),
        LITERT,  # export/litert/runtime.py: ai-edge-litert 2.3.0, converted by litert-torch 0.10.0
    )
}
DEFAULT_RUNTIME = "pytorch_android_lite-2.1.0"

# torch.jit.mobile._backport_for_mobile goes down to 4 (3 fails); nothing goes forward.
MIN_BACKPORT = 4


def get_runtime(name: str) -> Runtime:
    if name not in RUNTIMES:
        raise ExportError(f"unknown runtime {name!r}: choose one of {', '.join(sorted(RUNTIMES))}")
    return RUNTIMES[name]


def check_quant(runtime: Runtime, quant: str) -> str:
    if quant not in QUANTS:
        raise ExportError(f"unknown quantisation {quant!r}: choose one of {', '.join(QUANTS)}")
    if quant not in runtime.quants:
        others = [r.name for r in RUNTIMES.values() if quant in r.quants]
        raise ExportError(
            f"{runtime.name} runs {', '.join(runtime.quants)} only, not {quant}: choose --runtime {others[0]} for {quant}"
        )
    return quant
