"""resnet9's global max pool is a max pool with the full kernel (core ATen, so ExecuTorch can
export it) instead of nn.AdaptiveMaxPool2d(1): the same function bit for bit, the same
checkpoints, the same Lite outputs."""

import copy

import pytest
import torch
from torch import nn

from fermbench.errors import ExportError
from fermbench.export import export_module
from fermbench.export.gates import load_lite
from fermbench.export.pte_gates import core_aten_gate
from fermbench.zoo import build_model
from fermbench.zoo.checkpoint import model_from_checkpoint, save_checkpoint
from fermbench.zoo.resnet9 import GlobalMaxPool


def with_adaptive_pool(model: nn.Module) -> nn.Module:
    """The formulation resnet9 had before: what existing checkpoints were trained with."""
    old = copy.deepcopy(model)
    old.pool = nn.AdaptiveMaxPool2d(1)
    return old.eval()


@pytest.mark.parametrize("shape", [(2, 512, 6, 6), (1, 3, 5, 7), (3, 8, 1, 1)])
def test_global_max_pool_equals_adaptive_max_pool_bit_for_bit(shape):
    x = torch.randn(shape, generator=torch.Generator().manual_seed(1))
    assert torch.equal(GlobalMaxPool()(x), nn.AdaptiveMaxPool2d(1)(x))


def test_resnet9_outputs_and_state_dict_are_those_of_the_adaptive_pool_formulation(tmp_path):
    new = build_model("resnet9", seed=3)
    old = with_adaptive_pool(new)
    assert list(new.state_dict()) == list(old.state_dict())  # the pool has no parameters
    x = torch.randn(4, 1, 48, 48, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        assert torch.equal(new(x), old(x))
    # a checkpoint saved from the old formulation loads into the new one and gives the same outputs
    path = save_checkpoint(tmp_path / "old.ckpt", "resnet9", old)
    loaded, _ = model_from_checkpoint(path, expect_arch="resnet9")
    assert isinstance(loaded.pool, GlobalMaxPool)
    with torch.no_grad():
        assert torch.equal(loaded(x), old(x))


@pytest.mark.slow
def test_lite_export_outputs_are_unchanged(tmp_path):
    new = build_model("resnet9", seed=4)
    files = {
        label: export_module(model, "resnet9", tmp_path / label, identity={}).path
        for label, model in (("old", with_adaptive_pool(new)), ("new", new))
    }
    x = torch.randn(3, 1, 48, 48, generator=torch.Generator().manual_seed(5))
    old_out, new_out = (load_lite(files[label])(x) for label in ("old", "new"))
    assert torch.equal(old_out, new_out)


@pytest.mark.slow
def test_only_the_new_formulation_is_core_aten():
    new = build_model("resnet9", seed=0)
    x = torch.zeros(1, 1, 48, 48)
    core_aten_gate(torch.export.export(new, (x,)), "resnet9")
    with pytest.raises(ExportError, match="aten.adaptive_max_pool2d.default is not in the core ATen op set"):
        core_aten_gate(torch.export.export(with_adaptive_pool(new), (x,)), "resnet9")
