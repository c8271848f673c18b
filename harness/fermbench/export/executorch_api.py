"""The one place that imports ExecuTorch for export and host runs.

Importing it (and torchao, which it pulls in) logs warnings about optional kernels that this
CPU build lacks (torchao's CUDA and MX libraries) and a torch pytree deprecation. They say
nothing about the export and would bury its one-line errors, so they are silenced here, only
while the import runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import ExportError
from ..quiet import quiet_imports

def executorch_version() -> str:
    """The installed package's release, without the local build tag ("1.4.1+cpu" -> "1.4.1")."""
    with quiet_imports():
        from executorch.version import __version__
    return str(__version__).split("+")[0]


def load_program(path: Path, name: str) -> Any:
    """The .pte loaded by the host ExecuTorch runtime (executorch.runtime.Program)."""
    with quiet_imports():
        from executorch.runtime import Runtime
    try:
        return Runtime.get().load_program(str(path))
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()[0][:160]
        raise ExportError(f"{name}: {path.name} does not load in ExecuTorch ({first}): re-export it") from exc
