"""The LiteRT runtime as fermbench pins it: one record, so that a runtime registry can hold it."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass

from ...errors import ExportError

CONVERTER_PACKAGE = "litert-torch"
CONVERTER_VERSION = "0.10.0"
RUNTIME_PACKAGE = "ai-edge-litert"
RUNTIME_VERSION = "2.3.0"
INSTALL_HINT = (
    f"install the litert extra: pip install '.[litert]' ({CONVERTER_PACKAGE}=={CONVERTER_VERSION}, "
    f"{RUNTIME_PACKAGE}=={RUNTIME_VERSION})"
)


@dataclass(frozen=True)
class LitertRuntime:
    """ai-edge-litert's interpreter with the XNNPACK delegate: .tflite files, fp32 and int8."""

    name: str
    version: str  # of the interpreter (the Python package on the host, the AAR on a phone)
    converter_version: str
    format: str = "tflite"
    quants: tuple[str, ...] = ("fp32", "int8")


LITERT = LitertRuntime(f"litert-{RUNTIME_VERSION}", RUNTIME_VERSION, CONVERTER_VERSION)


def require(module: str, package: str) -> None:
    """An ExportError that says how to install `package` when `module` cannot be imported."""
    if importlib.util.find_spec(module) is None:
        raise ExportError(f"{LITERT.name} needs the Python package {package}, which is not installed: {INSTALL_HINT}")
