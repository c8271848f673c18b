"""The runtimes fermbench benchmarks: one module each, one registry. Everything that depends on a
runtime (its exporter, host engine, runner flavor and package, app-size markers, what a device
needs) reads it from here; an unknown name is a ConfigError naming the known ones.

Adding a runtime: docs/adding-a-runtime.md.
"""

from __future__ import annotations

import importlib.util

from ..errors import ConfigError
from .base import Compat, Runtime, resolve
from .executorch import EXECUTORCH
from .litert import LITERT
from .pytorch_lite import PYTORCH_LITE

__all__ = [
    "BASELINE",
    "EXECUTORCH",
    "LITERT",
    "PYTORCH_LITE",
    "RUNTIMES",
    "Compat",
    "Runtime",
    "by_package",
    "by_version",
    "get",
    "missing_modules",
    "resolve",
]

RUNTIMES: dict[str, Runtime] = {r.name: r for r in (PYTORCH_LITE, EXECUTORCH, LITERT)}
BASELINE = PYTORCH_LITE  # the study's findings and every comparison are against Lite fp32


def _known() -> str:
    return ", ".join(RUNTIMES)


def get(name: str) -> Runtime:
    """The runtime called `name` (pytorch_lite, executorch, litert)."""
    if name not in RUNTIMES:
        raise ConfigError(f"unknown runtime {name!r}: choose one of {_known()}")
    return RUNTIMES[name]


def by_version(version: str) -> Runtime:
    """The runtime an export runtime id belongs to (pytorch_android_lite-2.1.0 -> pytorch_lite)."""
    for runtime in RUNTIMES.values():
        if version in runtime.versions:
            return runtime
    known = ", ".join(v for r in RUNTIMES.values() for v in r.versions)
    raise ConfigError(f"unknown runtime {version!r}: choose one of {known}")


def by_package(package: str) -> Runtime:
    """The runtime whose runner APK has this application id."""
    for runtime in RUNTIMES.values():
        if runtime.package == package:
            return runtime
    raise ConfigError(
        f"unknown runner package {package!r}: known ones are {', '.join(r.package for r in RUNTIMES.values())}"
    )


def missing_modules(runtime: Runtime) -> list[str]:
    """The Python modules the runtime needs that are not installed here."""
    return [m for m in runtime.modules if importlib.util.find_spec(m) is None]
