"""The one place that imports ExecuTorch for export and host runs.

Importing it (and torchao, which it pulls in) logs warnings about optional kernels that this
CPU build lacks (torchao's CUDA and MX libraries) and a torch pytree deprecation. Its C++ side
prints to stderr when it loads a program or a method (XNNPACK's CPU probe on a VM; the reason a
load failed, where Python only gets "error: 0x:23"). None of that may bury the one-line errors:
imports are quietened, and loads capture the C++ output, keeping its last line for the error.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import ExportError
from ..quiet import native_stderr, quiet_imports


def executorch_version() -> str:
    """The installed package's release, without the local build tag ("1.4.1+cpu" -> "1.4.1")."""
    with quiet_imports():
        from executorch.version import __version__
    return str(__version__).split("+")[0]


def _reason(exc: Exception, native: list[str]) -> str:
    """The C++ side's last word ("[program.cpp:168] Program identifier 'ET13' != expected
    'ET12'" -> the message), else the exception's first line."""
    if native:
        return native[-1].split("] ", 1)[-1][:160]
    text = str(exc).strip()
    return (text.splitlines()[0] if text else type(exc).__name__)[:160]


def load_program(path: Path, name: str) -> Any:
    """The .pte loaded by the host ExecuTorch runtime (executorch.runtime.Program)."""
    with quiet_imports():
        from executorch.runtime import Runtime
    native: list[str] = []
    try:
        with native_stderr() as native:
            return Runtime.get().load_program(str(path))
    except RuntimeError as exc:
        raise ExportError(
            f"{name}: {path.name} does not load in ExecuTorch ({_reason(exc, native)}): re-export it"
        ) from exc


def load_method(program: Any, method: str, name: str) -> Any:
    """One method of a loaded program, ready to execute (executorch.runtime.Method)."""
    native: list[str] = []
    try:
        with native_stderr() as native:
            return program.load_method(method)
    except RuntimeError as exc:
        raise ExportError(
            f"{name}: method {method} does not load in ExecuTorch ({_reason(exc, native)}): re-export it"
        ) from exc


def tool_versions() -> dict[str, str]:
    """What a cached .pte must have been exported with (runtimes/executorch.py names this)."""
    return {"executorch_version": executorch_version()}
