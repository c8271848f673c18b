"""Exporters with their gates: TorchScript Lite (.ptl, fp32) and ExecuTorch with XNNPACK
(.pte, fp32 and int8)."""

from .common import ExportResult
from .lite import EMBEDDED_NAME, export_module
from .models import export_model
from .pte import EMBEDDED_METHOD, export_pte_module, read_embedded_meta
from .runtimes import DEFAULT_RUNTIME, QUANTS, RUNTIMES, ExecutorchRuntime, LiteRuntime, Runtime, get_runtime

__all__ = [
    "DEFAULT_RUNTIME",
    "EMBEDDED_METHOD",
    "EMBEDDED_NAME",
    "QUANTS",
    "RUNTIMES",
    "ExecutorchRuntime",
    "ExportResult",
    "LiteRuntime",
    "Runtime",
    "export_model",
    "export_module",
    "export_pte_module",
    "get_runtime",
    "read_embedded_meta",
]
