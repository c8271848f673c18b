"""Exporters: TorchScript Lite (.ptl) with parity, bytecode and operator gates."""

from .lite import EMBEDDED_NAME, ExportResult, export_model, export_module
from .runtimes import DEFAULT_RUNTIME, RUNTIMES

__all__ = ["EMBEDDED_NAME", "DEFAULT_RUNTIME", "RUNTIMES", "ExportResult", "export_model", "export_module"]
