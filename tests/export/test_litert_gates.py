"""LiteRT gates: each catches its fault on a tiny model whose fault is real, and passes the same
model without it."""

from __future__ import annotations

import pytest
import torch

from fermbench.errors import ExportError
from fermbench.export.fer_samples import FerSamples
from litert_tiny import CumsumHead, ExportBranch, TiedLogits, TinyCnn, convert_to, random_sample, require_litert

require_litert()

from fermbench.export.litert import gates  # noqa: E402 - after the skip: it needs the litert packages
from fermbench.export.litert.exporter import convert  # noqa: E402
from fermbench.export.litert.quantize import litert_quantizer, quantize_int8  # noqa: E402


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return TinyCnn(), convert_to(TinyCnn(), tmp_path_factory.mktemp("tiny") / "tiny.tflite")


def test_parity_gate_passes_a_faithful_conversion(tiny):
    model, path = tiny
    assert gates.parity_gate(model, path, "tiny") < 1e-5


def test_parity_gate_refuses_a_model_that_computes_otherwise_when_exported(tmp_path):
    model = ExportBranch()
    path = convert_to(model, tmp_path / "branch.tflite")
    with pytest.raises(ExportError, match=r"differs from eager PyTorch by 0\.5"):
        gates.parity_gate(model, path, "branch")


def test_delegation_gate_counts_every_operator_on_xnnpack(tiny):
    found = gates.delegation_gate(tiny[1], "tiny")
    assert found.reference == 0 and found.delegated >= 3 and found.partitions == 1
    assert {"DEPTHWISE_CONV_2D", "MAX_POOL_2D", "FULLY_CONNECTED"} <= set(found.by_operator)  # 1 input channel


def test_delegation_gate_refuses_an_operator_left_on_reference_kernels(tmp_path):
    path = convert_to(CumsumHead(), tmp_path / "cumsum.tflite")
    with pytest.raises(
        ExportError, match=r"CUMSUM runs on LiteRT's reference kernels, not XNNPACK \(1 of \d+ operators\)"
    ):
        gates.delegation_gate(path, "cumsum")


def test_readable_gate_reads_the_interface(tiny):
    inp, out = gates.readable_gate(tiny[1], "fp32", "tiny")
    assert (inp.shape, inp.dtype, out.shape, out.dtype) == ((1, 1, 48, 48), "float32", (1, 7), "float32")


def test_readable_gate_refuses_a_truncated_file(tiny, tmp_path):
    cut = tmp_path / "cut.tflite"
    cut.write_bytes(tiny[1].read_bytes()[:4096])
    with pytest.raises(ExportError, match=r"cut\.tflite does not load in litert-2\.3\.0"):
        gates.readable_gate(cut, "fp32", "cut")


def test_readable_gate_refuses_an_input_shape_the_runners_do_not_feed(tmp_path):
    path = convert_to(
        torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(32 * 32, 7)),
        tmp_path / "small.tflite",
        example=torch.zeros(1, 1, 32, 32),
    )
    with pytest.raises(ExportError, match=r"takes \[1, 1, 32, 32\] float32, the runners feed one \[1, 1, 48, 48\]"):
        gates.readable_gate(path, "fp32", "small")


def test_readable_gate_refuses_a_float_file_as_int8(tiny):
    with pytest.raises(ExportError, match=r"float32, the runners feed one \[1, 1, 48, 48\] int8"):
        gates.readable_gate(tiny[1], "int8", "tiny")


def _int8_file(model, sample, path):
    quantizer = litert_quantizer()
    path.write_bytes(convert(quantize_int8(model, sample.inputs(), quantizer, path.stem), path.stem, quantizer))
    return path


def test_agreement_gate_refuses_int8_that_loses_top1(tmp_path):
    model, samples = (
        TiedLogits().eval(),
        FerSamples(random_sample("Training", 256), random_sample("PublicTest", seed=1)),
    )
    path = _int8_file(model, samples.calibration, tmp_path / "tied.int8.tflite")
    assert gates.readable_gate(path, "int8", "tied")[0].quantized
    with pytest.raises(ExportError, match=r"agrees with fp32 on \d+\.\d% of 1000 PublicTest images \(gate 98%\)"):
        gates.agreement_gate(model, path, samples.agreement, "tied")


def test_agreement_gate_refuses_too_few_images(tmp_path, tiny):
    with pytest.raises(ExportError, match="needs at least 1000 images, got 10"):
        gates.agreement_gate(tiny[0], tiny[1], random_sample("PublicTest", 10), "tiny")
