import pytest
import torch

from fermbench.errors import ModelError
from fermbench.zoo import MODEL_NAMES, build_model, model_info
from fermbench.zoo.registry import count_macs


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_each_model_maps_a_gray_48x48_batch_to_7_logits(name):
    model = build_model(name, seed=0)
    out = model(torch.randn(3, 1, 48, 48))
    assert out.shape == (3, 7)
    assert torch.isfinite(out).all()


def test_both_cnns_are_larger_files_than_resnet9_as_in_the_study():
    sizes = {n: model_info(n).fp32_bytes for n in MODEL_NAMES}
    assert sizes["shallow_cnn"] > sizes["resnet9"]
    assert sizes["deep_cnn"] > sizes["resnet9"]
    # ...while ResNet-9 does the most arithmetic
    macs = {n: model_info(n).macs for n in MODEL_NAMES}
    assert macs["resnet9"] > macs["deep_cnn"] > macs["shallow_cnn"]


def test_mac_count_matches_the_shallow_cnn_arithmetic():
    # conv k*k*Cin*Cout*H*W per block at 48, 24, 12; then the three Linear layers
    expected = (
        9 * 1 * 64 * 48 * 48
        + 9 * 64 * 128 * 24 * 24
        + 9 * 128 * 256 * 12 * 12
        + 256 * 6 * 6 * 1024
        + 1024 * 512
        + 512 * 7
    )
    assert count_macs(build_model("shallow_cnn")) == expected


def test_seeded_builds_are_identical_and_do_not_touch_the_global_rng():
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    a = build_model("resnet9", seed=7)
    after = torch.rand(1)
    b = build_model("resnet9", seed=7)
    assert torch.equal(before, after)
    for (ka, va), (kb, vb) in zip(a.state_dict().items(), b.state_dict().items()):
        assert ka == kb and torch.equal(va, vb)


def test_unknown_name_names_the_choices():
    with pytest.raises(ModelError, match="unknown model 'vgg'.*shallow_cnn"):
        build_model("vgg")
