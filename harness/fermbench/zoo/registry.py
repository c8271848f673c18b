"""Architectures by name. Adding one is one file in this folder and one line below."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from ..errors import ModelError
from ..labels import INPUT_SHAPE
from .deep_cnn import DeepCNN
from .resnet9 import ResNet9
from .shallow_cnn import ShallowCNN

ARCHITECTURES: dict[str, Callable[[], nn.Module]] = {
    "shallow_cnn": ShallowCNN,
    "deep_cnn": DeepCNN,
    "resnet9": ResNet9,
}
MODEL_NAMES: tuple[str, ...] = tuple(ARCHITECTURES)


def check_name(name: str) -> str:
    if name not in ARCHITECTURES:
        raise ModelError(
            f"unknown model {name!r}: choose one of {', '.join(sorted(ARCHITECTURES))} (see `fermbench models`)"
        )
    return name


def build_model(name: str, seed: int | None = None) -> nn.Module:
    """A freshly initialised model (seeded when `seed` is given), on the CPU, in eval mode."""
    check_name(name)
    if seed is not None:
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            model = ARCHITECTURES[name]()
    else:
        model = ARCHITECTURES[name]()
    return model.eval()


@dataclass(frozen=True)
class ModelInfo:
    name: str
    params: int
    macs: int  # multiply-accumulates for one 1x1x48x48 image
    fp32_bytes: int  # parameters and buffers at 4 bytes each


def count_macs(model: nn.Module, input_shape: tuple[int, ...] = INPUT_SHAPE) -> int:
    """Multiply-accumulates of convolutions and linear layers, counted with forward hooks."""
    total = 0

    def on_conv(mod: nn.Conv2d, _inp: Any, out: torch.Tensor) -> None:
        nonlocal total
        k = mod.kernel_size[0] * mod.kernel_size[1] * (mod.in_channels // mod.groups)
        total += out.numel() * k

    def on_linear(mod: nn.Linear, _inp: Any, out: torch.Tensor) -> None:
        nonlocal total
        total += out.numel() * mod.in_features

    hooks = []
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            hooks.append(m.register_forward_hook(on_conv))
        elif isinstance(m, nn.Linear):
            hooks.append(m.register_forward_hook(on_linear))
    try:
        with torch.no_grad():
            model.eval()(torch.zeros(input_shape))
    finally:
        for h in hooks:
            h.remove()
    return total


def model_info(name: str) -> ModelInfo:
    model = build_model(name, seed=0)
    params = sum(p.numel() for p in model.parameters())
    buffers = sum(b.numel() for b in model.buffers() if b.is_floating_point())
    return ModelInfo(name, params, count_macs(model), 4 * (params + buffers))
