"""Exporters with their gates, for any model of the zoo or any factory: TorchScript Lite (.ptl,
fp32), ExecuTorch with XNNPACK (.pte, fp32 and int8), LiteRT (.tflite, fp32 and int8)."""

from .common import ExportResult
from .lite import EMBEDDED_NAME, export_module
from .models import ModelToExport, export_model, model_to_export
from .pte import EMBEDDED_METHOD, export_pte_module, read_embedded_meta
from .runtimes import DEFAULT_RUNTIME, QUANTS, RUNTIMES, ExecutorchRuntime, LiteRuntime, Runtime, get_runtime
from .samples import ImageSample, Samples, own_samples

__all__ = [
    "DEFAULT_RUNTIME",
    "EMBEDDED_METHOD",
    "EMBEDDED_NAME",
    "QUANTS",
    "RUNTIMES",
    "ExecutorchRuntime",
    "ExportResult",
    "ImageSample",
    "LiteRuntime",
    "ModelToExport",
    "Runtime",
    "Samples",
    "export_model",
    "export_module",
    "export_pte_module",
    "get_runtime",
    "model_to_export",
    "own_samples",
    "read_embedded_meta",
]
