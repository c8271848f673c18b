"""int8 post-training quantisation for LiteRT with litert-torch's PT2E quantizer.

The scheme is ExecuTorch's (export/quantize.py): int8 weights per output channel, symmetric;
int8 activations per tensor; ranges observed over the same recorded FER-2013 calibration images
(export/fer_samples.py), in batches of the same size on a dynamic-batch copy of the model. Two
differences the LiteRT converter needs: its own quantizer (whose annotations it lowers), and
quantize/dequantize nodes left unfolded (`fold_quantize=False`): a folded int8 weight reaches the
converter as a plain int8 tensor that it refuses.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ...errors import ExportError
from ...quiet import quiet_imports
from ..quantize import CALIBRATION_BATCH

SCHEME: dict[str, Any] = {
    "method": "post-training, PT2E, litert-torch PT2EQuantizer (static)",
    "weights": "int8 per-channel symmetric",
    "activations": "int8 per-tensor affine",
    "calibration_batch": CALIBRATION_BATCH,
    "interface": "int8 input and output, with their scale and zero point",
}


def litert_quantizer() -> Any:
    """The static int8 quantizer; the converter also reads it (QuantConfig) to lower Q/DQ statically."""
    with quiet_imports():
        from litert_torch.quantize.pt2e_quantizer import PT2EQuantizer, get_symmetric_quantization_config

    return PT2EQuantizer().set_global(get_symmetric_quantization_config(is_per_channel=True, is_dynamic=False))


def quantize_int8(module: nn.Module, calibration: torch.Tensor, quantizer: Any, name: str) -> nn.Module:
    """The module with int8 weights and activations as Q/DQ nodes; `calibration` is float [N, C, H, W] (the model's input)."""
    with quiet_imports():
        from torchao.quantization.pt2e import move_exported_model_to_eval
        from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e, prepare_pt2e

    if len(calibration) == 0:
        raise ExportError(f"{name}: int8 export needs calibration images: pass a FER-2013 copy with Training images")
    batch = torch.export.Dim("batch", min=1, max=CALIBRATION_BATCH)
    example = calibration[:2] if len(calibration) >= 2 else calibration.expand(2, -1, -1, -1)
    graph = torch.export.export(module.eval(), (example,), dynamic_shapes=({0: batch},)).module()
    prepared = prepare_pt2e(graph, quantizer)
    with torch.no_grad():
        for start in range(0, len(calibration), CALIBRATION_BATCH):
            prepared(calibration[start : start + CALIBRATION_BATCH])
    quantized: nn.Module = move_exported_model_to_eval(convert_pt2e(prepared, fold_quantize=False))
    return quantized
