"""Accuracy, per-class accuracy, confusion matrix and mean loss of a model on one split.

Used for validation after every epoch and by `fermbench evaluate`. Images are only normalised
(no augmentation), in batches, in fp32 by default whatever precision the model trained in: the
exported model runs in fp32 on the phone, and a bf16-trained ResNet-9 scored 65.4% on PublicTest
under bf16 inference against 68.2% in fp32, so a bf16 figure is only given when asked for, and
labelled so.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import torch
from torch import nn
from torch.nn import functional as F

from ..labels import CLASS_NAMES
from .augment import normalize

if TYPE_CHECKING:
    from ..zoo.spec import ModelSpec


@dataclass(frozen=True)
class EvalResult:
    split: str
    count: int
    accuracy: float
    mean_loss: float
    per_class_accuracy: list[float | None]  # None for a class absent from the split
    confusion: list[list[int]]  # rows: true class, columns: predicted class
    class_names: tuple[str, ...] = CLASS_NAMES
    precision: str = "fp32"  # the inference precision these figures were measured in

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def autocast(device: torch.device, precision: str) -> torch.autocast:
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=precision == "bf16")


@torch.no_grad()
def evaluate(
    model: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    split: str,
    device: torch.device,
    *,
    batch_size: int = 1024,
    precision: str = "fp32",
    channels_last: bool = False,
    class_names: Sequence[str] = CLASS_NAMES,
    to_input: Callable[[torch.Tensor], torch.Tensor] | None = None,
) -> EvalResult:
    """`images` uint8 [N,48,48] and `labels` int64 [N], on any device; the model on `device`.
    Another model's images (uint8 [N,C,H,W]) come with its `class_names` and `to_input`
    (spec_input: its own normalisation)."""
    was_training = model.training
    model.eval()
    k = len(class_names)
    loss_sum = torch.zeros((), dtype=torch.float64, device=device)
    confusion = torch.zeros(k * k, dtype=torch.int64, device=device)
    for start in range(0, len(labels), batch_size):
        batch = images[start : start + batch_size].to(device, non_blocking=True)
        x = to_input(batch) if to_input is not None else normalize(batch, channels_last)
        y = labels[start : start + batch_size].to(device, non_blocking=True)
        with autocast(device, precision):
            logits = model(x)
        loss_sum += F.cross_entropy(logits.float(), y, reduction="sum")
        confusion += torch.bincount(y * k + logits.argmax(1), minlength=k * k)
    model.train(was_training)
    matrix = confusion.view(k, k).cpu()
    n = int(matrix.sum())
    per_class = [float(matrix[i, i] / matrix[i].sum()) if matrix[i].sum() else None for i in range(k)]
    return EvalResult(
        split,
        n,
        float(matrix.diag().sum()) / max(n, 1),
        float(loss_sum) / max(n, 1),
        per_class,
        matrix.tolist(),
        class_names=tuple(class_names),
        precision=precision,
    )


def spec_input(spec: ModelSpec) -> Callable[[torch.Tensor], torch.Tensor]:
    """uint8 [B,C,H,W] -> float32, (pixel / 255 - mean[c]) / std[c]: what the runners feed the model."""
    mean = torch.tensor(spec.preprocess.mean, dtype=torch.float32).view(1, -1, 1, 1)
    std = torch.tensor(spec.preprocess.std, dtype=torch.float32).view(1, -1, 1, 1)

    def to_input(batch: torch.Tensor) -> torch.Tensor:
        return (batch.float() / 255.0 - mean.to(batch.device)) / std.to(batch.device)

    return to_input
