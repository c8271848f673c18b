"""What each format records about a file's runtime and its inputs and outputs, read through the
runtime's own Python API (the same one the host runner loads the file with).

- .ptl: the lite bytecode version (which pytorch_android_lite reads it); no shapes, the number
  of forward's arguments from its TorchScript schema.
- .pte: the program identifier (which ExecuTorch reads it) and the forward method's metadata:
  every input's and output's sizes and scalar type.
- .tflite: the interpreter's input and output details: shape and type (and int8 quantisation).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..export.runtimes import DEFAULT_RUNTIME, RUNTIMES, ExecutorchRuntime, LiteRuntime
from ..quiet import native_stderr, quiet_imports
from ..runtimes import LITERT

# ExecuTorch's ScalarType numbers (runtime/core/portable_type/scalar_type.h), as numpy names.
_ET_DTYPES = {
    0: "uint8",
    1: "int8",
    2: "int16",
    3: "int32",
    4: "int64",
    5: "float16",
    6: "float32",
    7: "float64",
    11: "bool",
    15: "bfloat16",
}


@dataclass(frozen=True)
class Tensor:
    """One input or output as the file records it."""

    shape: tuple[int, ...]
    dtype: str  # numpy's name: float32, int8, ...
    quantized: bool = False  # a .tflite tensor with a scale (its runtime quantises floats for it)


@dataclass(frozen=True)
class FileFacts:
    """What a file says about itself; None where its format does not record it."""

    runtime_target: str  # the export runtime id that reads it (export/runtimes.py)
    input_count: int | None
    inputs: tuple[Tensor, ...] | None  # None: no shapes recorded (.ptl)
    outputs: tuple[Tensor, ...] | None
    meta: dict[str, Any] = field(default_factory=dict)  # what preflight checks: bytecode_version, pte_format


def _lite_runtimes() -> list[LiteRuntime]:
    lite = [r for r in RUNTIMES.values() if isinstance(r, LiteRuntime)]
    return sorted(lite, key=lambda r: r.name != DEFAULT_RUNTIME)  # the default first


def read_ptl(path: Path) -> FileFacts:
    import torch
    import torch.jit.mobile

    try:
        version = int(torch.jit.mobile._get_model_bytecode_version(str(path)))
    except Exception as exc:  # RuntimeError or ValueError, with a C++ trace
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:160]
        raise ConfigError(f"{path}: not a readable PyTorch Lite file ({first}): save it again") from None
    readers = [r for r in _lite_runtimes() if r.min_bytecode <= version <= r.max_bytecode]
    if not readers:
        ranges = ", ".join(f"{r.name} {r.min_bytecode}-{r.max_bytecode}" for r in _lite_runtimes())
        raise ConfigError(
            f"{path}: lite bytecode version {version}, which no PyTorch Lite runtime reads ({ranges}): "
            "save it with torch.jit.mobile._backport_for_mobile to a version they read"
        )
    return FileFacts(readers[0].name, _ptl_argument_count(path), None, None, {"bytecode_version": version})


def _ptl_argument_count(path: Path) -> int | None:
    """forward's arguments besides self, from the archive's TorchScript; None when the archive
    carries only what the lite interpreter reads."""
    import torch

    try:
        module = torch.jit.load(str(path), map_location="cpu")  # type: ignore[no-untyped-call]
        arguments = module.forward.schema.arguments
    except Exception:  # not loadable as full TorchScript: the lite interpreter decides at run time
        return None
    return len(arguments) - 1


def read_pte(path: Path, identifier: str) -> FileFacts:
    readers = [r for r in RUNTIMES.values() if isinstance(r, ExecutorchRuntime) and identifier in r.pte_formats]
    if not readers:
        known = ", ".join(
            f"{r.name} reads {'/'.join(r.pte_formats)}" for r in RUNTIMES.values() if isinstance(r, ExecutorchRuntime)
        )
        raise ConfigError(
            f"{path}: a .pte of program format {identifier}, which no ExecuTorch runtime here reads ({known}): "
            "export it with that executorch release"
        )
    try:
        with quiet_imports():
            from executorch.runtime import Runtime
    except ImportError:
        raise ConfigError(
            f"{path}: reading a .pte needs the Python package executorch: pip install it (see README)"
        ) from None
    native: list[str] = []
    try:
        with native_stderr() as native:
            program = Runtime.get().load_program(str(path))
            if "forward" not in program.method_names:
                raise ConfigError(f"{path}: the program has no forward method: export the model's forward")
            meta = program.metadata("forward")
            inputs = tuple(_pte_tensor(meta.input_tensor_meta(i)) for i in range(meta.num_inputs()))
            outputs = tuple(_pte_tensor(meta.output_tensor_meta(i)) for i in range(meta.num_outputs()))
    except ConfigError:
        raise
    except Exception as exc:  # RuntimeError from the loader; its reason is on the C++ side's stderr
        reason = native[-1].split("] ", 1)[-1] if native else (str(exc).strip() or type(exc).__name__)
        raise ConfigError(f"{path}: ExecuTorch does not load it ({reason[:160]}): export it again") from None
    return FileFacts(readers[0].name, len(inputs), inputs, outputs, {"pte_format": identifier})


def _pte_tensor(info: Any) -> Tensor:
    code = int(info.dtype())
    return Tensor(tuple(int(d) for d in info.sizes()), _ET_DTYPES.get(code, f"scalar type {code}"))


def read_tflite(path: Path) -> FileFacts:
    from ..export.litert.interpreter import input_specs, output_specs
    from ..export.litert.runtime import INSTALL_HINT

    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        raise ConfigError(
            f"{path}: reading a .tflite needs the Python package ai-edge-litert: {INSTALL_HINT}"
        ) from None
    try:
        with native_stderr():
            interpreter = Interpreter(model_path=str(path))
    except Exception as exc:  # ValueError for a file the interpreter cannot read
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:160]
        raise ConfigError(f"{path}: LiteRT does not load it ({first}): convert it again") from None
    inputs = tuple(Tensor(s.shape, s.dtype, s.quantized) for s in input_specs(interpreter))
    outputs = tuple(Tensor(s.shape, s.dtype, s.quantized) for s in output_specs(interpreter))
    return FileFacts(LITERT.default_version, len(inputs), inputs, outputs)
