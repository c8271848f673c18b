"""Batch augmentation on tensors: RandomHorizontalFlip + RandomCrop(48, padding, reflect) in ONE gather.

Instead of padding each image (PIL) and cropping it, every output pixel is looked up directly:
row r of a crop at offset oy reads source row reflect(oy + r - padding), and a flipped crop
reads its columns in reverse. One advanced-indexing call does the whole batch, on the CPU or
the GPU, on uint8 data. All randomness comes from a CPU generator seeded per epoch, so the
same seed gives the same batches on any device and after a resume.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..labels import NORM_MEAN, NORM_STD


@dataclass(frozen=True)
class EpochPlan:
    order: torch.Tensor  # int64 [N]: the shuffled image indices
    flips: torch.Tensor  # bool [N]
    offsets: torch.Tensor  # int64 [N, 2]: crop corner (y, x) in the padded image, 0..2*padding


def epoch_plan(n: int, seed: int, epoch: int, padding: int) -> EpochPlan:
    gen = torch.Generator().manual_seed(epoch_seed(seed, epoch))
    order = torch.randperm(n, generator=gen)
    flips = torch.rand(n, generator=gen) < 0.5
    offsets = torch.randint(0, 2 * padding + 1, (n, 2), generator=gen)
    return EpochPlan(order, flips, offsets)


def epoch_seed(seed: int, epoch: int) -> int:
    return (seed * 1_000_003 + epoch) % (2**63)


def reflect_index(size: int, padding: int, device: torch.device | str = "cpu") -> torch.Tensor:
    """Source index of each position in a reflect-padded axis (like numpy/torch 'reflect')."""
    i = torch.arange(-padding, size + padding, device=device).abs()
    return torch.where(i >= size, 2 * (size - 1) - i, i)


def crop_flip(images: torch.Tensor, flips: torch.Tensor, offsets: torch.Tensor, padding: int) -> torch.Tensor:
    """uint8 [B,H,W] -> uint8 [B,H,W]: each image reflect-padded, cropped at its offset, maybe flipped."""
    b, h, w = images.shape
    dev = images.device
    flips, offsets = flips.to(dev, non_blocking=True), offsets.to(dev, non_blocking=True)
    rows = reflect_index(h, padding, dev)[offsets[:, :1] + torch.arange(h, device=dev)]  # [B,H]
    cols_at = torch.arange(w, device=dev).expand(b, w)
    cols_at = torch.where(flips[:, None], cols_at.flip(1), cols_at)
    cols = reflect_index(w, padding, dev)[offsets[:, 1:] + cols_at]  # [B,W]
    batch = torch.arange(b, device=dev)[:, None, None]
    return images[batch, rows[:, :, None], cols[:, None, :]]


def normalize(images: torch.Tensor, channels_last: bool = False) -> torch.Tensor:
    """uint8 [B,H,W] -> float32 [B,1,H,W]: ToTensor's /255, then Normalize(NORM_MEAN, NORM_STD)."""
    x = images.unsqueeze(1).float().mul_(1.0 / (255.0 * NORM_STD)).sub_(NORM_MEAN / NORM_STD)
    return x.contiguous(memory_format=torch.channels_last) if channels_last else x
