"""The parity gates fire on NaN (issue 22, item 6): max(0.0, nan) is 0.0, so an all-NaN model
used to export with max_abs_diff 0.0. Lite and ExecuTorch alike now refuse it, naming NaN."""

from __future__ import annotations

import pytest
import torch

from fermbench.errors import ExportError
from fermbench.export import export_module
from fermbench.zoo import build_model


def all_nan_model() -> torch.nn.Module:
    model = build_model("shallow_cnn").eval()
    with torch.no_grad():
        for p in model.parameters():
            p.fill_(float("nan"))
    return model


def test_lite_parity_gate_refuses_an_all_nan_model(tmp_path):
    with pytest.raises(ExportError, match="outputs NaN or infinity"):
        export_module(all_nan_model(), "nan_cnn", tmp_path, identity={})
    assert not list(tmp_path.glob("*.ptl"))


@pytest.mark.slow
def test_pte_parity_gate_refuses_an_all_nan_model(tmp_path):
    pytest.importorskip("executorch", reason="needs the executorch package for .pte export")
    from fermbench.export.pte import export_pte_module
    from fermbench.export.runtimes import RUNTIMES

    runtime = next(name for name, r in RUNTIMES.items() if r.format == "pte")
    with pytest.raises(ExportError, match="outputs NaN or infinity"):
        export_pte_module(all_nan_model(), "nan_cnn", tmp_path, {}, runtime)
    assert not list(tmp_path.glob("*.pte"))


def test_parity_limit_grows_with_the_logits_size_only_beyond_one():
    """fp32 kernels summing in another order differ by ulps of the largest logit: the limit is
    1e-4 for logits up to 1 and scales beyond, so 1.2e-4 passes at logits of 10, not of 0.5."""
    import torch

    from fermbench.export.common import parity_limit

    small, large = torch.tensor([[0.5, -0.2]]), torch.tensor([[10.0, -3.0]])
    assert parity_limit(1e-4, small) == pytest.approx(1e-4)
    assert parity_limit(1e-4, large) == pytest.approx(1e-3)
    assert not 1.2e-4 <= parity_limit(1e-4, small) and 1.2e-4 <= parity_limit(1e-4, large)
