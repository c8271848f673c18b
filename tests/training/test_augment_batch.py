"""The vectorised augmentation equals per-image pad-crop-flip done the slow, obvious way."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from fermbench.labels import NORM_MEAN, NORM_STD
from fermbench.training.augment import crop_flip, epoch_plan, normalize, reflect_index


def reference(img: np.ndarray, flip: bool, oy: int, ox: int, padding: int) -> np.ndarray:
    padded = np.pad(img, padding, mode="reflect")
    crop = padded[oy : oy + img.shape[0], ox : ox + img.shape[1]]
    return crop[:, ::-1] if flip else crop


@pytest.mark.parametrize("padding", [0, 1, 4, 9])
def test_matches_reference(padding):
    gen = torch.Generator().manual_seed(padding)
    images = torch.randint(0, 256, (33, 48, 48), dtype=torch.uint8, generator=gen)
    plan = epoch_plan(33, seed=3, epoch=2, padding=padding)
    out = crop_flip(images, plan.flips, plan.offsets, padding)
    assert out.dtype == torch.uint8 and out.shape == images.shape
    for i in range(33):
        want = reference(
            images[i].numpy(), bool(plan.flips[i]), int(plan.offsets[i, 0]), int(plan.offsets[i, 1]), padding
        )
        assert np.array_equal(out[i].numpy(), want), i


def test_plan_uses_both_flips_and_all_offsets():
    plan = epoch_plan(4000, seed=0, epoch=1, padding=4)
    assert 0.45 < plan.flips.float().mean() < 0.55
    assert set(plan.offsets.flatten().tolist()) == set(range(9))
    assert sorted(plan.order.tolist()) == list(range(4000))


def test_plan_is_reproducible_per_epoch_and_differs_between_epochs():
    a, b, c = epoch_plan(100, 7, 3, 4), epoch_plan(100, 7, 3, 4), epoch_plan(100, 7, 4, 4)
    assert torch.equal(a.order, b.order) and torch.equal(a.offsets, b.offsets)
    assert not torch.equal(a.order, c.order)


def test_reflect_index_is_numpy_reflect():
    assert reflect_index(6, 3).tolist() == np.pad(np.arange(6), 3, mode="reflect").tolist()


def test_normalize_is_to_tensor_then_normalize():
    x = torch.tensor([[[0, 128], [255, 3]]], dtype=torch.uint8)
    want = (x.float() / 255 - NORM_MEAN) / NORM_STD
    got = normalize(x)
    assert got.shape == (1, 1, 2, 2) and got.dtype == torch.float32
    assert torch.allclose(got[:, 0], want, atol=1e-6)
    assert normalize(x, channels_last=True).is_contiguous(memory_format=torch.channels_last)
