"""int8 post-training quantisation for XNNPACK with PT2E.

Weights: int8, per output channel, symmetric. Activations: int8, per tensor, with ranges from
histogram observers run over the calibration images. The observers run on a copy of the model
exported with a dynamic batch, so that calibration is a few batched calls (one image at a time
took 12x longer); the quantised model is then exported again for batch 1, like the fp32 one.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ..errors import ExportError
from ..quiet import quiet_imports

CALIBRATION_BATCH = 64
SCHEME: dict[str, Any] = {
    "method": "post-training, PT2E, XNNPACKQuantizer",
    "weights": "int8 per-channel symmetric",
    "activations": "int8 per-tensor affine (histogram observers)",
    "calibration_batch": CALIBRATION_BATCH,
}


def quantize_int8(module: nn.Module, calibration: torch.Tensor, name: str) -> nn.Module:
    """The module with int8 weights and activations; `calibration` is float [N, C, H, W] (the model's input)."""
    with quiet_imports():
        from executorch.backends.xnnpack.quantizer.xnnpack_quantizer import (
            XNNPACKQuantizer,
            get_symmetric_quantization_config,
        )
        from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e, prepare_pt2e

    if len(calibration) == 0:
        raise ExportError(f"{name}: int8 export needs calibration images: pass a FER-2013 copy with Training images")
    batch = torch.export.Dim("batch", min=1, max=CALIBRATION_BATCH)
    example = calibration[:2] if len(calibration) >= 2 else calibration.expand(2, -1, -1, -1)
    graph = torch.export.export(module.eval(), (example,), dynamic_shapes=({0: batch},)).module()
    quantizer = XNNPACKQuantizer().set_global(get_symmetric_quantization_config(is_per_channel=True))
    prepared = prepare_pt2e(graph, quantizer)
    with torch.no_grad():
        for start in range(0, len(calibration), CALIBRATION_BATCH):
            prepared(calibration[start : start + CALIBRATION_BATCH])
    quantized: nn.Module = convert_pt2e(prepared)
    return quantized
